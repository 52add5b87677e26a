import Foundation
import GRDB

// The queries packs, `ctxmem tiers`, `ctxmem agents` and `ctxmem read` need: sections with their
// document's kind and import depth, ranked by FTS5, or picked by tier, path or glob.
extension SQLiteStore {
    private static let sectionColumns = """
        s.id, s.path, s.ordinal, s.level, s.heading_path, s.slug, s.start_line, s.end_line, s.tier, \
        s.tier_reason, s.tokens, s.content_hash, d.kind, d.import_depth, d.mtime_ns
        """

    private static func record(_ row: Row, withBody: Bool) throws -> SectionRecord {
        let headingPath: String = (try row.decode(atIndex: 4))
        return SectionRecord(
            id: (try row.decode(atIndex: 0)), path: (try row.decode(atIndex: 1)), ordinal: (try row.decode(atIndex: 2)), level: (try row.decode(atIndex: 3)),
            headingPath: splitHeadingPath(headingPath),
            slug: (try row.decode(atIndex: 5)), startLine: (try row.decode(atIndex: 6)), endLine: (try row.decode(atIndex: 7)),
            tier: (try StoredValue.decode(Tier.self, (try row.decode(atIndex: 8)))), tierReason: (try row.decode(atIndex: 9)), tokens: (try row.decode(atIndex: 10)), contentHash: (try row.decode(atIndex: 11)),
            kind: (try StoredValue.decode(DocumentKind.self, (try row.decode(atIndex: 12)))), importDepth: (try row.decode(atIndex: 13)), modified: (try row.decode(atIndex: 14)),
            body: withBody ? (try row.decode(atIndex: 15)) : nil)
    }

    private func records(where condition: String, arguments: StatementArguments = [], withBody: Bool = true,
                         limit: Int? = nil) throws -> [SectionRecord] {
        let sql = """
            SELECT \(Self.sectionColumns)\(withBody ? ", s.body" : "")
            FROM sections s JOIN documents d ON d.id = s.document_id
            WHERE \(condition) ORDER BY s.path, s.ordinal\(limit.map { " LIMIT \($0)" } ?? "")
            """
        return try read { db in
            // A cursor decodes each row straight from the statement; `fetchAll` would copy every
            // row first (a third of a pack's reading).
            var result: [SectionRecord] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { result.append(try Self.record(row, withBody: withBody)) }
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
    private func records(column: String, in values: [some DatabaseValueConvertible], withBody: Bool) throws -> [SectionRecord] {
        var result: [SectionRecord] = []
        for start in stride(from: 0, to: values.count, by: 900) {
            let chunk = values[start..<min(values.count, start + 900)]
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            result += try records(where: "\(column) IN (\(placeholders))", arguments: StatementArguments(Array(chunk)), withBody: withBody)
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
        let paths = try read { db in try String.fetchAll(db, sql: "SELECT path FROM documents WHERE status = 'indexed'") }
            .filter { path in compiled.contains { $0.matches(path) } }
        var result = try records(column: "s.path", in: paths.sorted(), withBody: withBody)
            .sorted { ($0.path, $0.ordinal) < ($1.path, $1.ordinal) }
        if let limit, result.count > limit { result.removeLast(result.count - limit) }
        return result
    }

    public func rank(_ query: SearchQuery, limit: Int) throws -> [(id: Int64, score: Double)] {
        let sql = """
            SELECT rowid, -\(FTS5Rank.name)(sections_fts, \(Self.pathWeight), \(Self.headingPathWeight), \(Self.titleWeight), \(Self.bodyWeight)) AS score
            FROM sections_fts WHERE sections_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?
            """
        let expression = query.fts5Expression
        return try read { db in
            if let ranked = try Self.topRanked(db, query, limit: limit) { return ranked.map { (id: $0.0, score: -$0.1) } }
            var result: [(id: Int64, score: Double)] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: [expression, limit])
            while let row = try rows.next() { result.append(((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1)))) }
            return result
        }
    }

    public func documents(kind: DocumentKind?, frontmatterMentioning word: String?) throws -> [StoredDocument] {
        var conditions = ["status = 'indexed'"]
        var arguments: StatementArguments = []
        if let kind {
            conditions.append("kind = ?")
            _ = arguments.append(contentsOf: [kind.rawValue])
        }
        if let word {
            conditions.append("instr(frontmatter, ?) > 0")
            _ = arguments.append(contentsOf: [word])
        }
        let sql = """
            SELECT path, kind, frontmatter, import_depth, mtime_ns, line_count, tokens FROM documents
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY path
            """
        let query = arguments
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: query).map { row in
                StoredDocument(path: (try row.decode(atIndex: 0)), kind: (try StoredValue.decode(DocumentKind.self, (try row.decode(atIndex: 1)))), frontmatterJSON: (try row.decode(atIndex: 2)),
                               importDepth: (try row.decode(atIndex: 3)), modified: (try row.decode(atIndex: 4)), lineCount: (try row.decode(atIndex: 5)), tokens: (try row.decode(atIndex: 6)))
            }
        }
    }

    public func document(path: String) throws -> StoredDocument? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT path, kind, frontmatter, import_depth, mtime_ns, line_count, tokens FROM documents
                WHERE path = ? AND status = 'indexed'
                """, arguments: [path]).map { row in
                StoredDocument(path: (try row.decode(atIndex: 0)), kind: (try StoredValue.decode(DocumentKind.self, (try row.decode(atIndex: 1)))), frontmatterJSON: (try row.decode(atIndex: 2)),
                               importDepth: (try row.decode(atIndex: 3)), modified: (try row.decode(atIndex: 4)), lineCount: (try row.decode(atIndex: 5)), tokens: (try row.decode(atIndex: 6)))
            }
        }
    }

    public func referenceEdges(kinds: [Reference.Kind], fromPaths paths: [String]?) throws -> [(from: String, to: String)] {
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
            while let row = try rows.next() { result.append(((try row.decode(atIndex: 0)), (try row.decode(atIndex: 1)))) }
            return result
        }
    }
}
