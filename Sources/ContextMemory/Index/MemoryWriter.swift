import Foundation

/// The writes of index runs, and the reads an index run needs to decide what changed. One writer
/// at a time per index (``MemoryStorage/write(rebuild:lockTimeout:waiting:_:)`` holds the lock).
///
/// Implemented by ``SQLiteWriter``.
public protocol MemoryWriter: Sendable {
    /// What the index holds about every file, by path, to decide what changed.
    func storedFiles() throws -> [String: StoredFile]
    /// The in-root targets of every stored document's imports and links, by document path, to
    /// follow the references of files that are not parsed again.
    func outgoingReferences() throws -> [String: [OutgoingReference]]
    /// A value an index run recorded (``IndexChanges/metadata``).
    func metadata(_ key: String) throws -> String?
    /// Findings recorded by the last index run, for its report.
    func findings() throws -> [Finding]
    /// Applies one index run's changes atomically: a reader sees the state before or after.
    func apply(_ changes: IndexChanges) throws
    /// Starts a transaction that takes files while they are parsed; ``IndexWriteSession/finish(_:)``
    /// commits it with the rest of the run's changes, atomically as ``apply(_:)``. Until then the
    /// session holds this writer's connection: read what the run needs first.
    func beginWrite() throws -> any IndexWriteSession
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

/// A file as the index remembers it.
public struct StoredFile: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var kind: DocumentKind
    public var stat: FileStat
    public var contentHash: ContentHash
    public var isSkipped: Bool
    public var importDepth: Int?
    /// The last commit time stored for it (seconds since 1970; nil without one).
    public var committed: Int64?
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
    /// Documents whose last commit time changed (seconds since 1970; nil: none), new documents
    /// included: a written document keeps the time it had, a new one has none until set here.
    public var commitTimeUpdates: [(path: String, committed: Int64?)] = []
    /// Findings about the tree rather than one file (symlink loops, import cycles, unreadable folders).
    public var treeFindings: [Finding] = []
    public var metadata: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool {
        removedPaths.isEmpty && upserts.isEmpty && statUpdates.isEmpty && depthUpdates.isEmpty
            && commitTimeUpdates.isEmpty
    }
}
