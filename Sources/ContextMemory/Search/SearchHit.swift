import Foundation

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

    /// `score` as results show it: four significant digits. A word found in at least half of the
    /// sections has BM25's smallest IDF (1e-6), so its scores are tiny but still ordered;
    /// rounding to a fixed number of decimals showed them all as 0.
    public static func displayScore(_ value: Double) -> Double {
        guard value.isFinite, value != 0 else { return 0 }
        let scale = pow(10, 3 - (log10(abs(value))).rounded(.down))
        return (value * scale).rounded() / scale
    }

    public static let highlightOpen = "«"
    public static let highlightClose = "»"
}

/// `{"query": ..., "results": [...]}` written directly: the service answers every search with it,
/// and Foundation's `JSONEncoder` took a fifth of a search's time. Same keys and values as
/// encoding ``SearchHit`` (Schemas/search-results.schema.json), compact and key-sorted.
public enum SearchResultsJSON {
    public static func encode(query: String, hits: [SearchHit]) -> String {
        var out = "{\"query\":" + quoted(query) + ",\"results\":["
        for (index, hit) in hits.enumerated() {
            if index > 0 { out += "," }
            out += "{\"endLine\":\(hit.endLine),\"handle\":" + quoted(hit.handle)
            out += ",\"headingPath\":[" + hit.headingPath.map(quoted).joined(separator: ",") + "]"
            out += ",\"kind\":" + quoted(hit.kind.rawValue) + ",\"path\":" + quoted(hit.path)
            out += ",\"score\":\(hit.score.isFinite ? "\(hit.score)" : "0"),\"snippet\":" + quoted(hit.snippet)
            out +=
                ",\"startLine\":\(hit.startLine),\"tier\":" + quoted(hit.tier.rawValue) + ",\"tokens\":\(hit.tokens)}"
        }
        return out + "]}"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest as is.
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(text.utf8.count + 2)
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            case 0x09: bytes += [0x5C, 0x74]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }
}
