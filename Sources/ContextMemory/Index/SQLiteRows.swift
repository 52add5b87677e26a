import Foundation
import GRDB
import GRDBSQLite

/// The columns of a row type, in the order the query selects them: each case's raw value is its
/// position, and the SELECT list is made from the cases, so the two cannot drift apart.
protocol SelectedColumns: CaseIterable, RawRepresentable where RawValue == Int {
    /// The column as the query selects it (`s.heading_path`).
    var sql: String { get }
}

extension SelectedColumns {
    /// The SELECT list, every column in order.
    static var selection: String { allCases.map(\.sql).joined(separator: ", ") }
}

extension Row {
    /// The value of `column`, read at its position in the SELECT list.
    func value<Value: DatabaseValueConvertible>(_ column: some SelectedColumns) throws -> Value {
        try decode(atIndex: column.rawValue)
    }
}

// Rows as the queries select them. Each type's `Column` enum lists its columns in SELECT order and
// makes the SELECT list, so a value is read at the position its column was selected at (by name,
// GRDB looks each column up per row: a pack reads thousands of sections).

/// A `sections` row with its document's kind, import depth, modification and commit times.
struct SectionRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case id, path, ordinal, level, headingPath, slug, startLine, endLine, tier, tierReason, tokens, contentHash
        case kind, importDepth, modified, committed, body

        var sql: String {
            switch self {
            case .id: "s.id"
            case .path: "s.path"
            case .ordinal: "s.ordinal"
            case .level: "s.level"
            case .headingPath: "s.heading_path"
            case .slug: "s.slug"
            case .startLine: "s.start_line"
            case .endLine: "s.end_line"
            case .tier: "s.tier"
            case .tierReason: "s.tier_reason"
            case .tokens: "s.tokens"
            case .contentHash: "s.content_hash"
            case .kind: "d.kind"
            case .importDepth: "d.import_depth"
            case .modified: "d.mtime_ns"
            case .committed: "d.committed"
            case .body: "s.body"
            }
        }
    }

    /// The SELECT list over `sections s JOIN documents d`; the body only when asked.
    static func selection(withBody: Bool) -> String {
        Column.allCases.filter { withBody || $0 != .body }.map(\.sql).joined(separator: ", ")
    }

    let record: SectionRecord

    init(row: Row) throws {
        record = SectionRecord(
            id: try row.value(Column.id), path: try row.value(Column.path), ordinal: try row.value(Column.ordinal),
            level: try row.value(Column.level),
            headingPath: try HeadingPathColumn.decode(try row.value(Column.headingPath)),
            slug: try row.value(Column.slug),
            startLine: try row.value(Column.startLine), endLine: try row.value(Column.endLine),
            tier: try StoredValue.decode(Tier.self, try row.value(Column.tier)),
            tierReason: try row.value(Column.tierReason),
            tokens: try row.value(Column.tokens), contentHash: try row.value(Column.contentHash),
            kind: try StoredValue.decode(DocumentKind.self, try row.value(Column.kind)),
            importDepth: try row.value(Column.importDepth),
            modified: try row.value(Column.modified), committed: try row.value(Column.committed),
            body: row.count > Column.body.rawValue ? try row.value(Column.body) : nil)
    }
}

/// An indexed `documents` row, its frontmatter decoded once.
struct DocumentRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case path, kind, frontmatter, importDepth, modified, committed, lineCount, tokens

        var sql: String {
            switch self {
            case .path: "path"
            case .kind: "kind"
            case .frontmatter: "frontmatter"
            case .importDepth: "import_depth"
            case .modified: "mtime_ns"
            case .committed: "committed"
            case .lineCount: "line_count"
            case .tokens: "tokens"
            }
        }
    }

    static var selection: String { Column.selection }

    let document: StoredDocument

    init(row: Row) throws {
        let path: String = try row.value(Column.path)
        document = StoredDocument(
            path: path, kind: try StoredValue.decode(DocumentKind.self, try row.value(Column.kind)),
            frontmatter: try FrontmatterColumn.decode(try row.value(Column.frontmatter), path: path),
            importDepth: try row.value(Column.importDepth), modified: try row.value(Column.modified),
            committed: try row.value(Column.committed), lineCount: try row.value(Column.lineCount),
            tokens: try row.value(Column.tokens))
    }
}

