import Foundation
import GRDB

/// The writing side of the SQLite index: what an index run reads to decide what changed, and its
/// transaction. Opened by ``SQLiteStorage`` on the live index (an incremental run) or on a new
/// file built beside it (a cold index or a rebuild).
public struct SQLiteWriter: MemoryWriter {
    let connection: SQLiteConnection

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    var path: String { connection.path }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        try connection.read(body)
    }

    // MARK: - Reading state

    public func storedFiles() throws -> [String: StoredFile] {
        try read { db in
            var result: [String: StoredFile] = [:]
            let rows = try StoredFileRow.fetchCursor(db, sql: "SELECT \(StoredFileRow.selection) FROM documents")
            while let row = try rows.next() { result[row.file.path] = row.file }
            return result
        }
    }

    public func outgoingReferences() throws -> [String: [OutgoingReference]] {
        try read { db in
            var result: [String: [OutgoingReference]] = [:]
            // By document, in source order: each document's list is built whole and stored once
            // (this runs on every index run, over every reference).
            let rows = try Row.fetchCursor(
                db,
                sql: """
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
                references.append(
                    OutgoingReference(kind: kind, resolvedPath: target, line: (try row.decode(atIndex: 4))))
            }
            if let document, !references.isEmpty { result[document.path] = references }
            return result
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    public func findings() throws -> [Finding] {
        try read { db in try FindingRow.fetchAll(db, sql: FindingRow.query).map(\.finding) }
    }

    /// SQLite's full `integrity_check` (every page read) and FTS5's own `integrity-check` of the
    /// full-text index against the sections (`ctxmem doctor`). Empty when the index is intact.
    func integrityCheck() throws -> [String] {
        try connection.integrityCheck()
    }

    /// Ends a writer on a file built from scratch: see ``SQLiteConnection/finishBuild()``.
    func finishBuild() throws {
        try connection.finishBuild()
    }

    // MARK: - Writing

    public func apply(_ changes: IndexChanges) throws {
        do {
            try connection.database.write { db in
                let writer = try TransactionWriter(db, store: self)
                for file in changes.upserts { try writer.upsert(file) }
                try writer.finish(changes)
            }
        } catch {
            throw SQLiteConnection.translate(error, path: path)
        }
    }

    public func beginWrite() throws -> any IndexWriteSession {
        SQLiteWriteSession(writer: self)
    }

    /// The writes of one transaction, in the order an index run produces them: files as they
    /// are parsed, then everything that needs the whole run (removals, depths, findings, metadata).
    final class TransactionWriter {
        let db: Database
        let store: SQLiteWriter
        let now = ISO8601DateFormatter().string(from: Date())
        let existing: Set<String>
        /// The sections up to this id are in the full-text index (AUTOINCREMENT ids only grow,
        /// so this run's rows are those above the id it started with).
        private var textIndexedThrough: Int64
        private var sectionsNotTextIndexed = 0

        init(_ db: Database, store: SQLiteWriter) throws {
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
            try db.execute(
                sql: """
                    INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                    SELECT id, path, heading_path, title, body FROM sections_text WHERE id > ? AND id <= ?
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
            let touch = try db.cachedStatement(
                sql: "UPDATE documents SET size = ?, mtime_ns = ?, inode = ? WHERE path = ?")
            for (path, stat) in changes.statUpdates {
                try touch.execute(arguments: [stat.size, stat.modificationTime, Int64(bitPattern: stat.inode), path])
            }
            let depth = try db.cachedStatement(sql: "UPDATE documents SET import_depth = ? WHERE path = ?")
            for (path, value) in changes.depthUpdates {
                try depth.execute(arguments: [value, path])
            }
            let committed = try db.cachedStatement(sql: "UPDATE documents SET committed = ? WHERE path = ?")
            for (path, value) in changes.commitTimeUpdates {
                try committed.execute(arguments: [value, path])
            }
            try db.execute(sql: "DELETE FROM findings WHERE document_id IS NULL")
            for finding in changes.treeFindings {
                try store.insert(db, finding, documentID: nil)
            }
            for (key, value) in changes.metadata {
                try db.execute(
                    sql:
                        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [key, value])
            }
        }
    }

    /// Sections are deleted explicitly so the FTS triggers see every row go.
    private func deleteContent(_ db: Database, documentPath: String) throws {
        for table in ["sections", "\"references\"", "findings"] {
            try db.cachedStatement(
                sql: "DELETE FROM \(table) WHERE document_id = (SELECT id FROM documents WHERE path = ?)"
            )
            .execute(arguments: [documentPath])
        }
    }

    private func upsert(_ db: Database, _ file: IndexedFile, replacing: Bool, now: String) throws {
        if replacing { try deleteContent(db, documentPath: file.path) }
        let document = file.document
        let anchors =
            (try? JSONEncoder().encode(document?.anchors ?? [])).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        let tokens = document?.sections.reduce(0) { $0 + $1.tokens } ?? 0
        // `committed` is not written here: a changed file keeps its commit time, a new one has none
        // until the run's ``IndexChanges/commitTimeUpdates`` set it.
        let statement = try db.cachedStatement(
            sql: """
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
            (document == nil ? DocumentStatus.skipped : .indexed).rawValue, file.stat.size, file.stat.modificationTime,
            Int64(bitPattern: file.stat.inode), file.contentHash.hex, document?.title,
            FrontmatterColumn.encode(document?.frontmatter),
            anchors, document?.lineCount ?? 0, tokens, file.importDepth, now,
        ]
        guard let id = try Int64.fetchOne(statement, arguments: arguments) else {
            throw IndexError.database(path: path, detail: "could not store \(file.path)")
        }
        for finding in file.findings + (document?.findings ?? []) {
            try insert(db, finding, documentID: id)
        }
        guard let document else { return }
        let section = try db.cachedStatement(
            sql: """
                INSERT INTO sections (document_id, path, ordinal, level, heading_path, title, slug, start_line, end_line,
                                      tier, tier_reason, tokens, content_hash, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for item in document.sections {
            try section.execute(arguments: [
                id, file.path, item.ordinal, item.level, HeadingPathColumn.encode(item.headingPath),
                item.title, item.slug, item.startLine, item.endLine, item.tier.rawValue, item.tierReason, item.tokens,
                item.contentHash.hex, item.text,
            ])
        }
        let reference = try db.cachedStatement(
            sql: """
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

    private func insert(_ db: Database, _ finding: Finding, documentID: Int64?) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO findings (document_id, rule, severity, path, line, "column", message) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        try statement.execute(arguments: [
            documentID, finding.rule.rawValue, finding.severity.rawValue, finding.path, finding.line, finding.column,
            finding.message,
        ])
    }
}
