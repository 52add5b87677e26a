import Foundation
import GRDB

/// One GRDB connection to the index file: opening (pragmas per mode, migrations, damage checks),
/// the error translation every query goes through, and the file operations of a rebuild.
/// ``SQLiteReader`` and ``SQLiteWriter`` each hold one; neither can do the other's work.
///
/// The index is one SQLite file in WAL mode: readers never wait for the indexer and always see
/// one committed state. Each connection is a `DatabaseQueue`. GRDB's `DatabasePool` is not used: opening
/// one creates and drops a table when the WAL file is empty, a schema change that made a
/// concurrent indexer's FTS5 trigger fail with "no such table" (seen here with `ctxmem search`
/// running beside `ctxmem index`). A reading store never writes, not even at open.
///
/// Tables (see `Schemas/index-schema.sql`, kept in step by a test): `documents`, `sections`,
/// `"references"`, `findings`, `meta`, and the FTS5 table `sections_fts` over
/// `sections(path, heading_path, title, body)` with the `ctxmem` tokenizer.
struct SQLiteConnection: Sendable {
    let database: DatabaseQueue
    /// Row lengths for ``FTS5Rank`` (`ctxmem_rank`), read from the index as it grows; shared by
    /// the readers of one index file (``SQLiteStorage`` passes one to each of its readers).
    let sectionLengths: SectionLengths
    let path: String
    let mode: Mode

    enum Mode: Sendable {
        /// Queries only, on a read-only connection; the index must exist, be current and look intact.
        case read
        /// Creates the index when missing and migrates it; takes the write lock only to write.
        case write
        /// A new index file built from scratch beside the live one (a cold index or `--rebuild`),
        /// written without a journal: a failed build is thrown away whole, never used. ``finishBuild()``
        /// makes it a WAL database, ready to be renamed into place.
        case build
    }

    var writes: Bool { mode != .read }

