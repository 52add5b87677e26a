/// Filters and limits of a search.
public struct SearchOptions: Sendable, Equatable {
    public var limit: Int
    public var tier: Tier?
    public var pathGlob: Glob?
    public var kind: DocumentKind?

    public static let maxLimit = 1_000

    public init(limit: Int = 10, tier: Tier? = nil, pathGlob: Glob? = nil, kind: DocumentKind? = nil) {
        self.limit = limit
        self.tier = tier
        self.pathGlob = pathGlob
        self.kind = kind
    }
}

/// One matching section.
public struct SearchHit: Sendable, Codable, Equatable {
    public var path: String
    public var startLine: Int
    public var endLine: Int
    public var headingPath: [String]
    public var tier: Tier
    public var kind: DocumentKind
    /// BM25 relevance, higher is better (headings weigh more than body text).
    public var score: Double
    /// A few lines around the match; matched words are wrapped in `«` and `»`.
    public var snippet: String
    /// `memory://PATH#slug`: what `ctxmem read` and the service accept to fetch the section.
    public var handle: String
    public var tokens: Int

    public static let highlightOpen = "«"
    public static let highlightClose = "»"
}
