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

    /// Registers the function on a connection; `lengths` is the store's, shared by its connections.
    static func register(_ db: Database, lengths: SectionLengths) {
        let api = FTS5.api(db)
        let userData = Unmanaged.passRetained(lengths).toOpaque()
        _ = name.withCString { cName in
            api.pointee.xCreateFunction(UnsafeMutablePointer(mutating: api), cName, userData, rankRow) { pointer in
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
        /// Read through `lengths` (a pointer and a count, copied without reference counting);
        /// `snapshot` keeps them alive.
        var lengths: UnsafeBufferPointer<UInt32>
        var snapshot: SectionLengths.Snapshot
    }

    private static let rankRow: fts5_extension_function = { apiPointer, fts, context, argumentCount, arguments in
        guard let api = apiPointer else { return }
        let query: UnsafeMutablePointer<Query>
        if let data = api.pointee.xGetAuxdata(fts, 0) {
            query = data.assumingMemoryBound(to: Query.self)
        } else {
            guard let made = makeQuery(api, fts, argumentCount, arguments) else {
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
            guard status == SQLITE_OK else { sqlite3_result_error_code(context, status); return }
        }
        let rowid = api.pointee.xRowid(fts)
        let lengths = query.pointee.lengths
        var length = rowid >= 0 && rowid < lengths.count ? Double(lengths[Int(rowid)]) : 0
        if length == 0 {
            var tokens: Int32 = 0
            guard api.pointee.xColumnSize(fts, -1, &tokens) == SQLITE_OK else { sqlite3_result_error_code(context, SQLITE_ERROR); return }
            length = Double(tokens)
        }
        let norm = k1 * (1 - b + b * length / query.pointee.averageLength)
        let weights = query.pointee.weights
        let idf = query.pointee.idf
        var score = 0.0
        for phrase in 0..<idf.count {
            var iterator = Fts5PhraseIter()
            var column: Int32 = 0, offset: Int32 = 0
            guard api.pointee.xPhraseFirst(fts, Int32(phrase), &iterator, &column, &offset) == SQLITE_OK else {
                sqlite3_result_error_code(context, SQLITE_ERROR)
                return
            }
            var frequency = 0.0
            while column >= 0 {
                frequency += Int(column) < weights.count ? weights[Int(column)] : 1
                api.pointee.xPhraseNext(fts, &iterator, &column, &offset)
            }
            score += idf[phrase] * (frequency * (k1 + 1)) / (frequency + norm)
        }
        sqlite3_result_double(context, -score)
    }

    /// The per-query part of `bm25` (`fts5Bm25GetData` in SQLite's fts5_aux.c): each phrase's IDF
    /// from the rows it matches, the average row length, and the column weights.
    private static func makeQuery(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, _ argumentCount: Int32,
                                  _ arguments: UnsafeMutablePointer<OpaquePointer?>?) -> UnsafeMutablePointer<Query>? {
        var rows: Int64 = 0, tokens: Int64 = 0
        guard api.pointee.xRowCount(fts, &rows) == SQLITE_OK, api.pointee.xColumnTotalSize(fts, -1, &tokens) == SQLITE_OK else {
            return nil
        }
        var idf: [Double] = []
        for phrase in 0..<api.pointee.xPhraseCount(fts) {
            var hits: Int64 = 0
            let status = api.pointee.xQueryPhrase(fts, phrase, &hits) { _, _, counter in
                counter?.assumingMemoryBound(to: Int64.self).pointee += 1
                return SQLITE_OK
            }
            guard status == SQLITE_OK else { return nil }
            let value = log((Double(rows) - Double(hits) + 0.5) / (Double(hits) + 0.5))
            idf.append(value <= 0 ? 1e-6 : value)
        }
        let weights = (0..<Int(argumentCount)).map { sqlite3_value_double(arguments?[$0]) }
        let lengths = api.pointee.xUserData(fts).map { Unmanaged<SectionLengths>.fromOpaque($0).takeUnretainedValue().snapshot }
        let query = UnsafeMutablePointer<Query>.allocate(capacity: 1)
        let idfBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: idf.count)
        _ = idfBuffer.initialize(from: idf)
        let weightBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: weights.count)
        _ = weightBuffer.initialize(from: weights)
        let snapshot = lengths ?? .empty
        query.initialize(to: Query(idf: idfBuffer, weights: weightBuffer, averageLength: Double(tokens) / Double(max(rows, 1)),
                                   lengths: snapshot.buffer, snapshot: snapshot))
        return query
    }
}

