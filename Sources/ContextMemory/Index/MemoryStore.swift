import Foundation

/// The index behind one protocol, so another backend (PostgreSQL for an organisation-wide
/// deployment) is an added type, not a rewrite. ``SQLiteStore`` is the one shipped.
public protocol MemoryStore: Sendable {
    /// What the index holds about every file, by path, to decide what changed.
    func storedFiles() throws -> [String: StoredFile]
    /// The in-root targets of every stored document's imports and links, by document path, to
    /// follow the references of files that are not parsed again.
    func outgoingReferences() throws -> [String: [OutgoingReference]]
    /// Applies one index run's changes atomically: a reader sees the state before or after.
    func apply(_ changes: IndexChanges) throws
    /// Starts a transaction that takes files while they are parsed; ``IndexWriteSession/finish(_:)``
    /// commits it with the rest of the run's changes, atomically as ``apply(_:)``. Until then the
    /// session holds this store's connection: read what the run needs first, or use another store.
    func beginWrite() throws -> any IndexWriteSession
    func search(_ query: SearchQuery, options: SearchOptions) throws -> [SearchHit]
    func statistics() throws -> IndexStatistics
    /// Findings recorded by the last index run, file by file.
    func findings() throws -> [Finding]
    /// A value the last index run recorded (`generation`, `fingerprint`, `last_indexed_at`, `root`).
    func metadata(_ key: String) throws -> String?
    /// Runs `body` with every read of this store in one read transaction, so that several queries
    /// see one committed state even while an index run commits (a pack reads a dozen times).
    func snapshot<T>(_ body: () throws -> T) throws -> T

    // Packs, tiers, agents and read: sections with their document's kind, in path and document order.
    func sections(ids: [Int64]) throws -> [SectionRecord]
    /// Sections of these files (bodies only when asked: counting tokens needs none).
    func sections(inPaths paths: [String], withBody: Bool) throws -> [SectionRecord]
    func sections(tier: Tier, withBody: Bool) throws -> [SectionRecord]
    /// Sections whose path matches any of `globs` (bodies only when asked: a glob can match a lot).
    func sections(matchingAny globs: [String], withBody: Bool, limit: Int?) throws -> [SectionRecord]
    /// The best `limit` sections for `query` by BM25 (higher is better).
    func rank(_ query: SearchQuery, limit: Int) throws -> [(id: Int64, score: Double)]
    /// Indexed documents, optionally of one kind or with `word` in their frontmatter JSON.
    func documents(kind: DocumentKind?, frontmatterMentioning word: String?) throws -> [StoredDocument]
    func document(path: String) throws -> StoredDocument?
    /// In-root references of these kinds, as (document path, target path); from every document when `fromPaths` is nil.
    func referenceEdges(kinds: [Reference.Kind], fromPaths: [String]?) throws -> [(from: String, to: String)]

    // The audit: every reference as written, the anchors of every document, repeated sections.
    /// Every reference of the given kinds from indexed documents, by path, line and column.
    func references(kinds: [Reference.Kind]) throws -> [StoredReference]
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

/// A section whose text another document repeats (``MemoryStore/repeatedSections(minimumTokens:)``).
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

extension MemoryStore {
    public func sections(inPaths paths: [String]) throws -> [SectionRecord] { try sections(inPaths: paths, withBody: true) }
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
    /// The file's modification time, nanoseconds since 1970.
    public var modified: Int64
    /// The section's text, heading line included (nil when not fetched).
    public var body: String?
    /// `memory://path#slug` (made once: packs use it many times per section).
    public let handle: String

    public init(id: Int64, path: String, ordinal: Int, level: Int, headingPath: [String], slug: String, startLine: Int,
                endLine: Int, tier: Tier, tierReason: String, tokens: Int, contentHash: String, kind: DocumentKind,
                importDepth: Int?, modified: Int64, body: String?) {
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
        self.body = body
        handle = MemoryHandle.make(path: path, slug: slug)
    }

    public var title: String { headingPath.last ?? "" }
}

/// A document as the index holds it (without its sections).
public struct StoredDocument: Sendable, Equatable {
    public var path: String
    public var kind: DocumentKind
    public var frontmatterJSON: String?
    public var importDepth: Int?
    public var modified: Int64
    public var lineCount: Int
    public var tokens: Int

    public var frontmatter: [String: JSONValue]? {
        guard let frontmatterJSON, let data = frontmatterJSON.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: data)
    }
}

/// One index run's transaction, fed while parsing continues.
public protocol IndexWriteSession: Sendable {
    /// Queues a new or changed file; returns at once.
    func upsert(_ file: IndexedFile)
    /// Writes `changes` (its `upserts` are ignored: send those with ``upsert(_:)``) and commits.
    func finish(_ changes: IndexChanges) async throws
    /// Rolls back everything queued.
    func cancel() async
}

/// A file's identity on disk, to skip reading files that did not change.
public struct FileStat: Sendable, Equatable, Hashable {
    public var size: Int
    /// Modification time in nanoseconds since 1970.
    public var modificationTime: Int64
    public var inode: UInt64

    public init(size: Int, modificationTime: Int64, inode: UInt64) {
        self.size = size
        self.modificationTime = modificationTime
        self.inode = inode
    }

    /// A `stat` time in nanoseconds, saturating: ext4 stores dates past 2262 (`touch -d 2300-01-01`),
    /// which overflow Int64 nanoseconds; such a file keeps the largest time instead of trapping.
    public static func nanoseconds(seconds: Int64, nanoseconds: Int64) -> Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(nanoseconds)
        return overflowAgain ? (seconds < 0 ? .min : .max) : sum
    }
}

/// A file as the index remembers it.
public struct StoredFile: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var kind: DocumentKind
    public var stat: FileStat
    public var contentHash: ContentHash
    public var isSkipped: Bool
    public var importDepth: Int?
}

/// A reference of a stored document that discovery follows.
public struct OutgoingReference: Sendable, Equatable {
    public var kind: Reference.Kind
    public var resolvedPath: String
    public var line: Int
}

/// One file to write (new or changed).
public struct IndexedFile: Sendable {
    public var path: String
    public var kind: DocumentKind
    public var stat: FileStat
    public var contentHash: ContentHash
    /// nil when the file was skipped (binary, too large, unreadable); `findings` says why.
    public var document: Document?
    public var findings: [Finding]
    public var importDepth: Int?
}

/// Everything one index run changes, applied in one transaction.
public struct IndexChanges: Sendable {
    public var removedPaths: [String] = []
    public var upserts: [IndexedFile] = []
    /// Unchanged content under a new modification time or inode (a touch, a checkout).
    public var statUpdates: [(path: String, stat: FileStat)] = []
    /// Documents whose import depth or kind changed without their content changing.
    public var depthUpdates: [(path: String, depth: Int?)] = []
    /// Findings about the tree rather than one file (symlink loops, import cycles, unreadable folders).
    public var treeFindings: [Finding] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool {
        removedPaths.isEmpty && upserts.isEmpty && statUpdates.isEmpty && depthUpdates.isEmpty
    }
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