/// What an index run compares with the tree: a `documents` row's identity on disk.
struct StoredFileRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case id, path, kind, size, modified, inode, contentHash, status, importDepth, committed

        var sql: String {
            switch self {
            case .id: "id"
            case .path: "path"
            case .kind: "kind"
            case .size: "size"
            case .modified: "mtime_ns"
            case .inode: "inode"
            case .contentHash: "content_hash"
            case .status: "status"
            case .importDepth: "import_depth"
            case .committed: "committed"
            }
        }
    }

    static var selection: String { Column.selection }

    let file: StoredFile

    init(row: Row) throws {
        let path: String = try row.value(Column.path)
        let hash: String = try row.value(Column.contentHash)
        guard let contentHash = ContentHash(hex: hash) else {
            throw StoredValue.Unknown(type: "content hash", value: hash)
        }
        let inode: Int64 = try row.value(Column.inode)
        file = StoredFile(
            id: try row.value(Column.id), path: path,
            kind: try StoredValue.decode(DocumentKind.self, try row.value(Column.kind)),
            stat: FileStat(
                size: try row.value(Column.size), modificationTime: try row.value(Column.modified),
                inode: UInt64(bitPattern: inode)),
            contentHash: contentHash,
            isSkipped: try StoredValue.decode(DocumentStatus.self, try row.value(Column.status)) == .skipped,
            importDepth: try row.value(Column.importDepth), committed: try row.value(Column.committed))
    }
}

/// A reference as written, with the document that writes it (the audit's rows).
struct ReferenceRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case path, documentKind, kind, target, resolvedPath, fragment, status, line, column

        var sql: String {
            switch self {
            case .path: "d.path"
            case .documentKind: "d.kind"
            case .kind: "r.kind"
            case .target: "r.target"
            case .resolvedPath: "r.resolved_path"
            case .fragment: "r.fragment"
            case .status: "r.status"
            case .line: "r.line"
            case .column: "r.\"column\""
            }
        }
    }

    static var selection: String { Column.selection }

    let reference: StoredReference

    init(row: Row) throws {
        reference = StoredReference(
            path: try row.value(Column.path),
            documentKind: try StoredValue.decode(DocumentKind.self, try row.value(Column.documentKind)),
            kind: try StoredValue.decode(Reference.Kind.self, try row.value(Column.kind)),
            target: try row.value(Column.target),
            resolvedPath: try row.value(Column.resolvedPath), fragment: try row.value(Column.fragment),
            status: try StoredValue.decode(Reference.Status.self, try row.value(Column.status)),
            line: try row.value(Column.line),
            column: try row.value(Column.column))
    }
}

/// A `findings` row.
struct FindingRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case rule, severity, path, line, column, message

        var sql: String {
            switch self {
            case .rule: "rule"
            case .severity: "severity"
            case .path: "path"
            case .line: "line"
            case .column: "\"column\""
            case .message: "message"
            }
        }
    }

    static var selection: String { Column.selection }
    /// Every finding, in the order reports list them.
    static let query = "SELECT \(selection) FROM findings ORDER BY path, line, \"column\", rule"

    let finding: Finding

    init(row: Row) throws {
        finding = Finding(
            rule: try StoredValue.decode(RuleID.self, try row.value(Column.rule)),
            severity: try StoredValue.decode(Finding.Severity.self, try row.value(Column.severity)),
            path: try row.value(Column.path), line: try row.value(Column.line), column: try row.value(Column.column),
            message: try row.value(Column.message))
    }
}

/// A section of a search's results, with the start of its body for the snippet.
struct SearchHitRow: FetchableRecord {
    enum Column: Int, SelectedColumns {
        case id, path, startLine, endLine, headingPath, slug, tier, tokens, kind, head

        var sql: String {
            switch self {
            case .id: "s.id"
            case .path: "s.path"
            case .startLine: "s.start_line"
            case .endLine: "s.end_line"
            case .headingPath: "s.heading_path"
            case .slug: "s.slug"
            case .tier: "s.tier"
            case .tokens: "s.tokens"
            case .kind: "d.kind"
            case .head: "substr(s.body, 1, \(SQLiteReader.snippetScanLimit))"
            }
        }
    }