/// Every section's length in full-text tokens (all columns), by row id, as FTS5 keeps them in its
/// `sections_fts_docsize` table (one SQLite varint per column).
///
/// Section ids are never reused (AUTOINCREMENT), so entries are only ever added: one stays right
/// for as long as its row exists, and a reader of an older state finds all its rows. A rebuilt
/// index is a new file, opened by a new store with new lengths.
final class SectionLengths: Sendable {
    /// Slots by id, 0 where unknown. Each slot is written once, under the lock, above every
    /// published snapshot's count, so readers never see a slot change.
    final class Slots: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<UInt32>
        init(capacity: Int) {
            buffer = .allocate(capacity: capacity)
            buffer.initialize(repeating: 0)
        }
        deinit { buffer.deallocate() }
    }

    /// The lengths known when it was taken (`slots` keeps `base` alive).
    struct Snapshot: @unchecked Sendable {
        let slots: Slots?
        private let base: UnsafePointer<UInt32>?
        let count: Int

        init(slots: Slots?, count: Int) {
            self.slots = slots
            base = slots.flatMap { UnsafePointer($0.buffer.baseAddress) }
            self.count = slots == nil ? 0 : count
        }

        static let empty = Snapshot(slots: nil, count: 0)

        /// The lengths by id (0: not known), valid while this snapshot lives.
        var buffer: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: base, count: base == nil ? 0 : count) }

        /// The row's length, 0 when not known.
        subscript(rowid: Int64) -> UInt32 {
            rowid >= 0 && rowid < count ? buffer[Int(rowid)] : 0
        }
    }

    private let state = Mutex<Snapshot>(.empty)

    /// Beyond this id, rows are left to FTS5 (4 bytes per id ever written: 64 MiB at most).
    static let maximumID: Int64 = 16_777_215

    var snapshot: Snapshot { state.withLock { $0 } }

    /// Reads the rows written since the last call, in the transaction `db` holds.
    func refresh(_ db: Database) throws {
        let known = Int64(snapshot.count) - 1
        let last = min(try Int64.fetchOne(db, sql: "SELECT max(id) FROM sections_fts_docsize") ?? 0, Self.maximumID)
        guard last > known else { return }
        var added: [(id: Int, length: UInt32)] = []
        let statement = try db.makeStatement(sql: "SELECT id, sz FROM sections_fts_docsize WHERE id > ? AND id <= ?")
        let rows = try Row.fetchCursor(statement, arguments: [known, last])
        while let row = try rows.next() {
            let id: Int64 = row[0]
            guard let blob = sqlite3_column_blob(statement.sqliteStatement, 1) else { continue }
            let size = Int(sqlite3_column_bytes(statement.sqliteStatement, 1))
            added.append((Int(id), Self.sumOfVarints(UnsafeRawBufferPointer(start: blob, count: size))))
        }
        state.withLock { snapshot in
            let count = Int(last) + 1
            guard count > snapshot.count else { return }
            var slots = snapshot.slots
            if slots == nil || slots!.buffer.count < count {
                let grown = Slots(capacity: min(max(count, 2 * (slots?.buffer.count ?? 0)), Int(Self.maximumID) + 1))
                if let old = slots, let base = old.buffer.baseAddress {
                    grown.buffer.baseAddress!.update(from: base, count: snapshot.count)
                }
                slots = grown
            }
            for (id, length) in added where id >= snapshot.count { slots!.buffer[id] = length }
            snapshot = Snapshot(slots: slots, count: count)
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
                if length == 9 { value = (value << 8) | UInt64(byte); break }
                value = (value << 7) | UInt64(byte & 0x7F)
                if byte & 0x80 == 0 { break }
            }
            total &+= value
        }
        return UInt32(clamping: total)
    }
}
