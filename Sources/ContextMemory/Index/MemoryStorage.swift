/// Where an index lives, and the one way ``MemoryService`` gets readers and writers of it: readers
/// from a pool, a writer only for the length of an index run, with the run's lock held.
///
/// ``SQLiteStorage`` is the one shipped; another backend (PostgreSQL for an organisation-wide
/// deployment) would be another type with its own ``MemoryReader`` and ``MemoryWriter``.
public protocol MemoryStorage: Sendable {
    /// Where the index is, for messages and `ctxmem stats`.
    var location: String { get }

    /// A reader of the index as last committed.
    /// - Throws: ``IndexError`` (missing, outdated, damaged, locked).
    func reader() throws -> any MemoryReader

    /// Runs one index run: `body` gets the writer, with the lock that makes it the only one held
    /// until `body` returns. A run from scratch (the first, `rebuild`, or a damaged index) writes a
    /// new index that replaces the old one only when `body` succeeds; readers see the old one
    /// until then.
    /// - Parameters:
    ///   - lockTimeout: how long to wait for another run's lock.
    ///   - waiting: told once, with the holder's description, when the lock is held elsewhere.
    /// - Throws: ``IndexError``, and what `body` throws (the old index is then kept).
    func write<T: Sendable>(
        rebuild: Bool, lockTimeout: Duration, waiting: (@Sendable (_ holder: String?) -> Void)?,
        _ body: (IndexTarget) async throws -> T
    ) async throws -> IndexWrite<T>

    /// Reads every page of the index (`ctxmem doctor`): the problems found, empty when intact.
    /// - Throws: ``IndexError`` (missing, locked).
    func checkIntegrity() throws -> [String]
}

/// What an index run writes to.
public struct IndexTarget: Sendable {
    public let writer: any MemoryWriter
    /// True when the writer holds an empty index: every file is parsed again.
    public let fromScratch: Bool
    /// The index a run from scratch replaces, while it can still be read (not when it is damaged):
    /// what earlier runs recorded, such as the globs `ctxmem index --include` added.
    public let replaced: (any MemoryReader)?
}

/// An index run's result, and what the storage did around it.
public struct IndexWrite<Value: Sendable>: Sendable {
    public var value: Value
    /// Why the index that was there could not be used, when it was rebuilt for that reason.
    public var replacedDamagedIndex: String?
}
