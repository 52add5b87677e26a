import Foundation
import GRDB

/// The index in one SQLite file in WAL mode: readers never wait for the indexer and always see
/// one committed state.
///
/// Each store is one GRDB connection (`DatabaseQueue`). GRDB's `DatabasePool` is not used: opening
/// one creates and drops a table when the WAL file is empty, a schema change that made a
/// concurrent indexer's FTS5 trigger fail with "no such table" (seen here with `ctxmem search`
/// running beside `ctxmem index`). A reading store never writes, not even at open.
///
/// Tables (see `Schemas/index-schema.sql`, kept in step by a test): `documents`, `sections`,
/// `"references"`, `findings`, `meta`, and the FTS5 table `sections_fts` over
/// `sections(path, heading_path, title, body)` with the `ctxmem` tokenizer.
public struct SQLiteStore: MemoryStore {
    private let database: DatabaseQueue
    /// Row lengths for ``FTS5Rank`` (`ctxmem_rank`), read from the index as it grows; shared by
    /// the readers of one index file (``MemoryService`` passes one to each of its stores).
    let sectionLengths: SectionLengths
    public let path: String
    public let mode: Mode

    public enum Mode: Sendable {
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
    /// - Parameter busyTimeout: how long a write waits for another process's write lock.
    /// - Throws: ``IndexError`` when it is missing, locked, damaged or from another version.
    public init(path: String, mode: Mode = .read, busyTimeout: Double = 5) throws {
        try self.init(path: path, mode: mode, busyTimeout: busyTimeout, lengths: SectionLengths())
    }

