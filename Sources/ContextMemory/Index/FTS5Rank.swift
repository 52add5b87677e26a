import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The FTS5 ranking function `ctxmem_rank(sections_fts, path, heading_path, title, body)`:
/// FTS5's own `bm25` (same formula, same IDF, same per-column weights as arguments, so the same
/// scores, which a test checks), computed more cheaply for each matching row.
///
/// `bm25` asks FTS5 for each row's length, and FTS5 answers by stepping a prepared statement on
/// its `sections_fts_docsize` table per row; it then merges every phrase's positions into one
/// sorted array to count them. For a word found in most sections (64,000 of 72,000 in the 50 MB
/// synthetic corpus) that was three quarters of the search. Here lengths come from
/// ``SectionLengths``, read from that same table into memory once and then as it grows (a row not
/// read yet is asked of FTS5), and each phrase's positions are counted with its own iterator.
enum FTS5Rank {
    static let name = "ctxmem_rank"

    /// Registers the function on a connection; `lengths` is shared by the index file's readers.
    static func register(_ db: Database, lengths: SectionLengths) {
        register(name, rankRow, on: db, lengths: lengths)
    }

    /// Registers an FTS5 function whose user data is `lengths`, released with the connection.
    static func register(_ name: String, _ function: fts5_extension_function, on db: Database, lengths: SectionLengths)
    {
        let api = FTS5.api(db)
        let userData = Unmanaged.passRetained(lengths).toOpaque()
        _ = name.withCString { cName in
            api.pointee.xCreateFunction(UnsafeMutablePointer(mutating: api), cName, userData, function) { pointer in
                if let pointer { Unmanaged<SectionLengths>.fromOpaque(pointer).release() }
            }
        }
    }

    /// BM25's constants, as FTS5 has them.
    static let k1 = 1.2
    static let b = 0.75

    /// What every row of one query shares, computed at its first row and kept as FTS5 aux data.
    /// Plain memory, not a class: the function runs for every matching row, without reference counting.
    struct Query {
        var idf: UnsafeMutableBufferPointer<Double>
        var weights: UnsafeMutableBufferPointer<Double>
        var averageLength: Double
        /// Row lengths; read through its buffer, without reference counting.
        var lengths: SectionLengths.Snapshot
    }

    private static let rankRow: fts5_extension_function = { apiPointer, fts, context, argumentCount, arguments in
        guard let api = apiPointer else { return }
        let query: UnsafeMutablePointer<Query>
        if let data = api.pointee.xGetAuxdata(fts, 0) {
            query = data.assumingMemoryBound(to: Query.self)
        } else {
            guard let made = makeQuery(api, fts, context, argumentCount, arguments) else {
                sqlite3_result_error(context, "ctxmem_rank: cannot read the index statistics", -1)
                return
            }
            query = made
            let status = api.pointee.xSetAuxdata(fts, UnsafeMutableRawPointer(made)) { pointer in
                guard let query = pointer?.assumingMemoryBound(to: Query.self) else { return }
                query.pointee.idf.deallocate()
                query.pointee.weights.deallocate()
                query.deinitialize(count: 1)
                query.deallocate()
            }
            guard status == SQLITE_OK else {
                sqlite3_result_error_code(context, status)
                return
            }
        }
        let rowid = api.pointee.xRowid(fts)
        var length = Double(query.pointee.lengths[rowid])
        if length == 0 {
            var tokens: Int32 = 0
            guard api.pointee.xColumnSize(fts, -1, &tokens) == SQLITE_OK else {
                sqlite3_result_error_code(context, SQLITE_ERROR)
                return
            }
            length = Double(tokens)
        }
        let norm = k1 * (1 - b + b * length / query.pointee.averageLength)
        let weights = query.pointee.weights
        let idf = query.pointee.idf
        var score = 0.0
        for phrase in 0..<idf.count {
            var iterator = Fts5PhraseIter()
            var column: Int32 = 0
            var offset: Int32 = 0
            guard api.pointee.xPhraseFirst(fts, Int32(phrase), &iterator, &column, &offset) == SQLITE_OK else {
                sqlite3_result_error_code(context, SQLITE_ERROR)
                return
            }
            var frequency = 0.0
            while column >= 0 {
                frequency += Int(column) < weights.count ? weights[Int(column)] : 1
                api.pointee.xPhraseNext(fts, &iterator, &column, &offset)
            }
            score += idf[phrase] * ((frequency * (k1 + 1)) / (frequency + norm))  // bm25's order of operations
        }
        sqlite3_result_double(context, -score)
    }

