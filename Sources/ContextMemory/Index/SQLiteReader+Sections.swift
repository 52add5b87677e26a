import Foundation
import GRDB

// The queries packs, `ctxmem tiers`, `ctxmem agents` and `ctxmem read` need: sections with their
// document's kind and import depth, ranked by FTS5, or picked by tier, path or glob.
extension SQLiteReader {
    private func records(
        where condition: String, arguments: StatementArguments = [], withBody: Bool = true,
        limit: Int? = nil
    ) throws -> [SectionRecord] {
        let sql = """
            SELECT \(SectionRow.selection(withBody: withBody))
            FROM sections s JOIN documents d ON d.id = s.document_id
            WHERE \(condition) ORDER BY s.path, s.ordinal\(limit.map { " LIMIT \($0)" } ?? "")
            """
        return try read { db in
            // A cursor decodes each row straight from the statement; `fetchAll` would copy every
            // row first (a third of a pack's reading).
            var result: [SectionRecord] = []
            let rows = try SectionRow.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { result.append(row.record) }
            return result
        }
    }

    public func sections(ids: [Int64]) throws -> [SectionRecord] {
        try records(column: "s.id", in: ids, withBody: true)
    }

    public func sections(inPaths paths: [String], withBody: Bool) throws -> [SectionRecord] {
        try records(column: "s.path", in: paths, withBody: withBody)
    }

    /// Sections whose `column` is one of `values`, in chunks under SQLite's host-parameter limit.
    private func records(column: String, in values: [some DatabaseValueConvertible], withBody: Bool) throws
        -> [SectionRecord]
    {
        var result: [SectionRecord] = []
        for start in stride(from: 0, to: values.count, by: 900) {
            let chunk = values[start..<min(values.count, start + 900)]
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            result += try records(
                where: "\(column) IN (\(placeholders))", arguments: StatementArguments(Array(chunk)), withBody: withBody
            )
        }
        return result
    }

    public func sections(containing text: String) throws -> [SectionRecord] {
        try records(where: "instr(s.body, ?) > 0", arguments: [text])
    }

    public func sections(tier: Tier, withBody: Bool) throws -> [SectionRecord] {
        // A literal, not a parameter: only then can SQLite use the partial index of essentials.
        try records(where: "s.tier = '\(tier.rawValue)'", withBody: withBody)
    }

    public func sections(matchingAny globs: [String], withBody: Bool, limit: Int?) throws -> [SectionRecord] {
        guard !globs.isEmpty else { return [] }
        // Globs are matched here against each document's path once, not by SQL for every section row.
        let compiled = globs.map(Glob.init)
        let paths = try read { db in try String.fetchAll(db, sql: "SELECT path FROM documents WHERE status = 'indexed'")
        }
        .filter { path in compiled.contains { $0.matches(path) } }
        var result = try records(column: "s.path", in: paths.sorted(), withBody: withBody)
            .sorted { ($0.path, $0.ordinal) < ($1.path, $1.ordinal) }
        if let limit, result.count > limit { result.removeLast(result.count - limit) }
        return result
    }

    public func rank(_ query: SearchQuery, limit: Int) throws -> [(id: Int64, score: Double)] {
        let sql = """
            SELECT rowid, -\(FTS5Rank.name)(sections_fts, \(FTS5Query.columnWeights)) AS score
            FROM sections_fts WHERE sections_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?
            """
        let expression = FTS5Query.expression(query)
        return try read { db in
            if let ranked = try Self.topRanked(db, query, limit: limit) {
                return ranked.map { (id: $0.0, score: -$0.1) }
            }
            var result: [(id: Int64, score: Double)] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [expression, limit])
            while let row = try rows.next() {
                result.append(((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1))))
            }
            return result
        }
    }

    public func documents(kind: DocumentKind?) throws -> [StoredDocument] {
        let condition = kind == nil ? "" : " AND kind = ?"
        let arguments: StatementArguments = kind.map { [$0.rawValue] } ?? []
        return try read { db in
            try DocumentRow.fetchAll(
                db,
                sql: """
                    SELECT \(DocumentRow.selection) FROM documents WHERE status = 'indexed'\(condition) ORDER BY path
                    """, arguments: arguments
            ).map(\.document)
        }
    }

    public func documents(withFrontmatterKeys keys: [String]) throws -> [StoredDocument] {
        guard !keys.isEmpty else { return [] }
        // JSON paths of top-level keys, quoted: a key may hold any character.
        let condition = keys.map { _ in "json_type(frontmatter, ?) IS NOT NULL" }.joined(separator: " OR ")
        let arguments = StatementArguments(keys.map { "$.\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" })
        return try read { db in
            try DocumentRow.fetchAll(
                db,
                sql: """
                    SELECT \(DocumentRow.selection) FROM documents
                    WHERE status = 'indexed' AND frontmatter IS NOT NULL AND (\(condition)) ORDER BY path
                    """, arguments: arguments
            ).map(\.document)
        }
    }

    public func document(path: String) throws -> StoredDocument? {
        try read { db in
            try DocumentRow.fetchOne(
                db,
                sql: """
                    SELECT \(DocumentRow.selection) FROM documents WHERE path = ? AND status = 'indexed'
                    """, arguments: [path])?.document
        }
    }

    public func referenceEdges(kinds: [Reference.Kind], fromPaths paths: [String]?) throws -> [(
        from: String, to: String
    )] {
        let kindList = kinds.map { "'\($0.rawValue)'" }.joined(separator: ",")
        var sql = """
            SELECT DISTINCT d.path, r.resolved_path FROM "references" r JOIN documents d ON d.id = r.document_id
            WHERE r.kind IN (\(kindList)) AND r.status = 'in-root' AND r.resolved_path IS NOT NULL
            """
        var arguments: StatementArguments = []
        if let paths {
            guard !paths.isEmpty else { return [] }
            // Past SQLite's host-parameter limit, fetch every edge and filter here.
            if paths.count > 900 {
                let wanted = Set(paths)
                return try referenceEdges(kinds: kinds, fromPaths: nil).filter { wanted.contains($0.from) }
            }
            sql += " AND d.path IN (\(Array(repeating: "?", count: paths.count).joined(separator: ",")))"
            arguments = StatementArguments(paths)
        }
        let statement = sql + " ORDER BY 1, 2"
        let query = arguments
        return try read { db in
            var result: [(from: String, to: String)] = []
            let rows = try Row.fetchCursor(db, sql: statement, arguments: query)
            while let row = try rows.next() {
                result.append(((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1))))
            }
            return result
        }
    }
}
