import Foundation
import GRDB

// The queries the audit needs: references as written, anchors, and sections repeated across files.
extension SQLiteReader {
    public func references(kinds: [Reference.Kind]) throws -> [StoredReference] {
        guard !kinds.isEmpty else { return [] }
        let kindList = kinds.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let sql = """
            SELECT \(ReferenceRow.selection)
            FROM "references" r JOIN documents d ON d.id = r.document_id
            WHERE d.status = 'indexed' AND r.kind IN (\(kindList))
            ORDER BY d.path, r.line, r."column"
            """
        return try read { db in try ReferenceRow.fetchAll(db, sql: sql).map(\.reference) }
    }

    public func references(touching path: String) throws -> [StoredReference] {
        // Two selects, not one with OR: each can use its index (documents by path, references by target).
        let sql = """
            SELECT \(ReferenceRow.selection)
            FROM "references" r JOIN documents d ON d.id = r.document_id
            WHERE d.status = 'indexed' AND d.path = ?1
            UNION ALL
            SELECT \(ReferenceRow.selection)
            FROM "references" r JOIN documents d ON d.id = r.document_id
            WHERE d.status = 'indexed' AND r.resolved_path = ?1 AND d.path <> ?1
            ORDER BY 1, 8, 9
            """
        return try read { db in try ReferenceRow.fetchAll(db, sql: sql, arguments: [path]).map(\.reference) }
    }

    public func anchorsByPath() throws -> [String: Set<String>] {
        try read { db in
            var result: [String: Set<String>] = [:]
            let decoder = JSONDecoder()
            for row in try Row.fetchAll(db, sql: "SELECT path, anchors FROM documents WHERE status = 'indexed'") {
                let json: String = (try row.decode(atIndex: 1))
                result[(try row.decode(atIndex: 0))] = Set(
                    (try? decoder.decode([String].self, from: Data(json.utf8))) ?? [])
            }
            return result
        }
    }

    public func repeatedSections(minimumTokens: Int) throws -> [RepeatedSection] {
        let sql = """
            SELECT s.path, s.slug, s.start_line, s.heading_path, s.tokens, s.content_hash, d.inode
            FROM sections s JOIN documents d ON d.id = s.document_id
            WHERE s.tokens >= ?1 AND s.content_hash IN (
                SELECT content_hash FROM sections WHERE tokens >= ?1
                GROUP BY content_hash HAVING COUNT(DISTINCT document_id) > 1)
            ORDER BY s.content_hash, s.path, s.ordinal
            """
        return try read { db in
            try Row.fetchAll(db, sql: sql, arguments: [minimumTokens]).map { row in
                let headingPath: String = (try row.decode(atIndex: 3))
                let inode: Int64 = (try row.decode(atIndex: 6))
                return RepeatedSection(
                    path: (try row.decode(atIndex: 0)), slug: (try row.decode(atIndex: 1)),
                    startLine: (try row.decode(atIndex: 2)),
                    headingPath: try HeadingPathColumn.decode(headingPath),
                    tokens: (try row.decode(atIndex: 4)), contentHash: (try row.decode(atIndex: 5)),
                    inode: UInt64(bitPattern: inode))
            }
        }
    }
}