    /// The per-query part of `bm25` (`fts5Bm25GetData` in SQLite's fts5_aux.c): each phrase's IDF
    /// from the rows it matches, the average row length, and the column weights. The weights are
    /// read at the first row (`bm25` reads them at every row): two `ctxmem_rank` calls with other
    /// weights in one statement would share the first one's, as FTS5 keeps aux data per function
    /// and cursor; ctxmem makes one call per statement.
    private static func makeQuery(
        _ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, _ context: OpaquePointer?,
        _ argumentCount: Int32, _ arguments: UnsafeMutablePointer<OpaquePointer?>?
    ) -> UnsafeMutablePointer<Query>? {
        var rows: Int64 = 0
        var tokens: Int64 = 0
        guard api.pointee.xRowCount(fts, &rows) == SQLITE_OK,
            api.pointee.xColumnTotalSize(fts, -1, &tokens) == SQLITE_OK
        else {
            return nil
        }
        var idf: [Double] = []
        var matches: Int64 = 0  // at most the rows this query ranks
        for phrase in 0..<api.pointee.xPhraseCount(fts) {
            var hits: Int64 = 0
            let status = api.pointee.xQueryPhrase(fts, phrase, &hits) { _, _, counter in
                counter?.assumingMemoryBound(to: Int64.self).pointee += 1
                return SQLITE_OK
            }
            guard status == SQLITE_OK else { return nil }
            matches += hits
            let value = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
            idf.append(value <= 0 ? 1e-6 : value)
        }
        let weights = (0..<Int(argumentCount)).map { sqlite3_value_double(arguments?[$0]) }
        var lengths = SectionLengths.Snapshot.empty
        if let userData = api.pointee.xUserData(fts) {
            let shared = Unmanaged<SectionLengths>.fromOpaque(userData).takeUnretainedValue()
            // In this statement's transaction, on its connection. A query of few matches asks FTS5
            // for their lengths rather than have a process read every section's first.
            lengths = shared.current(connection: sqlite3_context_db_handle(context), loadingFor: matches)
        }
        let query = UnsafeMutablePointer<Query>.allocate(capacity: 1)
        let idfBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: idf.count)
        _ = idfBuffer.initialize(from: idf)
        let weightBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: weights.count)
        _ = weightBuffer.initialize(from: weights)
        query.initialize(
            to: Query(
                idf: idfBuffer, weights: weightBuffer, averageLength: Double(tokens) / Double(max(rows, 1)),
                lengths: lengths))
        return query
    }
}

/// Every section's length in full-text tokens (all columns), by row id, as FTS5 keeps them in its
/// `sections_fts_docsize` table (one SQLite varint per column), for the ids from the lowest live
/// one up.
///
/// Section ids are never reused (AUTOINCREMENT) and sections are never updated in place (a changed
/// file's sections are deleted and written again), so an entry stays right for as long as its row
/// exists, and a reader of an older state finds its rows or none (0: it asks FTS5). When the lowest
/// live id has passed the middle of what is kept (a re-parse of everything leaves all old ids
/// dead), the lengths are read again from there. One instance serves every reading connection of
/// an index file (``SQLiteConnection/init(path:mode:busyTimeout:lengths:)``); a rebuilt index is a new
/// file with new lengths.
final class SectionLengths: Sendable {
    /// Lengths of the ids `first..<first + buffer.count`, 0 where unknown. A published slot is
    /// never written again: refreshes write only above every published snapshot's count.
    final class Slots: @unchecked Sendable {
        let first: Int64
        let buffer: UnsafeMutableBufferPointer<UInt32>
        init(first: Int64, capacity: Int) {
            self.first = first
            buffer = .allocate(capacity: capacity)
            buffer.initialize(repeating: 0)
        }
        deinit { buffer.deallocate() }
    }

    /// The lengths known when it was taken (`slots` keeps `buffer` alive).
    struct Snapshot: @unchecked Sendable {
        let slots: Slots?
        /// The ids `first..<first + buffer.count`, read through without reference counting.
        let first: Int64
        let buffer: UnsafeBufferPointer<UInt32>

        init(slots: Slots?, count: Int) {
            self.slots = slots
            first = slots?.first ?? 0
            buffer = UnsafeBufferPointer(start: slots?.buffer.baseAddress, count: slots == nil ? 0 : count)
        }

        static let empty = Snapshot(slots: nil, count: 0)

        /// The row's length, 0 when not known.
        @inline(__always) subscript(rowid: Int64) -> UInt32 {
            let index = rowid &- first
            return index >= 0 && index < buffer.count ? buffer[Int(index)] : 0
        }
    }

    private let state = Mutex<Snapshot>(.empty)

    /// At most this many ids are kept (4 bytes each: 64 MiB); rows above are left to FTS5.
    static let maximumSlots = 16_777_216

    var snapshot: Snapshot { state.withLock { $0 } }