    static var selection: String { Column.selection }

    let id: Int64
    /// The start of the body, for the snippet.
    let head: String?
    /// The hit without its score and snippet, which the search adds.
    let hit: SearchHit

    init(row: Row) throws {
        id = try row.value(Column.id)
        head = try row.value(Column.head)
        let path: String = try row.value(Column.path)
        hit = SearchHit(
            path: path, startLine: try row.value(Column.startLine), endLine: try row.value(Column.endLine),
            headingPath: try HeadingPathColumn.decode(try row.value(Column.headingPath)),
            tier: try StoredValue.decode(Tier.self, try row.value(Column.tier)),
            kind: try StoredValue.decode(DocumentKind.self, try row.value(Column.kind)), score: 0, snippet: "",
            handle: MemoryHandle.make(path: path, slug: try row.value(Column.slug)),
            tokens: try row.value(Column.tokens))
    }
}

/// `documents.status`.
enum DocumentStatus: String {
    case indexed, skipped
}

/// Names stored in enum columns (tier, kind, severity, reference kind and status), read back: a
/// name ctxmem never writes is damage, not a reason to guess a default.
enum StoredValue {
    struct Unknown: Error, CustomStringConvertible {
        let type: String
        let value: String
        var description: String { "unknown \(type) '\(value)' in the index" }
    }

    static func decode<Value: RawRepresentable>(_ type: Value.Type, _ raw: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else { throw Unknown(type: "\(Value.self)", value: raw) }
        return value
    }
}

/// `documents.frontmatter`: the mapping as JSON text with sorted keys, decoded when read.
enum FrontmatterColumn {
    static func encode(_ values: [String: JSONValue]?) -> String? {
        guard let values else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(values)).map { String(decoding: $0, as: UTF8.self) }
    }

    static func decode(_ text: String?, path: String) throws -> [String: JSONValue]? {
        guard let text else { return nil }
        do {
            return try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        } catch {
            throw StoredValue.Unknown(type: "frontmatter of \(path)", value: String(text.prefix(80)))
        }
    }
}

/// `sections.heading_path`: the titles from the outermost heading to the section's own, as a JSON
/// array of strings (`["Build","Tests"]`), so any title survives, `>` included. Written and read
/// here without Foundation's JSON coders: every stored and every fetched section has one.
///
/// The full-text index sees the titles joined with " > " (SQL `ctxmem_heading_text`, through the
/// `sections_text` view): JSON's escapes (`\t`, `\u0001`) would add words the titles do not have.
enum HeadingPathColumn {
    /// Joins titles for the full-text index.
    static let separator = " > "

