import Foundation
import GRDB

/// The floor under a cold index's time: the same sections' text put into a bare FTS5 table (same
/// columns, same `ctxmem` tokenizer and hash size, one transaction, no journal), with nothing else done: no
/// walk, no parsing, no other table. `ctxmem-bench --ceiling` compares a cold index with it, so the
/// figure says how much of a cold run is work beyond what full-text indexing itself costs.
public enum FTS5IngestCeiling {
    /// Copies the sections of the index at `databasePath` into a new file at `scratchPath` and
    /// returns the seconds the insert took, and the number of sections.
    /// - Throws: ``IndexError`` when the index cannot be read or the scratch file written.
    public static func measure(indexAt databasePath: String, scratchPath: String) throws -> (
        seconds: Double, sections: Int
    ) {
        let source = try SQLiteConnection(path: databasePath, mode: .read)
        let rows = try source.read { db in
            try Row.fetchAll(db, sql: "SELECT path, heading_path, title, body FROM sections_text ORDER BY id")
                .map { [$0[0] as String, $0[1] as String, $0[2] as String, $0[3] as String] }
        }
        try SQLiteConnection.remove(at: scratchPath)
        defer { try? SQLiteConnection.remove(at: scratchPath) }
        var configuration = GRDB.Configuration()
        configuration.prepareDatabase { db in db.add(tokenizer: FTS5MemoryTokenizer.self) }
        do {
            let scratch = try DatabaseQueue(path: scratchPath, configuration: configuration)
            try scratch.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = OFF")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                try db.execute(sql: "PRAGMA cache_size = -65536")
                try db.execute(
                    sql:
                        "CREATE VIRTUAL TABLE sections_fts USING fts5(path, heading_path, title, body, tokenize = 'ctxmem')"
                )
                // The index's own FTS5 setting (SQLiteSchema), so only the other work differs.
                try db.execute(sql: "INSERT INTO sections_fts(sections_fts, rank) VALUES('hashsize', 33554432)")
            }
            let clock = ContinuousClock()
            let elapsed = try clock.measure {
                try scratch.write { db in
                    let insert = try db.makeStatement(
                        sql: "INSERT INTO sections_fts(path, heading_path, title, body) VALUES (?, ?, ?, ?)")
                    for row in rows { try insert.execute(arguments: StatementArguments(row)) }
                }
            }
            try scratch.close()
            return (elapsed.seconds, rows.count)
        } catch {
            throw SQLiteConnection.translate(error, path: scratchPath)
        }
    }
}
