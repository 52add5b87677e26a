import Foundation

/// Reads of one index: what search, packs, `read`, `tiers`, `agents` and the audit need. Several
/// calls inside ``snapshot(_:)`` (or ``read(_:)``, for servers) see one committed state even while
/// an index run commits.
///
/// Implemented by ``SQLiteReader``; a ``MemoryStorage`` hands readers out. Query syntax (FTS5 for
/// SQLite) stays inside the implementation: callers pass a parsed ``SearchQuery``.
public protocol MemoryReader: Sendable {
    func search(_ query: SearchQuery, options: SearchOptions) throws -> [SearchHit]
    func statistics() throws -> IndexStatistics
    /// Findings recorded by the last index run, file by file.
    func findings() throws -> [Finding]
    /// A value the last index run recorded (`generation`, `fingerprint`, `last_indexed_at`, `root`).
    func metadata(_ key: String) throws -> String?
    /// Runs `body` with every read of this reader in one read transaction, so that several queries
    /// see one committed state even while an index run commits (a pack reads a dozen times).
    /// Blocks the calling thread: a command-line run's way.
    func snapshot<T>(_ body: () throws -> T) throws -> T
    /// ``snapshot(_:)`` for servers: `body` runs on this reader's own connection thread, so no
    /// thread of Swift's cooperative pool waits for SQLite or for the work done inside (a pack).
    func read<T: Sendable>(_ body: @escaping @Sendable (any MemoryReader) throws -> T) async throws -> T

    // Packs, tiers, agents and read: sections with their document's kind, in path and document order.
    func sections(ids: [Int64]) throws -> [SectionRecord]
    /// Sections of these files (bodies only when asked: counting tokens needs none).
    func sections(inPaths paths: [String], withBody: Bool) throws -> [SectionRecord]
    func sections(tier: Tier, withBody: Bool) throws -> [SectionRecord]
    /// Sections whose path matches any of `globs` (bodies only when asked: a glob can match a lot).
    func sections(matchingAny globs: [String], withBody: Bool, limit: Int?) throws -> [SectionRecord]
    /// The best `limit` sections for `query` by BM25 (higher is better).
    func rank(_ query: SearchQuery, limit: Int) throws -> [(id: Int64, score: Double)]
    /// Indexed documents, optionally of one kind, in path order.
    func documents(kind: DocumentKind?) throws -> [StoredDocument]
    /// Indexed documents whose frontmatter has any of these top-level keys (`agent`, `agents`).
    func documents(withFrontmatterKeys keys: [String]) throws -> [StoredDocument]
    func document(path: String) throws -> StoredDocument?
    /// In-root references of these kinds, as (document path, target path); from every document when `fromPaths` is nil.
    func referenceEdges(kinds: [Reference.Kind], fromPaths: [String]?) throws -> [(from: String, to: String)]

    // The audit: every reference as written, the anchors of every document, repeated sections.
    /// Every reference of the given kinds from indexed documents, by path, line and column.
    func references(kinds: [Reference.Kind]) throws -> [StoredReference]
    /// The references `path` writes and those that resolve to it, by writing document and line.
    func references(touching path: String) throws -> [StoredReference]
    /// The anchors (heading slugs, `{#id}`s, HTML ids) of every indexed document, by path.
    func anchorsByPath() throws -> [String: Set<String>]
    /// Sections whose text contains `text` (with their bodies), such as `ctxmem-ignore` comments.
    func sections(containing text: String) throws -> [SectionRecord]
    /// Sections of at least `minimumTokens` whose text occurs in more than one document.
    func repeatedSections(minimumTokens: Int) throws -> [RepeatedSection]
}

/// A reference as the index holds it, with the document that writes it.
public struct StoredReference: Sendable, Equatable {
    public var path: String
    public var documentKind: DocumentKind
    public var kind: Reference.Kind
    public var target: String
    public var resolvedPath: String?
    public var fragment: String?
    public var status: Reference.Status
    public var line: Int
    public var column: Int
}

/// A section whose text another document repeats (``MemoryReader/repeatedSections(minimumTokens:)``).
public struct RepeatedSection: Sendable, Equatable {
    public var path: String
    public var slug: String
    public var startLine: Int
    public var headingPath: [String]
    public var tokens: Int
    public var contentHash: String
    /// The file's inode: two paths to one file (a symlink) do not repeat each other.
    public var inode: UInt64
}

extension MemoryReader {
    public func sections(inPaths paths: [String]) throws -> [SectionRecord] {
        try sections(inPaths: paths, withBody: true)
    }
    public func sections(tier: Tier) throws -> [SectionRecord] { try sections(tier: tier, withBody: true) }
}

/// A section as the index holds it, with its document's kind and place in the import tree.
public struct SectionRecord: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var ordinal: Int
    public var level: Int
    public var headingPath: [String]
    public var slug: String
    public var startLine: Int
    public var endLine: Int
    public var tier: Tier
    public var tierReason: String
    public var tokens: Int
    public var contentHash: String
    public var kind: DocumentKind
    public var importDepth: Int?
    /// The file's modification time, nanoseconds since 1970 (differs between clones of a commit).
    public var modified: Int64
    /// The file's last commit time, seconds since 1970: the same on every clone of a commit; nil
    /// when the root is not in a git work tree (or a shallow clone) and for a file no commit has
    /// (``GitHistory``).
    public var committed: Int64?
    /// The section's text, heading line included (nil when not fetched).
    public var body: String?
    /// `memory://path#slug` (made once: packs use it many times per section).
    public let handle: String

    public init(
        id: Int64, path: String, ordinal: Int, level: Int, headingPath: [String], slug: String, startLine: Int,
        endLine: Int, tier: Tier, tierReason: String, tokens: Int, contentHash: String, kind: DocumentKind,
        importDepth: Int?, modified: Int64, committed: Int64? = nil, body: String?
    ) {
        self.id = id
        self.path = path
        self.ordinal = ordinal
        self.level = level
        self.headingPath = headingPath
        self.slug = slug
        self.startLine = startLine
        self.endLine = endLine
        self.tier = tier
        self.tierReason = tierReason
        self.tokens = tokens
        self.contentHash = contentHash
        self.kind = kind
        self.importDepth = importDepth
        self.modified = modified
        self.committed = committed
        self.body = body
        handle = MemoryHandle.make(path: path, slug: slug)
    }

    public var title: String { headingPath.last ?? "" }
}

/// A document as the index holds it (without its sections).
public struct StoredDocument: Sendable, Equatable {
    public var path: String
    public var kind: DocumentKind
    /// The frontmatter mapping, decoded once when the row is read.
    public var frontmatter: [String: JSONValue]?
    public var importDepth: Int?
    /// The file's modification time, nanoseconds since 1970.
    public var modified: Int64
    /// The file's last commit time, seconds since 1970 (nil: see ``SectionRecord/committed``).
    public var committed: Int64?
    public var lineCount: Int
    public var tokens: Int
}

/// `ctxmem stats`.
public struct IndexStatistics: Sendable, Codable, Equatable {
    public var documents: Int
    public var skippedFiles: Int
    public var sections: Int
    public var references: Int
    public var tokens: Int
    public var tokensByTier: [String: Int]
    public var documentsByKind: [String: Int]
    public var findings: Int
    public var indexBytes: Int
    public var lastIndexedAt: String?
    public var generation: Int
    public var databasePath: String
}