    /// - Parameter lengths: the row lengths the readers of this index file share.
    init(path: String, mode: Mode, busyTimeout: Double = 5, lengths: SectionLengths) throws {
        sectionLengths = lengths
        self.path = path
        self.mode = mode
        if mode == .read {
            guard FileManager.default.fileExists(atPath: path) else { throw IndexError.missing(path: path) }
            try Self.checkHeader(path)
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
            db.add(function: SQLiteStore.globFunction)
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
        precondition(mode == .build, "finishBuild() ends a store opened with mode: .build")
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
            throw IndexError.database(path: path, detail: "cannot move the new index into place: \(String(cString: strerror(errno)))")
        }
        try sync((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
    }

    private static func sync(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw IndexError.database(path: path, detail: "cannot sync it to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// Damage that can be seen without reading the whole file: not an SQLite file, a size that is
    /// not whole pages (a truncated copy), an empty file. Full checks: ``integrityCheck()``.
    /// - Throws: ``IndexError/corrupt(path:detail:)``.
    static func checkHeader(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }  // opening the database reports it
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return }
        guard info.st_size > 0 else { throw IndexError.corrupt(path: path, detail: "the file is empty") }
        var header = [UInt8](repeating: 0, count: 100)
        guard pread(descriptor, &header, 100, 0) == 100, header.starts(with: Array("SQLite format 3\0".utf8)) else {
            throw IndexError.corrupt(path: path, detail: "not an SQLite database")
        }
        let pageSize = Int(header[16]) << 8 | Int(header[17])
        let bytes = pageSize == 1 ? 65_536 : pageSize
        guard bytes >= 512, bytes & (bytes - 1) == 0, Int(info.st_size) % bytes == 0 else {
            throw IndexError.corrupt(path: path, detail: "\(info.st_size) bytes is not a whole number of \(bytes)-byte pages (a truncated file?)")
        }
    }

    /// The tables every query needs: migrations recorded but a table gone is damage, not a version.
    private static func checkTables(_ db: Database, path: String) throws {
        let names = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
        let missing = ["documents", "sections", "references", "findings", "meta", "sections_fts"].filter { !names.contains($0) }
        guard missing.isEmpty else {
            throw IndexError.corrupt(path: path, detail: "missing table\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))")
        }
    }

    /// SQLite's full `integrity_check` (every page read) and, on a store opened to write, FTS5's
    /// own `integrity-check` of the full-text index against the sections (`ctxmem doctor`).
    /// Returns the problems found; empty when the index is intact.
    public func integrityCheck() throws -> [String] {
        do {
            var problems = try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" } }
            if writes {
                do {
                    // A command in the form of an insert: it changes nothing, and reports by failing.
                    try database.writeWithoutTransaction { db in
                        try db.execute(sql: "INSERT INTO sections_fts(sections_fts, rank) VALUES ('integrity-check', 1)")
                    }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_CORRUPT_VTAB {
                    problems.append("full-text index: \(error.message ?? "\(error.resultCode)")")
                }
            }
            return problems
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// Deletes the index file and its WAL companions (for `--rebuild`).
    public static func remove(at path: String) throws {
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
        if let error = error as? RowDecodingError { return IndexError.corrupt(path: path, detail: "a stored value cannot be read (\(error))") }
        if let error = error as? StoredValue.Unknown { return IndexError.corrupt(path: path, detail: "\(error)") }
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return IndexError.locked(path: path)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
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

    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        try read { _ in try body() }
    }

    // MARK: - Schema

    static let schemaVersion = 1

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: documents, sections, references, findings, FTS5") { db in
            try db.execute(sql: """
                CREATE TABLE documents (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    format TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('indexed', 'skipped')),
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    inode INTEGER NOT NULL,
                    content_hash TEXT NOT NULL,
                    title TEXT,
                    frontmatter TEXT,
                    anchors TEXT NOT NULL DEFAULT '[]',
                    line_count INTEGER NOT NULL,
                    tokens INTEGER NOT NULL CHECK (tokens >= 0),
                    import_depth INTEGER,
                    indexed_at TEXT NOT NULL
                );
                CREATE TABLE sections (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    ordinal INTEGER NOT NULL,
                    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 6),
                    heading_path TEXT NOT NULL,
                    title TEXT NOT NULL,
                    slug TEXT NOT NULL,
                    start_line INTEGER NOT NULL,
                    end_line INTEGER NOT NULL CHECK (end_line >= start_line),
                    tier TEXT NOT NULL CHECK (tier IN ('essential', 'detailed', 'operational')),
                    tier_reason TEXT NOT NULL,
                    tokens INTEGER NOT NULL CHECK (tokens >= 0),
                    content_hash TEXT NOT NULL,
                    body TEXT NOT NULL,
                    UNIQUE (document_id, ordinal)
                );
                CREATE INDEX sections_by_document ON sections(document_id);
                CREATE INDEX sections_by_hash ON sections(content_hash);
                CREATE TABLE "references" (
                    id INTEGER PRIMARY KEY,
                    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    resolved_path TEXT,
                    fragment TEXT,
                    status TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    "column" INTEGER NOT NULL
                );
                CREATE INDEX references_by_document ON "references"(document_id);
                CREATE INDEX references_by_target ON "references"(resolved_path);
                CREATE TABLE findings (
                    id INTEGER PRIMARY KEY,
                    document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
                    rule TEXT NOT NULL,
                    severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
                    path TEXT NOT NULL,
                    line INTEGER,
                    "column" INTEGER,
                    message TEXT NOT NULL
                );
                CREATE INDEX findings_by_document ON findings(document_id);
                CREATE TABLE meta (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """)
            // External-content FTS5 over sections. Deletions and updates reach the index through
            // triggers; insertions are added in bulk at the end of each write (``apply(_:)``):
            // a trigger per inserted row cost ten times more than one INSERT ... SELECT. The update
            // trigger is for completeness: ctxmem never updates a section in place (a changed
            // file's sections are deleted and written again), which FTS5Rank's length cache relies on.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE sections_fts USING fts5(
                    path, heading_path, title, body,
                    content = 'sections', content_rowid = 'id', tokenize = 'ctxmem'
                );
                CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN
                    INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                    VALUES ('delete', old.id, old.path, old.heading_path, old.title, old.body);
                END;
                CREATE TRIGGER sections_fts_update AFTER UPDATE ON sections BEGIN
                    INSERT INTO sections_fts(sections_fts, rowid, path, heading_path, title, body)
                    VALUES ('delete', old.id, old.path, old.heading_path, old.title, old.body);
                    INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                    VALUES (new.id, new.path, new.heading_path, new.title, new.body);
                END;
                """)
            // FTS5 flushes pending terms to a new segment every `hashsize` bytes (1 MiB by
            // default); 32 MiB means fewer, larger segments for a cold index of a large tree.
            try db.execute(sql: "INSERT INTO sections_fts(sections_fts, rank) VALUES('hashsize', 33554432)")
        }
        // Every pack and `ctxmem agents` starts from the essential sections, a small share of all;
        // partial, so that no query filtering on other tiers (search --tier) is steered to it.
        migrator.registerMigration("v2: essential sections") { db in
            try db.execute(sql: "CREATE INDEX sections_essential ON sections(path, ordinal) WHERE tier = 'essential'")
        }
        migrator.registerMigration("v3: index id") { db in
            // Names this index file: generations start again when it is rebuilt, so whatever is
            // cached per generation (a server's packing state) is keyed by both.
            try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('index_id', lower(hex(randomblob(8))))")
        }
        return migrator
    }

    /// The schema as SQLite reports it, for the test that keeps `Schemas/index-schema.sql` current.
    public func schemaDump() throws -> String {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT sql FROM sqlite_master
                WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                ORDER BY type DESC, name
                """).map { $0 + ";" }.joined(separator: "\n")
        }
    }

    static let globFunction = DatabaseFunction("ctxmem_glob", argumentCount: 2, pure: true) { values in
        guard let pattern = String.fromDatabaseValue(values[0]), let path = String.fromDatabaseValue(values[1]) else {
            return false
        }
        return Glob(pattern).matches(path)
    }

    /// Runs `body` while this store holds the write lock (tests use it to check lock handling).
    func holdingWriteLock(_ body: () throws -> Void) throws {
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            try body()
        }
    }

