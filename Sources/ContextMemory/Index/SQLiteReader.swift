import Foundation
import GRDB

/// The reading side of the SQLite index: search, sections, documents, references and findings,
/// on a read-only connection (it never writes, not even at open). ``SQLiteStorage`` hands readers
/// out from its pool; each runs one call at a time.
public struct SQLiteReader: MemoryReader {
    let connection: SQLiteConnection

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    var path: String { connection.path }
    /// Row lengths for ``FTS5Rank``, shared by the readers of one index file.
    var sectionLengths: SectionLengths { connection.sectionLengths }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try connection.read(body)
    }

    public func snapshot<T>(_ body: () throws -> T) throws -> T {
        try read { _ in try body() }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any MemoryReader) throws -> T) async throws -> T {
        do {
            // GRDB runs this on the connection's own dispatch queue, in a read-only transaction;
            // the reads `body` makes join it (``SQLiteConnection/read(_:)`` is reentrant).
            return try await connection.database.read { _ in try body(self) }
        } catch {
            throw SQLiteConnection.translate(error, path: path)
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
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
        let expression = FTS5Query.expression(query)
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
        let joins =
            filters.isEmpty
            ? "" : " JOIN sections s ON s.id = sections_fts.rowid JOIN documents d ON d.id = s.document_id"
        let rankSQL = """
            SELECT sections_fts.rowid, \(FTS5Rank.name)(sections_fts, \(FTS5Query.columnWeights)) AS rank
            FROM sections_fts\(joins)
            WHERE sections_fts MATCH ?\(filters)
            ORDER BY rank, sections_fts.rowid
            LIMIT ?
            """
        let rankArguments = arguments
        return try read { db in
            let ranked =
                try (filters.isEmpty ? Self.topRanked(db, query, limit: limit) : nil)
                ?? Row.fetchAll(db, sql: rankSQL, arguments: rankArguments).map { row -> (Int64, Double) in
                    ((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1)))
                }
            guard !ranked.isEmpty else { return [] }
            let placeholders = Array(repeating: "?", count: ranked.count).joined(separator: ", ")
            let rows = try SearchHitRow.fetchAll(
                db,
                sql: """
                    SELECT \(SearchHitRow.selection)
                    FROM sections s JOIN documents d ON d.id = s.document_id
                    WHERE s.id IN (\(placeholders))
                    """, arguments: StatementArguments(ranked.map(\.0)))
            var byID: [Int64: SearchHitRow] = [:]
            for row in rows { byID[row.id] = row }
            return ranked.compactMap { id, rank -> SearchHit? in
                guard let row = byID[id] else { return nil }
                var hit = row.hit
                hit.score = SearchHit.displayScore(-rank)
                hit.snippet = Self.cleanSnippet(row.head.map { Snippet.make(text: $0, query: query) } ?? "")
                return hit
            }
        }
    }

    /// The `limit` best sections for `query` by ``FTS5TopRanked`` (`ctxmem_top`), best first, as
    /// (id, rank) with rank = -score; nil when it cannot rank this query (then `ctxmem_rank` in SQL).
    static func topRanked(_ db: Database, _ query: SearchQuery, limit: Int) throws -> [(Int64, Double)]? {
        let sql = """
            SELECT \(FTS5TopRanked.name)(sections_fts, ?, ?, \(FTS5Query.columnWeights))
            FROM sections_fts WHERE sections_fts MATCH ? LIMIT 1
            """
        guard
            let row = try Row.fetchOne(
                db, sql: sql, arguments: [limit, FTS5Query.shape(query), FTS5Query.expression(query)])
        else {
            return []  // nothing matches
        }
        guard let blob = (try row.decode(atIndex: 0)) as Data? else { return nil }
        return FTS5TopRanked.decode(blob).map { ($0.rowid, $0.rank) }
    }

    /// How much of a section is searched for the match a snippet shows.
    static let snippetScanLimit = 65_536

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
            if byte == 0xE2, index + 2 < utf8.count, utf8[index + 1] == 0x80,
                utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9
            {
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
            for row in try Row.fetchAll(
                db, sql: "SELECT kind, count(*) FROM documents WHERE status = 'indexed' GROUP BY kind")
            {
                byKind[(try row.decode(atIndex: 0))] = (try row.decode(atIndex: 1))
            }
            let last = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'last_indexed_at'")
            let generation =
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'generation'").flatMap { Int($0) } ?? 0
            return IndexStatistics(
                documents: documents, skippedFiles: skipped, sections: sections, references: references, tokens: tokens,
                tokensByTier: byTier, documentsByKind: byKind, findings: findings, indexBytes: fileBytes,
                lastIndexedAt: last, generation: generation, databasePath: path)
        }
    }

    public func findings() throws -> [Finding] {
        try read { db in try FindingRow.fetchAll(db, sql: FindingRow.query).map(\.finding) }
    }
}