    /// Below this many matches a query does not make a process read every section's length first
    /// (about 0.1 µs a section: 7 ms for 72,000); it asks FTS5 for each of its rows (about 0.6 µs).
    static let loadingMatches: Int64 = 2_000

    /// The lengths for a query of about `matches` rows: brought up to date when already read (the
    /// rows written since), read when the query is large enough to pay for it, else as they are.
    /// Errors leave the lengths as they are: the function then asks FTS5, as `bm25` does.
    func current(connection: OpaquePointer?, loadingFor matches: Int64) -> Snapshot {
        let known = snapshot
        guard let connection, known.slots != nil || matches >= Self.loadingMatches else { return known }
        return (try? refresh(connection: connection)) ?? known
    }

    /// Reads the rows written since the last call, or all live rows when most of what is kept is
    /// dead, in the transaction `db` holds.
    func refresh(_ db: Database) throws {
        _ = try refresh(connection: db.sqliteConnection)
    }

    /// ``refresh(_:)`` on a raw connection (from inside a query). Under the lock: a connection that
    /// starts a query meanwhile waits for the first read (a few milliseconds per 100,000
    /// sections), not for later ones (the rows of one re-index).
    private func refresh(connection: OpaquePointer?) throws -> Snapshot {
        try state.withLock { snapshot in
            var liveFirst: Int64 = 0
            var liveLast: Int64 = 0
            var found = false
            // Two subqueries: SQLite answers a lone min() or max() from the end of the index, but
            // scans the whole table for both in one select.
            try Self.step(
                connection,
                "SELECT (SELECT min(id) FROM sections_fts_docsize), (SELECT max(id) FROM sections_fts_docsize)", []
            ) { row in
                found = sqlite3_column_type(row, 0) != SQLITE_NULL
                liveFirst = sqlite3_column_int64(row, 0)
                liveLast = sqlite3_column_int64(row, 1)
            }
            guard found else { return snapshot }
            let known = snapshot.first + Int64(snapshot.buffer.count) - 1
            let rebase = snapshot.slots == nil || liveFirst - snapshot.first > Int64(snapshot.buffer.count / 2)
            let first = rebase ? liveFirst : snapshot.first
            let last = min(liveLast, first + Int64(Self.maximumSlots) - 1)
            let from = rebase ? first : known + 1
            guard from <= last else { return snapshot }
            let count = Int(last - first) + 1
            var slots = rebase ? nil : snapshot.slots
            if slots == nil || slots!.buffer.count < count {
                let grown = Slots(
                    first: first, capacity: min(max(count, 2 * (slots?.buffer.count ?? 0)), Self.maximumSlots))
                if let old = slots, !rebase, let source = old.buffer.baseAddress {
                    grown.buffer.baseAddress!.update(from: source, count: snapshot.buffer.count)
                }
                slots = grown
            }
            let target = slots!
            try Self.step(connection, "SELECT id, sz FROM sections_fts_docsize WHERE id BETWEEN ? AND ?", [from, last])
            { row in
                let index = Int(sqlite3_column_int64(row, 0) - target.first)
                guard index >= 0, index < target.buffer.count, let blob = sqlite3_column_blob(row, 1) else { return }
                target.buffer[index] = Self.sumOfVarints(
                    UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(row, 1))))
            }
            snapshot = Snapshot(slots: target, count: count)
            return snapshot
        }
    }

    /// Runs `sql` with integer arguments on a raw connection, calling `row` for each result row
    /// (no GRDB here: this runs inside another statement's ranking function, and reads every
    /// section of the index once per process).
    private static func step(
        _ connection: OpaquePointer?, _ sql: String, _ arguments: [Int64],
        _ row: (OpaquePointer) throws -> Void
    ) throws {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw DatabaseError(resultCode: .SQLITE_ERROR, message: String(cString: sqlite3_errmsg(connection)))
        }
        defer { sqlite3_finalize(statement) }
        for (index, value) in arguments.enumerated() { sqlite3_bind_int64(statement, Int32(index + 1), value) }
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: status), message: String(cString: sqlite3_errmsg(connection)))
            }
            try row(statement)
        }
    }

    /// The sum of the SQLite varints in `bytes` (big-endian groups of 7 bits, high bit set on all
    /// but the last byte; a ninth byte carries 8 bits).
    static func sumOfVarints(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var total: UInt64 = 0
        var index = 0
        while index < bytes.count {
            var value: UInt64 = 0
            var length = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                length += 1
                if length == 9 {
                    value = (value << 8) | UInt64(byte)
                    break
                }
                value = (value << 7) | UInt64(byte & 0x7F)
                if byte & 0x80 == 0 { break }
            }
            total &+= value
        }
        return UInt32(clamping: total)
    }
}