    // MARK: - Reading state

    public func storedFiles() throws -> [String: StoredFile] {
        try read { db in
            var result: [String: StoredFile] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, path, kind, size, mtime_ns, inode, content_hash, status, import_depth FROM documents
                """)
            // Columns by position: this runs on every index run, over every file.
            while let row = try rows.next() {
                let path: String = (try row.decode(atIndex: 1))
                let kindName: String = (try row.decode(atIndex: 2))
                let hashText: String = (try row.decode(atIndex: 6))
                let inode: Int64 = (try row.decode(atIndex: 5))
                let status: String = (try row.decode(atIndex: 7))
                result[path] = StoredFile(
                    id: (try row.decode(atIndex: 0)), path: path, kind: (try StoredValue.decode(DocumentKind.self, kindName)),
                    stat: FileStat(size: (try row.decode(atIndex: 3)), modificationTime: (try row.decode(atIndex: 4)), inode: UInt64(bitPattern: inode)),
                    contentHash: ContentHash(hex: hashText) ?? ContentHash(value: 0),
                    isSkipped: status == "skipped", importDepth: (try row.decode(atIndex: 8)))
            }
            return result
        }
    }

    public func outgoingReferences() throws -> [String: [OutgoingReference]] {
        try read { db in
            var result: [String: [OutgoingReference]] = [:]
            // By document, in source order: each document's list is built whole and stored once
            // (this runs on every index run, over every reference).
            let rows = try Row.fetchCursor(db, sql: """
                SELECT r.document_id, d.path, r.kind, r.resolved_path, r.line
                FROM "references" r JOIN documents d ON d.id = r.document_id
                WHERE r.status = 'in-root' AND r.kind IN ('import', 'link', 'reference-link')
                ORDER BY r.document_id, r.id
                """)
            var document: (id: Int64, path: String)?
            var references: [OutgoingReference] = []
            while let row = try rows.next() {
                let id: Int64 = (try row.decode(atIndex: 0))
                if id != document?.id {
                    if let document, !references.isEmpty { result[document.path] = references }
                    document = (id, (try row.decode(atIndex: 1)))
                    references = []
                }
                guard let target: String = (try row.decode(atIndex: 3)) else { continue }
                let kind = try StoredValue.decode(Reference.Kind.self, try row.decode(atIndex: 2))
                references.append(OutgoingReference(kind: kind, resolvedPath: target, line: (try row.decode(atIndex: 4))))
            }
            if let document, !references.isEmpty { result[document.path] = references }
            return result
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    // MARK: - Writing

    public func apply(_ changes: IndexChanges) throws {
        precondition(writes, "apply(_:) needs a store opened to write")
        do {
            try database.write { db in
                let writer = try TransactionWriter(db, store: self)
                for file in changes.upserts { try writer.upsert(file) }
                try writer.finish(changes)
            }
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    public func beginWrite() throws -> any IndexWriteSession {
        precondition(writes, "beginWrite() needs a store opened to write")
        return SQLiteWriteSession(store: self, database: database)
    }

    /// The writes of one transaction, in the order an index run produces them: files as they
    /// are parsed, then everything that needs the whole run (removals, depths, findings, metadata).
    final class TransactionWriter {
        let db: Database
        let store: SQLiteStore
        let now = ISO8601DateFormatter().string(from: Date())
        let existing: Set<String>
        /// The sections up to this id are in the full-text index (AUTOINCREMENT ids only grow,
        /// so this run's rows are those above the id it started with).
        private var textIndexedThrough: Int64
        private var sectionsNotTextIndexed = 0

        init(_ db: Database, store: SQLiteStore) throws {
            self.db = db
            self.store = store
            existing = Set(try String.fetchAll(db, sql: "SELECT path FROM documents"))
            textIndexedThrough = try Self.lastSectionID(db)
        }

        private static func lastSectionID(_ db: Database) throws -> Int64 {
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'sections'") ?? 0
        }

        func upsert(_ file: IndexedFile) throws {
            try store.upsert(db, file, replacing: existing.contains(file.path), now: now)
            sectionsNotTextIndexed += file.document?.sections.count ?? 0
        }

        /// Adds the sections written since the last call to the full-text index, in one
        /// `INSERT ... SELECT` (a trigger per row was more than twice as slow). With a minimum,
        /// only when about that many are waiting (a count kept as files are written); without,
        /// always, so the end of a run never relies on that count.
        func indexWrittenText(minimumSections: Int = 0, maximumSections: Int? = nil) throws {
            guard minimumSections == 0 || sectionsNotTextIndexed >= minimumSections else { return }
            var through = try Self.lastSectionID(db)
            if let maximumSections { through = min(through, textIndexedThrough + Int64(maximumSections)) }
            try db.execute(sql: """
                INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                SELECT id, path, heading_path, title, body FROM sections WHERE id > ? AND id <= ?
                """, arguments: [textIndexedThrough, through])
            sectionsNotTextIndexed -= Int(through - textIndexedThrough)
            textIndexedThrough = through
        }

        func finish(_ changes: IndexChanges) throws {
            for path in changes.removedPaths {
                try store.deleteContent(db, documentPath: path)
                try db.execute(sql: "DELETE FROM documents WHERE path = ?", arguments: [path])
            }
            try indexWrittenText()
            let touch = try db.cachedStatement(sql: "UPDATE documents SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?")
            for (path, stat) in changes.statUpdates {
                try touch.execute(arguments: [stat.size, stat.modificationTime, Int64(bitPattern: stat.inode), path])
            }
            let depth = try db.cachedStatement(sql: "UPDATE documents SET import_depth = ? WHERE path = ?")
            for (path, value) in changes.depthUpdates {
                try depth.execute(arguments: [value, path])
            }
            try db.execute(sql: "DELETE FROM findings WHERE document_id IS NULL")
            for finding in changes.treeFindings {
                try store.insert(db, finding, documentID: nil)
            }
            for (key, value) in changes.metadata {
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               arguments: [key, value])
            }
        }
    }

    /// Sections are deleted explicitly so the FTS triggers see every row go.
    fileprivate func deleteContent(_ db: Database, documentPath: String) throws {
        for table in ["sections", "\"references\"", "findings"] {
            try db.cachedStatement(sql: "DELETE FROM \(table) WHERE document_id = (SELECT id FROM documents WHERE path = ?)")
                .execute(arguments: [documentPath])
        }
    }

    fileprivate func upsert(_ db: Database, _ file: IndexedFile, replacing: Bool, now: String) throws {
        if replacing { try deleteContent(db, documentPath: file.path) }
        let document = file.document
        let anchors = (try? JSONEncoder().encode(document?.anchors ?? [])).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let tokens = document?.sections.reduce(0) { $0 + $1.tokens } ?? 0
        let statement = try db.cachedStatement(sql: """
            INSERT INTO documents (path, kind, format, status, size, mtime_ns, inode, content_hash, title, frontmatter,
                                   anchors, line_count, tokens, import_depth, indexed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(path) DO UPDATE SET
                kind = excluded.kind, format = excluded.format, status = excluded.status, size = excluded.size,
                mtime_ns = excluded.mtime_ns, inode = excluded.inode, content_hash = excluded.content_hash,
                title = excluded.title, frontmatter = excluded.frontmatter, anchors = excluded.anchors,
                line_count = excluded.line_count, tokens = excluded.tokens, import_depth = excluded.import_depth,
                indexed_at = excluded.indexed_at
            RETURNING id
            """)
        let arguments: StatementArguments = [
            file.path, file.kind.rawValue, (document?.format ?? MemoryFormats.format(of: file.path)).rawValue,
            document == nil ? "skipped" : "indexed", file.stat.size, file.stat.modificationTime,
            Int64(bitPattern: file.stat.inode), file.contentHash.hex, document?.title, document?.frontmatterJSON,
            anchors, document?.lineCount ?? 0, tokens, file.importDepth, now,
        ]
        guard let id = try Int64.fetchOne(statement, arguments: arguments) else {
            throw IndexError.database(path: path, detail: "could not store \(file.path)")
        }
        for finding in file.findings + (document?.findings ?? []) {
            try insert(db, finding, documentID: id)
        }
        guard let document else { return }
        let section = try db.cachedStatement(sql: """
            INSERT INTO sections (document_id, path, ordinal, level, heading_path, title, slug, start_line, end_line,
                                  tier, tier_reason, tokens, content_hash, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for item in document.sections {
            try section.execute(arguments: [
                id, file.path, item.ordinal, item.level, item.headingPath.joined(separator: Self.headingSeparator),
                item.title, item.slug, item.startLine, item.endLine, item.tier.rawValue, item.tierReason, item.tokens,
                item.contentHash.hex, item.text,
            ])
        }
        let reference = try db.cachedStatement(sql: """
            INSERT INTO "references" (document_id, kind, target, resolved_path, fragment, status, line, "column")
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for item in document.references {
            try reference.execute(arguments: [
                id, item.kind.rawValue, item.target, item.resolvedPath, item.fragment, item.status.rawValue, item.line,
                item.column,
            ])
        }
    }

    fileprivate func insert(_ db: Database, _ finding: Finding, documentID: Int64?) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO findings (document_id, rule, severity, path, line, "column", message) VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [
            documentID, finding.rule.rawValue, finding.severity.rawValue, finding.path, finding.line, finding.column, finding.message,
        ])
    }

    /// Heading titles are joined with this in the `heading_path` column.
    static let headingSeparator = " > "

    /// `A > B > C` back into its titles, without Foundation's `components(separatedBy:)` (which
    /// showed in pack profiles: every fetched section has a heading path).
    static func splitHeadingPath(_ joined: String) -> [String] {
        guard !joined.isEmpty else { return [] }
        var parts: [String] = []
        var copy = joined
        copy.withUTF8 { bytes in
            var start = 0, index = 0
            while index + 2 < bytes.count {
                if bytes[index] == 0x20, bytes[index + 1] == 0x3E, bytes[index + 2] == 0x20 {  // " > "
                    parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                    index += 3
                    start = index
                } else {
                    index += 1
                }
            }
            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start...]), as: UTF8.self))
        }
        return parts
    }

    // MARK: - Queries

    /// Runs a search in two queries, so that snippets are made for the results only, not for
    /// every matching section (that made a frequent word cost tens of milliseconds):
    /// ```sql
    /// -- 1. rank (the joins only when a filter needs them)
    /// SELECT sections_fts.rowid, ctxmem_rank(sections_fts, 2.0, 1.0, 5.0, 1.0) AS rank  -- bm25's scores, see FTS5Rank
    /// FROM sections_fts JOIN sections s ON s.id = sections_fts.rowid JOIN documents d ON d.id = s.document_id
    /// WHERE sections_fts MATCH :expression AND s.tier = :tier AND d.kind = :kind AND ctxmem_glob(:glob, s.path)
    /// ORDER BY rank, sections_fts.rowid LIMIT :limit;
    /// -- 2. describe those rows; the snippet is made in Swift from the start of the body
    /// SELECT s.*, d.kind, substr(s.body, 1, 65536)
    /// FROM sections s JOIN documents d ON d.id = s.document_id WHERE s.id IN (:ids);
    /// ```
    /// FTS5's `snippet()` would tokenize each hit's whole body again (a quarter of a search's
    /// time under load); ``Snippet`` stops a window after the first match.
    public func search(_ query: SearchQuery, options: SearchOptions) throws -> [SearchHit] {
        let expression = query.fts5Expression
        var filters = ""
        var arguments: StatementArguments = [expression]
        if let tier = options.tier {
            filters += " AND s.tier = ?"
            _ = arguments.append(contentsOf: [tier.rawValue])
        }
        if let kind = options.kind {
            filters += " AND d.kind = ?"
            _ = arguments.append(contentsOf: [kind.rawValue])
        }
        if let glob = options.pathGlob {
            filters += " AND ctxmem_glob(?, s.path)"
            _ = arguments.append(contentsOf: [glob.pattern])
        }
        let limit = max(1, min(options.limit, SearchOptions.maxLimit))
        _ = arguments.append(contentsOf: [limit])
        let joins = filters.isEmpty ? "" : " JOIN sections s ON s.id = sections_fts.rowid JOIN documents d ON d.id = s.document_id"
        let rankSQL = """
            SELECT sections_fts.rowid, \(FTS5Rank.name)(sections_fts, \(Self.pathWeight), \(Self.headingPathWeight), \(Self.titleWeight), \(Self.bodyWeight)) AS rank
            FROM sections_fts\(joins)
            WHERE sections_fts MATCH ?\(filters)
            ORDER BY rank, sections_fts.rowid
            LIMIT ?
            """
        let rankArguments = arguments
        return try read { db in
            let ranked = try (filters.isEmpty ? Self.topRanked(db, query, limit: limit) : nil)
                ?? Row.fetchAll(db, sql: rankSQL, arguments: rankArguments).map { row -> (Int64, Double) in ((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1))) }
            guard !ranked.isEmpty else { return [] }
            let placeholders = Array(repeating: "?", count: ranked.count).joined(separator: ", ")
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.id, s.path, s.start_line, s.end_line, s.heading_path, s.slug, s.tier, s.tokens, d.kind,
                       substr(s.body, 1, \(Self.snippetScanLimit)) AS head
                FROM sections s JOIN documents d ON d.id = s.document_id
                WHERE s.id IN (\(placeholders))
                """, arguments: StatementArguments(ranked.map(\.0)))
            var byID: [Int64: Row] = [:]
            for row in rows { byID[(try row.decode(forColumn: "id"))] = row }
            return try ranked.compactMap { id, rank -> SearchHit? in
                guard let row = byID[id] else { return nil }
                let path: String = (try row.decode(forColumn: "path"))
                let slug: String = (try row.decode(forColumn: "slug"))
                let headingPath: String = (try row.decode(forColumn: "heading_path"))
                let snippetText = ((try row.decode(forColumn: "head")) as String?).map { Snippet.make(text: $0, query: query) } ?? ""
                return SearchHit(
                    path: path, startLine: (try row.decode(forColumn: "start_line")), endLine: (try row.decode(forColumn: "end_line")),
                    headingPath: Self.splitHeadingPath(headingPath),
                    tier: (try StoredValue.decode(Tier.self, (try row.decode(forColumn: "tier")))),
                    kind: (try StoredValue.decode(DocumentKind.self, (try row.decode(forColumn: "kind")))),
                    score: SearchHit.displayScore(-rank),
                    snippet: Self.cleanSnippet(snippetText),
                    handle: MemoryHandle.make(path: path, slug: slug),
                    tokens: (try row.decode(forColumn: "tokens")))
            }
        }
    }

    /// The `limit` best sections for `query` by ``FTS5TopRanked`` (`ctxmem_top`), best first, as
    /// (id, rank) with rank = -score; nil when it cannot rank this query (then `ctxmem_rank` in SQL).
    static func topRanked(_ db: Database, _ query: SearchQuery, limit: Int) throws -> [(Int64, Double)]? {
        let sql = """
            SELECT \(FTS5TopRanked.name)(sections_fts, ?, ?, \(pathWeight), \(headingPathWeight), \(titleWeight), \(bodyWeight))
            FROM sections_fts WHERE sections_fts MATCH ? LIMIT 1
            """
        guard let row = try Row.fetchOne(db, sql: sql, arguments: [limit, query.fts5Shape, query.fts5Expression]) else {
            return []   // nothing matches
        }
        guard let blob = (try row.decode(atIndex: 0)) as Data? else { return nil }
        return FTS5TopRanked.decode(blob).map { ($0.rowid, $0.rank) }
    }

    /// BM25 column weights: a section's own heading counts most; the headings above it only as
    /// much as body text, so a parent's title does not lift every subsection above the parent.
    /// How much of a section is searched for the match a snippet shows.
    static let snippetScanLimit = 65_536

    static let pathWeight = 2.0
    static let headingPathWeight = 1.0
    static let titleWeight = 5.0
    static let bodyWeight = 1.0

    /// Collapses whitespace so a snippet is one line (bytewise: this runs for every hit).
    static func cleanSnippet(_ raw: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var pendingSpace = false
        let utf8 = Array(raw.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            // ASCII whitespace, and the Unicode line breaks NEL (C2 85), LS and PS (E2 80 A8/A9).
            var breakLength = byte == 0x20 || (0x09...0x0D).contains(byte) ? 1 : 0
            if byte == 0xC2, index + 1 < utf8.count, utf8[index + 1] == 0x85 { breakLength = 2 }
            if byte == 0xE2, index + 2 < utf8.count, utf8[index + 1] == 0x80, utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9 {
                breakLength = 3
            }
            if breakLength > 0 {
                pendingSpace = !bytes.isEmpty
                index += breakLength
                continue
            }
            if pendingSpace {
                bytes.append(0x20)
                pendingSpace = false
            }
            bytes.append(byte)
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func statistics() throws -> IndexStatistics {
        let fileBytes = ["", "-wal"].reduce(0) { total, suffix in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix)
            return total + ((attributes?[.size] as? Int) ?? 0)
        }
        return try read { db in
            let documents = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE status = 'indexed'") ?? 0
            let skipped = try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE status = 'skipped'") ?? 0
            let sections = try Int.fetchOne(db, sql: "SELECT count(*) FROM sections") ?? 0
            let references = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"references\"") ?? 0
            let findings = try Int.fetchOne(db, sql: "SELECT count(*) FROM findings") ?? 0
            var byTier: [String: Int] = [:]
            var tokens = 0
            for row in try Row.fetchAll(db, sql: "SELECT tier, sum(tokens) FROM sections GROUP BY tier") {
                let count: Int = (try row.decode(atIndex: 1)) ?? 0
                byTier[(try row.decode(atIndex: 0))] = count
                tokens += count
            }
            var byKind: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM documents WHERE status = 'indexed' GROUP BY kind") {
                byKind[(try row.decode(atIndex: 0))] = (try row.decode(atIndex: 1))
            }
            let last = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'last_indexed_at'")
            let generation = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'").flatMap { Int($0) } ?? 0
            return IndexStatistics(
                documents: documents, skippedFiles: skipped, sections: sections, references: references, tokens: tokens,
                tokensByTier: byTier, documentsByKind: byKind, findings: findings, indexBytes: fileBytes,
                lastIndexedAt: last, generation: generation, databasePath: path)
        }
    }

    public func findings() throws -> [Finding] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT rule, severity, path, line, "column", message FROM findings ORDER BY path, line, "column", rule
                """).map { row in
                Finding(rule: (try StoredValue.decode(RuleID.self, (try row.decode(forColumn: "rule")))), severity: (try StoredValue.decode(Finding.Severity.self, (try row.decode(forColumn: "severity")))),
                        path: (try row.decode(forColumn: "path")), line: (try row.decode(forColumn: "line")), column: (try row.decode(forColumn: "column")), message: (try row.decode(forColumn: "message")))
            }
        }
    }
}

/// `memory://PATH#slug`: a stable name for a file or a section of it.
public enum MemoryHandle {
    public static let scheme = "memory://"

    public static func make(path: String, slug: String) -> String {
        // Most paths are plain ASCII that needs no escaping: skip Foundation for them.
        let plain = path.utf8.allSatisfy { $0 < 0x80 && plainASCII[Int($0)] }
        let encodedPath = plain ? path : path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return scheme + encodedPath + (slug.isEmpty ? "" : "#" + slug)
    }

    /// ASCII bytes `allowed` keeps as they are (letters, digits, `-._~/` and the like).
    private static let plainASCII: [Bool] = (0..<128).map { code in
        let scalar = Unicode.Scalar(UInt8(code))
        return allowed.contains(scalar) && scalar != " "
    }

    private static let allowed: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.remove(charactersIn: "#?%")
        return set
    }()
}

/// An index run's writes streamed into one transaction on the store's connection (GRDB's writer
/// thread) while parsing goes on in other tasks: a cold index no longer parses first and writes
/// after. Nothing is visible to readers before ``finish(_:)`` commits.
final class SQLiteWriteSession: IndexWriteSession {
    private enum Item: Sendable {
        case upsert(IndexedFile)
        case finish(IndexChanges)
        case cancel
    }

    private let items = BlockingQueue<Item>()
    private let transaction: Task<Void, any Error>
    private let path: String

    init(store: SQLiteStore, database: DatabaseQueue) {
        path = store.path
        let items = items
        transaction = Task {
            try await database.write { db in
                let writer = try SQLiteStore.TransactionWriter(db, store: store)
                while true {
                    var item = items.nextIfReady()
                    if item == nil {
                        // Nothing parsed yet: spend the wait indexing the text written so far, so
                        // that little full-text work is left for the end, when parsing is over. At
                        // most 8,000 sections at a time: a longer pause lets parsed files pile up in
                        // memory (unbounded: +40 MB peak at 50 MB); much smaller ones make FTS5
                        // write many small segments (2,000: a 25% larger index).
                        try writer.indexWrittenText(minimumSections: 1_000, maximumSections: 8_000)
                        item = items.next()
                    }
                    switch item! {
                    case let .upsert(file): try writer.upsert(file)
                    case let .finish(changes): try writer.finish(changes); return
                    case .cancel: throw CancellationError()
                    }
                }
            }
        }
    }

    func upsert(_ file: IndexedFile) {
        items.append(.upsert(file))
    }

    func finish(_ changes: IndexChanges) async throws {
        items.append(.finish(changes))
        do {
            try await transaction.value
        } catch {
            throw SQLiteStore.translate(error, path: path)
        }
    }

    func cancel() async {
        items.append(.cancel)
        _ = try? await transaction.value
    }
}

/// A FIFO whose reader blocks until an element arrives (the writer thread waits for parsed files).
final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    // Every access to `elements` holds `condition`'s lock.
    private let condition = NSCondition()
    private var elements: [Element] = []
    private var head = 0

    func append(_ element: Element) {
        condition.lock()
        elements.append(element)
        condition.signal()
        condition.unlock()
    }

    /// The next element if one is waiting, without blocking.
    func nextIfReady() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        guard head < elements.count else { return nil }
        let element = elements[head]
        head += 1
        return element
    }

    func next() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while head == elements.count { condition.wait() }
        let element = elements[head]
        head += 1
        if head > 1024, head * 2 > elements.count {
            elements.removeFirst(head)
            head = 0
        }
        return element
    }
}

/// Names stored in enum columns (tier, kind, severity, reference kind and status), read back: a
/// name ctxmem never writes is damage, not a reason to guess a default.
enum StoredValue {
    struct Unknown: Error, CustomStringConvertible {
        let type: String
        let value: String
        var description: String { "unknown \(type) '\(value)' in the index" }
    }

    static func decode<Value: RawRepresentable>(_ type: Value.Type, _ raw: String) throws -> Value where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else { throw Unknown(type: "\(Value.self)", value: raw) }
        return value
    }
}
