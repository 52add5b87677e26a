import Foundation
import Synchronization

/// The index in one SQLite file (`<root>/.ctxmem/index.sqlite` by default): readers from a pool,
/// one writer per index run behind a ``WriterLock`` on `<index>.lock`.
///
/// A first index, a rebuild and the rebuild of a damaged index are written without a journal in
/// `<index>.building` and renamed into place when complete: a run killed half-way leaves the
/// previous index, or none, never a partial one. Other runs change the index in place, in one
/// SQLite transaction.
public struct SQLiteStorage: MemoryStorage {
    public let path: String
    private let readers: ReaderPool

    /// - Parameter readerConnections: connections for reads, handed out in turn; a server answering
    ///   requests in parallel wants one per core, a command-line run needs one.
    public init(path: String, readerConnections: Int = 1) {
        self.path = path
        readers = ReaderPool(size: max(1, readerConnections))
    }

    public var location: String { path }

    public func reader() throws -> any MemoryReader {
        try sqliteReader()
    }

    /// A reader from the pool, as its own type (tests and the benchmark look inside).
    func sqliteReader() throws -> SQLiteReader {
        try readers.reader(at: path)
    }

    public func write<T: Sendable>(
        rebuild: Bool, lockTimeout: Duration, waiting: (@Sendable (_ holder: String?) -> Void)?,
        _ body: (IndexTarget) async throws -> T
    ) async throws -> IndexWrite<T> {
        let lock = try await WriterLock.acquire(for: path, timeout: lockTimeout) { waiting?($0) }
        defer { withExtendedLifetime(lock) {} }

        let building = path + ".building"
        try? SQLiteConnection.remove(at: building)  // left by a run that was killed
        let exists = FileManager.default.fileExists(atPath: path)
        var damage: String?
        if exists, !rebuild {
            damage = Self.damage(at: path)
            if damage == nil {
                do {
                    let writer = SQLiteWriter(connection: try SQLiteConnection(path: path, mode: .write))
                    return IndexWrite(
                        value: try await body(IndexTarget(writer: writer, fromScratch: false, replaced: nil)))
                } catch let IndexError.corrupt(_, detail) {
                    damage = detail  // found by a statement: rebuilt below
                }
            }
        }
        let replaced =
            exists && damage == nil
            ? (try? SQLiteConnection(path: path, mode: .read)).map(SQLiteReader.init(connection:)) : nil
        do {
            let writer = SQLiteWriter(connection: try SQLiteConnection(path: building, mode: .build))
            let value = try await body(IndexTarget(writer: writer, fromScratch: true, replaced: replaced))
            try writer.finishBuild()
            try SQLiteConnection.replace(path, with: building)
            return IndexWrite(value: value, replacedDamagedIndex: damage)
        } catch {
            try? SQLiteConnection.remove(at: building)
            throw error
        }
    }

    public func checkIntegrity() throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { throw IndexError.missing(path: path) }
        if let damage = Self.damage(at: path) { return [damage] }
        do {
            return try SQLiteWriter(connection: try SQLiteConnection(path: path, mode: .write)).integrityCheck()
        } catch let IndexError.corrupt(_, detail) {
            return [detail]  // so damaged that the check itself stopped
        }
    }

    /// Why the index file at `path` cannot be used, as far as opening it shows; nil when it looks intact.
    static func damage(at path: String) -> String? {
        do {
            _ = try SQLiteConnection(path: path, mode: .read)
            return nil
        } catch let IndexError.corrupt(_, detail) {
            return detail
        } catch {
            return nil  // missing, outdated or locked: an incremental run handles or reports those
        }
    }
}

/// The reading connections of one ``SQLiteStorage``, shared by its copies: up to `size`, opened as
/// requests come and handed out in turn, so concurrent requests of a server do not queue on one
/// connection (each GRDB `DatabaseQueue` runs one statement at a time). Opened again when the
/// index file was replaced (a rebuild renames a new file into place: a new inode).
final class ReaderPool: Sendable {
    private let cached = Mutex<(readers: [SQLiteReader], inode: UInt64)?>(nil)
    private let turn = Atomic<Int>(0)
    private let size: Int

    init(size: Int) { self.size = size }

    func reader(at path: String) throws -> SQLiteReader {
        var info = stat()
        guard stat(path, &info) == 0 else {
            cached.withLock { $0 = nil }
            throw IndexError.missing(path: path)
        }
        let inode = UInt64(info.st_ino)
        let index = turn.add(1, ordering: .relaxed).newValue
        return try cached.withLock { entry in
            if var current = entry, current.inode == inode {
                guard current.readers.count < size, index % size >= current.readers.count else {
                    return current.readers[index % current.readers.count]
                }
                // The readers of one file share its row lengths (read once, not once per reader).
                let reader = SQLiteReader(
                    connection: try SQLiteConnection(
                        path: path, mode: .read, lengths: current.readers[0].sectionLengths))
                current.readers.append(reader)
                entry = current
                return reader
            }
            let reader = SQLiteReader(connection: try SQLiteConnection(path: path, mode: .read))
            entry = ([reader], inode)
            return reader
        }
    }
}

extension SQLiteReader {
    /// A reader of the index at `path`, outside any pool (tests and the benchmark).
    init(path: String) throws {
        self.init(connection: try SQLiteConnection(path: path, mode: .read))
    }
}

extension SQLiteWriter {
    /// A writer of the index at `path`, without the run's lock (tests of lock handling).
    init(path: String, busyTimeout: Double = 5) throws {
        self.init(connection: try SQLiteConnection(path: path, mode: .write, busyTimeout: busyTimeout))
    }
}
