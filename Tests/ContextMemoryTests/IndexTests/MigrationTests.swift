import Foundation
import GRDB
import Testing

@testable import ContextMemory

@Suite("Migrations of existing indexes")
struct MigrationTests {
    /// An index file as ctxmem wrote it before heading paths were JSON (migrations v1-v3), with one
    /// document whose sections carry " > "-joined heading paths.
    static func versionThreeIndex() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("index.sqlite").path
        let queue = try olderVersionQueue(path: path)
        try SQLiteConnection.migrator.migrate(queue, upTo: "v3: index id")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO documents (id, path, kind, format, status, size, mtime_ns, inode, content_hash, line_count,
                                           tokens, indexed_at)
                    VALUES (1, 'CLAUDE.md', 'claude-md', 'markdown', 'indexed', 10, 0, 1, '0000000000000000', 9, 30, 'now');
                    INSERT INTO sections (document_id, path, ordinal, level, heading_path, title, slug, start_line,
                                          end_line, tier, tier_reason, tokens, content_hash, body)
                    VALUES (1, 'CLAUDE.md', 0, 0, '', '', '', 1, 2, 'essential', 'root', 10, 'a', 'preamble words'),
                           (1, 'CLAUDE.md', 1, 1, 'Build', 'Build', 'build', 3, 5, 'essential', 'root', 10, 'b', '# Build'),
                           (1, 'CLAUDE.md', 2, 2, 'Build > Peering tests', 'Peering tests', 'peering-tests', 6, 9,
                            'essential', 'root', 10, 'c', '## Peering tests');
                    INSERT INTO sections_fts(rowid, path, heading_path, title, body)
                    SELECT id, path, heading_path, title, body FROM sections;
                    """)
        }
        try queue.close()
        return path
    }

    /// A connection to an index file that migrates it no further than asked (the functions the
    /// migrations call registered, as ``SQLiteConnection`` does).
    static func olderVersionQueue(path: String) throws -> DatabaseQueue {
        var configuration = GRDB.Configuration()
        configuration.prepareDatabase { db in
            db.add(tokenizer: FTS5MemoryTokenizer.self)
            HeadingPathColumn.registerTextFunction(db)
            db.add(function: HeadingPathColumn.migrationFunction)
        }
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    @Test("v5 adds documents.committed to a v4 index, NULL until an index run reads git; readers see nil")
    func commitTimesColumn() throws {
        let path = try Self.versionThreeIndex()
        let queue = try Self.olderVersionQueue(path: path)
        try SQLiteConnection.migrator.migrate(queue, upTo: "v4: heading paths as JSON arrays")
        #expect(try queue.read { try $0.columns(in: "documents") }.map(\.name).contains("committed") == false)
        try queue.close()
        #expect(throws: IndexError.outdated(path: path)) { try SQLiteReader(path: path) }

        let writer = try SQLiteWriter(path: path)
        #expect(try writer.integrityCheck() == [])
        let column = try writer.connection.read { db in
            try db.columns(in: "documents").first { $0.name == "committed" }
        }
        #expect(column?.type == "INTEGER")
        #expect(column?.isNotNull == false)
        #expect(try writer.storedFiles()["CLAUDE.md"].map { $0.committed == nil } == true)
        let reader = try SQLiteReader(path: path)
        #expect(try reader.sections(inPaths: ["CLAUDE.md"]).map(\.committed) == [nil, nil, nil])
        #expect(try reader.document(path: "CLAUDE.md").map { $0.committed == nil } == true)
    }

    @Test("v4 turns \" > \"-joined heading paths into JSON arrays; search, ranks and FTS5's check agree after")
    func headingPathsToJSON() throws {
        let path = try Self.versionThreeIndex()
        // A reader refuses the old version (it never writes); a writer migrates.
        #expect(throws: IndexError.outdated(path: path)) { try SQLiteReader(path: path) }
        let writer = try SQLiteWriter(path: path)
        #expect(try writer.integrityCheck() == [])
        let stored = try writer.connection.read { db in
            try String.fetchAll(db, sql: "SELECT heading_path FROM sections ORDER BY ordinal")
        }
        #expect(stored == ["[]", #"["Build"]"#, #"["Build","Peering tests"]"#])

        let reader = try SQLiteReader(path: path)
        #expect(
            try reader.sections(inPaths: ["CLAUDE.md"]).map(\.headingPath) == [
                [], ["Build"], ["Build", "Peering tests"],
            ])
        // The heading words are still searched (the index holds the joined text, as before).
        let hits = try reader.search(try SearchQuery(parsing: "build peering"), options: SearchOptions(limit: 5))
        #expect(hits.map(\.handle) == ["memory://CLAUDE.md#peering-tests"])
        #expect(hits.first?.headingPath == ["Build", "Peering tests"])
    }

    @Test("ctxmem_heading_text gives the full-text index the joined titles: empty for a preamble, NULL for damage")
    func headingTextFunction() throws {
        let queue = try DatabaseQueue()
        try queue.inDatabase { HeadingPathColumn.registerTextFunction($0) }
        let cases: [(String, String?)] = [
            ("[]", ""), (#"["A"]"#, "A"), (#"["Build","Peering > tests"]"#, "Build > Peering > tests"),
            (#"["tab\tx","\u00e9"]"#, "tab\tx > é"), ("A > B", nil), ("[1]", nil),
        ]
        for (json, expected) in cases {
            let text = try queue.read { db in
                try String.fetchOne(db, sql: "SELECT ctxmem_heading_text(?)", arguments: [json])
            }
            #expect(text == expected, "\(json)")
        }
        #expect(try queue.read { try Bool.fetchOne($0, sql: "SELECT ctxmem_heading_text('[]') IS NOT NULL") } == true)
    }
}