    /// Opens the index at `path`.
    /// - Parameters:
    ///   - busyTimeout: how long a write waits for another process's write lock.
    ///   - lengths: the row lengths the readers of this index file share.
    /// - Throws: ``IndexError`` when it is missing, locked, damaged or from another version.
    init(path: String, mode: Mode, busyTimeout: Double = 5, lengths: SectionLengths = SectionLengths()) throws {
        sectionLengths = lengths
        self.path = path
        self.mode = mode
        if mode == .read {
            guard FileManager.default.fileExists(atPath: path) else { throw IndexError.missing(path: path) }
            try Self.checkSize(path)
        }
        if mode != .read {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw IndexError.database(path: path, detail: "cannot create its folder: \(error)")
                }
            }
        }
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        // A reader never writes, so it never checkpoints or deletes a WAL when it closes: after a
        // rebuild renamed a new file into place, an old reader closing must not remove the new
        // file's WAL by name.
        configuration.readonly = mode == .read
        let lengths = sectionLengths
        configuration.prepareDatabase { db in
            db.add(tokenizer: FTS5MemoryTokenizer.self)
            FTS5Rank.register(db, lengths: lengths)
            FTS5TopRanked.register(db, lengths: lengths)
            db.add(function: SQLiteConnection.globFunction)
            HeadingPathColumn.registerTextFunction(db)
            db.add(function: HeadingPathColumn.migrationFunction)
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            switch mode {
            case .build:
                try database.writeWithoutTransaction { db in
                    // Nothing reads this file until it is complete, and a failed build is deleted:
                    // no journal, no syncs until finishBuild() (the WAL cost a third of a cold run).
                    _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = OFF")
                    try db.execute(sql: "PRAGMA synchronous = OFF")
                    try db.execute(sql: "PRAGMA cache_size = -65536")
                }
                try Self.migrator.migrate(database)
            case .write:
                try database.writeWithoutTransaction { db in
                    // WAL is a property of the file: set once, by the first writer.
                    if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                        _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                    }
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                    // A cold index is one large transaction: keep its pages in memory instead of
                    // spilling them to the WAL half-way (64 MiB, well inside the RSS budget).
                    try db.execute(sql: "PRAGMA cache_size = -65536")
                    // A cold index writes the whole database through the WAL; without a limit the
                    // WAL file keeps that size after the checkpoint (disk use doubled).
                    try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
                }
                if try !database.read({ try Self.migrator.hasCompletedMigrations($0) }) {
                    try Self.migrator.migrate(database)
                }
            case .read:
                // Packs and frequent-word searches read much of the index: keep more pages between
                // queries of a long-lived reader (`serve`, the benchmark: 8 MiB), and map the first 64 MiB
                // instead of copying pages through pread. Mapped pages count as resident: mapping
                // all of a 250 MB index took RSS past 450 MB; 64 MiB keeps most of the gain (a 200k
                // pack of 50 MB: 370 ms unmapped, 230 ms with 64 MiB, 217 ms with 256 MiB).
                // The first read of the file: SQLite checks its header (SQLITE_NOTADB when it is not a database).
                try Self.checkSize(path, pageSize: try database.read { try Int.fetchOne($0, sql: "PRAGMA page_size") })
                try database.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA cache_size = -\(Self.readerCacheKiB)")
                    try db.execute(sql: "PRAGMA mmap_size = \(Self.readerMapBytes)")
                }
                let current = try database.read { db -> Bool in
                    try Self.migrator.hasCompletedMigrations(db) && !(try Self.migrator.hasBeenSuperseded(db))
                }
                guard current else {
                    throw IndexError.outdated(path: path)
                }
                try database.read { db in try Self.checkTables(db, path: path) }
            }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Ends a ``Mode/build`` store: the file becomes a WAL database (as every writer after expects),
    /// is synced to disk and closed. Rename it into place with ``replace(_:with:)``.
    func finishBuild() throws {
        do {
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            }
            try database.close()
        } catch {
            throw Self.translate(error, path: path)
        }
        try Self.sync(path)
    }

    /// Puts the built file at `built` in place of the index at `path`, atomically: a reader opens
    /// either the old file or the new one, never a mix. The old file's `-wal` and `-shm` go first,
    /// so the new file never meets them (the caller holds the ``WriterLock``, so no writer has
    /// frames in that WAL; readers of the old file keep their open descriptors).
    static func replace(_ path: String, with built: String) throws {
        for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
        guard rename(built, path) == 0 else {
            throw IndexError.database(
                path: path, detail: "cannot move the new index into place: \(String(cString: strerror(errno)))")
        }
        try sync(
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw IndexError.database(path: path, detail: "cannot sync it to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// Damage that can be seen without reading the whole file: an empty file, or (once open) a size
    /// that is not whole pages (a truncated copy); SQLite itself reports a file that is not a
    /// database. Full checks: ``integrityCheck()``.
    ///
    /// Never through a descriptor of our own: closing any descriptor of the index file drops every
    /// POSIX lock this process holds on it, the shared locks of open connections included. Another
    /// process's connection then believes it is the last one, checkpoints, and deletes the WAL and
    /// its index under ours (which then fail with short reads until reopened). SQLite's own
    /// descriptors are managed so that this never happens ("How To Corrupt An SQLite Database", 2.2).
    /// - Throws: ``IndexError/corrupt(path:detail:)``.
    static func checkSize(_ path: String, pageSize: Int? = nil) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // opening the database reports it
        guard info.st_size > 0 else { throw IndexError.corrupt(path: path, detail: "the file is empty") }
        // Every page size is a power of two from 512: before the header is read, that much is known.
        let pageSize = pageSize ?? 512
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0, Int(info.st_size) % pageSize == 0 else {
            throw IndexError.corrupt(
                path: path,
                detail: "\(info.st_size) bytes is not a whole number of \(pageSize)-byte pages (a truncated file?)")
        }
    }

    /// The tables every query needs: migrations recorded but a table gone is damage, not a version.
    private static func checkTables(_ db: Database, path: String) throws {
        let names = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        let missing = ["documents", "sections", "references", "findings", "meta", "sections_fts"].filter {
            !names.contains($0)
        }
        guard missing.isEmpty else {
            throw IndexError.corrupt(
                path: path, detail: "missing table\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))")
        }
    }

    /// SQLite's full `integrity_check` (every page read) and, on a store opened to write, FTS5's
    /// own `integrity-check` of the full-text index against the sections (`ctxmem doctor`).
    /// Returns the problems found; empty when the index is intact.
    func integrityCheck() throws -> [String] {
        do {
            var problems = try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
            }
            if writes {
                do {
                    // A command in the form of an insert: it changes nothing, and reports by failing.
                    try database.writeWithoutTransaction { db in
                        try db.execute(
                            sql: "INSERT INTO sections_fts(sections_fts, rank) VALUES ('integrity-check', 1)")
                    }
                } catch let error as DatabaseError
                    where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_CORRUPT_VTAB
                {
                    problems.append("full-text index: \(error.message ?? "\(error.resultCode)")")
                }
            }
            return problems
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Deletes the index file and its WAL companions (for `--rebuild`).
    static func remove(at path: String) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            do {
                try FileManager.default.removeItem(atPath: path + suffix)
            } catch {
                throw IndexError.database(path: path, detail: "cannot remove it: \(error)")
            }
        }
    }

    /// SQLite page cache of a reading connection.
    static let readerCacheKiB = 8_192
    /// How much of the index file a reading connection maps.
    static let readerMapBytes = 64 * 1_048_576

    static func translate(_ error: any Error, path: String) -> any Error {
        // A value of the wrong type or an unknown name in a column: written by something else, or damaged.
        if let error = error as? RowDecodingError {
            return IndexError.corrupt(path: path, detail: "a stored value cannot be read (\(error))")
        }
        if let error = error as? StoredValue.Unknown { return IndexError.corrupt(path: path, detail: "\(error)") }
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return IndexError.locked(path: path)
        case .SQLITE_NOTADB:
            return IndexError.corrupt(path: path, detail: "not an SQLite database")
        case .SQLITE_CORRUPT:
            return IndexError.corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_IOERR:
            return IndexError.database(path: path, detail: error.message ?? "\(error.resultCode)")
        default:
            if let message = error.message, message.contains("no such table") || message.contains("malformed") {
                return IndexError.corrupt(path: path, detail: message)
            }
            return IndexError.database(path: path, detail: error.message ?? "\(error)")
        }
    }

    /// Runs `body` in a read-only transaction, or in the one ``snapshot(_:)`` holds open.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            // Reentrant, so that the reads inside a snapshot run on its connection and transaction
            // (GRDB's `read` traps when nested). The connection still runs one call at a time.
            return try database.unsafeReentrantRead { db in
                if db.isInsideTransaction { return try db.readOnly { try body(db) } }
                var result: T?
                try db.readOnly {
                    try db.inSavepoint {
                        result = try body(db)
                        return .commit
                    }
                }
                return result!
            }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    static let globFunction = DatabaseFunction("ctxmem_glob", argumentCount: 2, pure: true) { values in
        guard let pattern = String.fromDatabaseValue(values[0]), let path = String.fromDatabaseValue(values[1]) else {
            return false
        }
        return Glob(pattern).matches(path)
    }

    /// Runs `body` while this connection holds the write lock (tests use it to check lock handling).
    func holdingWriteLock(_ body: () throws -> Void) throws {
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            try body()
        }
    }
}
