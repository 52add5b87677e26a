import GRDB

/// ``SearchTokenizer`` registered with SQLite as the FTS5 tokenizer `ctxmem`.
///
/// Every connection that reads or writes `sections_fts` must register it (``SQLiteConnection`` does in
/// `prepareDatabase`); the `sqlite3` shell cannot query that table for this reason.
final class FTS5MemoryTokenizer: FTS5CustomTokenizer {
    static let name = "ctxmem"

    init(db: Database, arguments: [String]) throws {}

    func tokenize(
        context: UnsafeMutableRawPointer?,
        tokenization: FTS5Tokenization,
        pText: UnsafePointer<CChar>?,
        nText: CInt,
        tokenCallback: @escaping FTS5TokenCallback
    ) -> CInt {
        guard let pText, nText > 0 else { return 0 }
        var status: CInt = 0  // SQLITE_OK
        pText.withMemoryRebound(to: UInt8.self, capacity: Int(nText)) { bytes in
            SearchTokenizer.scan(UnsafeBufferPointer(start: bytes, count: Int(nText))) { token, start, end in
                token.withMemoryRebound(to: CChar.self) { chars in
                    status = tokenCallback(context, 0, chars.baseAddress, CInt(chars.count), CInt(start), CInt(end))
                }
                return status == 0
            }
        }
        return status
    }
}