    static func encode(_ titles: [String]) -> String {
        var json = "["
        for (index, title) in titles.enumerated() {
            if index > 0 { json += "," }
            json += "\""
            // Most titles need no escape: appended whole.
            if title.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C }) {
                json += title
            } else {
                for scalar in title.unicodeScalars {
                    switch scalar {
                    case "\"": json += "\\\""
                    case "\\": json += "\\\\"
                    case "\u{0}"..<"\u{20}":
                        json += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                    default: json.unicodeScalars.append(scalar)
                    }
                }
            }
            json += "\""
        }
        return json + "]"
    }

    /// - Throws: ``StoredValue/Unknown`` for anything but a JSON array of strings.
    static func decode(_ json: String) throws -> [String] {
        var titles: [String] = []
        var copy = json
        let valid = copy.withUTF8 { bytes in
            scan(bytes) { titles.append(String(decoding: $0, as: UTF8.self)) }
        }
        guard valid else { throw StoredValue.Unknown(type: "heading path", value: String(json.prefix(80))) }
        return titles
    }

    /// The titles joined with " > ", as the full-text index holds them; nil for anything but a
    /// JSON array of strings.
    static func text(ofJSON json: String) -> String? {
        var copy = json
        let joined = copy.withUTF8 { joinedBytes($0) }
        return joined.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The titles' bytes joined with " > "; nil for anything but a JSON array of strings.
    static func joinedBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var joined: [UInt8] = []
        joined.reserveCapacity(bytes.count)
        var first = true
        let valid = scan(bytes) { title in
            if !first { joined += [0x20, 0x3E, 0x20] }
            first = false
            joined.append(contentsOf: title)
        }
        return valid ? joined : nil
    }

    /// Calls `title` with each title's UTF-8 bytes, in order; false when `bytes` is not a JSON array
    /// of strings. A title without escapes is passed in place, not copied.
    @discardableResult
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ title: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        guard bytes.count >= 2, bytes[0] == 0x5B, bytes[bytes.count - 1] == 0x5D else { return false }
        let end = bytes.count - 1
        var index = 1
        if index == end { return true }
        while true {
            guard index < end, bytes[index] == 0x22 else { return false }
            index += 1
            let start = index
            while index < end, bytes[index] != 0x22, bytes[index] != 0x5C { index += 1 }
            guard index < end else { return false }
            if bytes[index] == 0x22 {
                title(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                index += 1
            } else {
                guard let (unescaped, next) = unescape(bytes, from: start, end: end) else { return false }
                unescaped.withUnsafeBufferPointer { title($0) }
                index = next
            }
            if index == end { return true }
            guard bytes[index] == 0x2C else { return false }
            index += 1
        }
    }

    /// A string with escapes, from its first byte to after its closing quote.
    private static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int) -> ([UInt8], Int)? {
        var title: [UInt8] = []
        var index = start
        while index < end {
            let byte = bytes[index]
            if byte == 0x22 { return (title, index + 1) }
            if byte != 0x5C {
                title.append(byte)
                index += 1
                continue
            }
            guard index + 1 < end else { return nil }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case 0x22, 0x5C, 0x2F: title.append(escaped)
            case 0x62: title.append(0x08)
            case 0x66: title.append(0x0C)
            case 0x6E: title.append(0x0A)
            case 0x72: title.append(0x0D)
            case 0x74: title.append(0x09)
            case 0x75:
                guard let unit = hex4(bytes, at: index, end: end) else { return nil }
                index += 4
                var scalar = Unicode.Scalar(unit)
                if scalar == nil, (0xD800..<0xDC00).contains(unit), index + 6 <= end, bytes[index] == 0x5C,
                    bytes[index + 1] == 0x75, let low = hex4(bytes, at: index + 2, end: end),
                    (0xDC00..<0xE000).contains(low)
                {
                    scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                    index += 6
                }
                guard let scalar else { return nil }
                title += Array(String(Character(scalar)).utf8)
            default: return nil
            }
        }
        return nil
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int) -> UInt32? {
        guard index + 4 <= end else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Registers `ctxmem_heading_text(json)`, what the full-text index holds for a heading path,
    /// with SQLite's C API: an index run calls it for every section it adds, and GRDB's function
    /// wrapper (a `DatabaseValue` and a `String` each way) cost more than the work itself.
    static func registerTextFunction(_ db: Database) {
        sqlite3_create_function_v2(
            db.sqliteConnection, "ctxmem_heading_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { context, _, values in
                guard let value = values?[0], let text = sqlite3_value_text(value) else {
                    sqlite3_result_null(context)
                    return
                }
                let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_value_bytes(value)))
                guard let joined = HeadingPathColumn.joinedBytes(bytes) else {
                    sqlite3_result_null(context)
                    return
                }
                // SQLITE_TRANSIENT: SQLite copies the bytes during the call. A preamble's path is
                // empty: an empty C string then, never an array's (possibly absent) storage.
                let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
                guard !joined.isEmpty else {
                    sqlite3_result_text(context, "", 0, transient)
                    return
                }
                joined.withUnsafeBytes { buffer in
                    sqlite3_result_text(
                        context, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count),
                        transient)
                }
            }, nil, nil, nil)
    }

    /// `ctxmem_heading_json(joined)`: the migration of a " > "-joined path to a JSON array.
    static let migrationFunction = DatabaseFunction("ctxmem_heading_json", argumentCount: 1, pure: true) { values in
        guard let joined = String.fromDatabaseValue(values[0]) else { return nil }
        return encode(joined.isEmpty ? [] : joined.components(separatedBy: separator))
    }
}
