import Foundation
import GRDB

// The queries the audit needs: references as written, anchors, and sections repeated across files.
extension SQLiteStore {
    public func references(kinds: [Reference.Kind]) throws -> [StoredReference] {
        guard !kinds.isEmpty else { return [] }
        let kindList = kinds.map { "'\($0.rawValue)'" }.joined(separator: ",")
        let sql = """
            SELECT d.path, d.kind, r.kind, r.target, r.resolved_path, r.fragment, r.status, r.line, r."column"
            FROM "references" r JOIN documents d ON d.id = r.document_id
            WHERE d.status = 'indexed' AND r.kind IN (\(kindList))
            ORDER BY d.path, r.line, r."column"
            """
        return try read { db in
            try Row.fetchAll(db, sql: sql).compactMap { row in
                guard let kind = Reference.Kind(rawValue: row[2]), let status = Reference.Status(rawValue: row[6]) else { return nil }
                return StoredReference(path: row[0], documentKind: DocumentKind(rawValue: row[1]) ?? .referenced, kind: kind,
                                       target: row[3], resolvedPath: row[4], fragment: row[5], status: status,
                                       line: row[7], column: row[8])
            }
        }
    }

    public func anchorsByPath() throws -> [String: Set<String>] {
        try read { db in
            var result: [String: Set<String>] = [:]
            let decoder = JSONDecoder()
            for row in try Row.fetchAll(db, sql: "SELECT path, anchors FROM documents WHERE status = 'indexed'") {
                let json: String = row[1]
                result[row[0]] = Set((try? decoder.decode([String].self, from: Data(json.utf8))) ?? [])
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
                let headingPath: String = row[3]
                let inode: Int64 = row[6]
                return RepeatedSection(path: row[0], slug: row[1], startLine: row[2],
                                       headingPath: Self.splitHeadingPath(headingPath),
                                       tokens: row[4], contentHash: row[5], inode: UInt64(bitPattern: inode))
            }
        }
    }
}
