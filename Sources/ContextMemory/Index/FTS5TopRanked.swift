import Foundation
import GRDB
import GRDBSQLite

/// The FTS5 function `ctxmem_top(sections_fts, limit, shape, path, heading_path, title, body)`:
/// the `limit` best rows of the statement's query, by ``FTS5Rank``'s (that is `bm25`'s) score,
/// computed in one call and returned as a blob of (rowid, rank) pairs, best first (rank ascending,
/// then rowid), as `ORDER BY ctxmem_rank(...), rowid LIMIT limit` would give them:
/// ```sql
/// SELECT ctxmem_top(sections_fts, 10, '1,2;1', 2.0, 1.0, 5.0, 1.0)
/// FROM sections_fts WHERE sections_fts MATCH :expression LIMIT 1
/// ```
///
/// Why: FTS5 has no top-k, so `ORDER BY rank LIMIT k` sends every matching row through SQLite's
/// virtual-table and sorter machinery (about 0.14 µs a row), and `bm25` walks each phrase's rows
/// once more for its IDF. A frequent two-word query of the 50 MB synthetic corpus matches 25,000
/// sections: 3.5 ms of that machinery before any score. Here each phrase's rows are walked once,
/// inside FTS5 with `xQueryPhrase` (about 0.1 µs a row, nearly all of it FTS5 stepping through its
/// index), their weighted frequencies and lengths kept; the IDFs follow from the counts, the
/// query's boolean form (`shape`) is applied to the row sets, and only the best `limit` rows are
/// kept (docs/search.md, docs/benchmarks.md).
///
/// `shape` is ``SearchQuery/fts5Shape``: the number of phrases in each AND-ed group of OR-ed
/// phrases, then after `;` the number of excluded phrases, in the order the expression names
/// them (the order FTS5 numbers phrases in). When it does not fit the statement's phrases, when the
/// rows' ids are too spread out for the dense arrays below, or when the query's words have so many
/// rows that keeping them would take more memory than ranking in SQL (``maximumPostings``), the
/// result is NULL and the caller ranks with `ctxmem_rank` in SQL instead.
enum FTS5TopRanked {
    static let name = "ctxmem_top"

    static func register(_ db: Database, lengths: SectionLengths) {
        FTS5Rank.register(name, topRows, on: db, lengths: lengths)
    }

    /// `shape` read back: phrases per group, and excluded phrases.
    struct Shape: Equatable {
        var groups: [Int]
        var exclusions: Int

        init(groups: [Int], exclusions: Int) {
            self.groups = groups
            self.exclusions = exclusions
        }

        /// `"1,2;1"`; nil when malformed.
        init?(_ text: String) {
            let parts = text.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 2, let exclusions = Int(parts[1]), exclusions >= 0 else { return nil }
            let groups = parts[0].split(separator: ",").map { Int($0) ?? 0 }
            guard !groups.isEmpty, groups.allSatisfy({ $0 > 0 }), groups.count < 255 else { return nil }
            self.groups = groups
            self.exclusions = exclusions
        }

        var text: String { groups.map(String.init).joined(separator: ",") + ";" + String(exclusions) }
        var phraseCount: Int { groups.reduce(0, +) + exclusions }
    }

    /// One row of a phrase: its id, its weighted frequency of the phrase and its length in tokens.
    struct Posting {
        var rowid: Int64
        var frequency: Double
        var length: UInt32
    }

    /// A phrase's rows in the order FTS5 gives them (ascending rowid), in plain memory: appended to
    /// for every row a phrase has, without reference counting or exclusivity checks.
    struct Postings {
        private(set) var base: UnsafeMutablePointer<Posting>?
        private(set) var count = 0
        private var capacity = 0

        mutating func append(_ posting: Posting) {
            if count == capacity {
                let grown = UnsafeMutablePointer<Posting>.allocate(capacity: max(1024, capacity * 2))
                if let base {
                    grown.moveInitialize(from: base, count: count)
                    base.deallocate()
                }
                base = grown
                capacity = max(1024, capacity * 2)
            }
            (base! + count).initialize(to: posting)
            count += 1
        }

        var rows: UnsafeBufferPointer<Posting> { UnsafeBufferPointer(start: base, count: count) }

        /// Frees the memory; whoever walked a phrase owns its postings.
        func deallocate() { base?.deallocate() }
    }

    /// Which rows of a phrase are worth scoring: those in `low..<low + groupsMet.count` that every
    /// earlier group matched (`groupsMet[row - low] == required`). Nil: all of them.
    struct Candidates {
        var low: Int64
        var groupsMet: UnsafeMutableBufferPointer<UInt8>
        var required: UInt8

        @inline(__always) func contains(_ rowid: Int64) -> Bool {
            let slot = rowid &- low
            return slot >= 0 && slot < Int64(groupsMet.count) && groupsMet[Int(slot)] == required
        }
    }

    /// What the `xQueryPhrase` callback works on, for one phrase of one query: plain memory the
    /// callback reaches through a pointer (``Walk`` keeps what only the rare length read needs).
    struct WalkState {
        var weights: UnsafeBufferPointer<Double>
        var lengths: SectionLengths.Snapshot
        var candidates: Candidates?
        /// False for an excluded phrase: only its candidate rows' ids are kept.
        var scoring = true
        /// The phrase's rows, candidates or not (its IDF counts them all).
        var hits: Int64 = 0
        /// Rows walked so far in this query, across phrases: when they reach
        /// ``SectionLengths/loadingMatches``, every length is read rather than asked of FTS5 row by row.
        var walked: Int64 = 0
        var mayLoad: Bool
        var postings = Postings()
        unowned(unsafe) let walk: Walk
    }

    /// One query's walk over its phrases.
    final class Walk {
        let shared: SectionLengths?
        let connection: OpaquePointer?
        let weights: UnsafeMutableBufferPointer<Double>
        private var state: UnsafeMutablePointer<WalkState>!

        init(weights: [Double], shared: SectionLengths?, connection: OpaquePointer?) {
            self.shared = shared
            self.connection = connection
            self.weights = .allocate(capacity: weights.count)
            _ = self.weights.initialize(from: weights)
            // Brought up to date when already read; otherwise read once the query proves large.
            let lengths = shared?.current(connection: connection, loadingFor: 0) ?? .empty
            state = .allocate(capacity: 1)
            state.initialize(
                to: WalkState(
                    weights: UnsafeBufferPointer(self.weights), lengths: lengths,
                    mayLoad: shared != nil && lengths.slots == nil, walk: self))
        }

        deinit {
            state.pointee.postings.deallocate()
            state.deinitialize(count: 1)
            state.deallocate()
            weights.deallocate()
        }

        /// Walks phrase `phrase`'s rows, keeping the candidates'; returns them (the caller owns
        /// them) with how many rows the phrase has.
        func walk(
            _ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, phrase: Int32, candidates: Candidates?,
            scoring: Bool
        ) -> (postings: Postings, hits: Int64)? {
            state.pointee.candidates = candidates
            state.pointee.scoring = scoring
            state.pointee.hits = 0
            state.pointee.postings = Postings()
            let status = api.pointee.xQueryPhrase(fts, phrase, UnsafeMutableRawPointer(state)) { api, fts, state in
                guard let api, let state else { return SQLITE_ERROR }
                return FTS5TopRanked.visit(api, fts, state.assumingMemoryBound(to: WalkState.self))
            }
            let postings = state.pointee.postings
            state.pointee.postings = Postings()
            guard status == SQLITE_OK else {
                postings.deallocate()
                return nil
            }
            return (postings, state.pointee.hits)
        }

        /// Every length read, when the query has proved large enough to pay for it.
        func load(walked: Int64) -> SectionLengths.Snapshot {
            shared?.current(connection: connection, loadingFor: walked) ?? .empty
        }
    }

    /// The callback's work for one row of a phrase.
    @inline(__always)
    private static func visit(
        _ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer?, _ state: UnsafeMutablePointer<WalkState>
    ) -> Int32 {
        let rowid = api.pointee.xRowid(fts)
        state.pointee.hits += 1
        state.pointee.walked += 1
        if let candidates = state.pointee.candidates, !candidates.contains(rowid) { return SQLITE_OK }
        guard state.pointee.scoring else {
            state.pointee.postings.append(Posting(rowid: rowid, frequency: 0, length: 0))
            return SQLITE_OK
        }
        var iterator = Fts5PhraseIter()
        var column: Int32 = 0
        var offset: Int32 = 0
        guard api.pointee.xPhraseFirst(fts, 0, &iterator, &column, &offset) == SQLITE_OK else { return SQLITE_ERROR }
        let weights = state.pointee.weights
        var frequency = 0.0
        while column >= 0 {
            frequency += Int(column) < weights.count ? weights[Int(column)] : 1
            api.pointee.xPhraseNext(fts, &iterator, &column, &offset)
        }
        var length = state.pointee.lengths[rowid]
        if length == 0, state.pointee.mayLoad, state.pointee.walked >= SectionLengths.loadingMatches {
            state.pointee.mayLoad = false
            state.pointee.lengths = state.pointee.walk.load(walked: state.pointee.walked)
            length = state.pointee.lengths[rowid]
        }
        if length == 0 {
            var tokens: Int32 = 0
            guard api.pointee.xColumnSize(fts, -1, &tokens) == SQLITE_OK else { return SQLITE_ERROR }
            length = UInt32(clamping: tokens)
        }
        state.pointee.postings.append(Posting(rowid: rowid, frequency: frequency, length: length))
        return SQLITE_OK
    }

    /// The dense arrays (9 bytes a slot) span the first group's row ids: at most `denseSlots`, or
    /// 16 slots per row when more, and never more than `maximumSlots` (72 MiB). A few matches
    /// spread over a long-lived index's ids are left to SQL, which ranks few rows cheaply.
    static let denseSlots: Int64 = 1 << 18
    static let maximumSlots: Int64 = 1 << 23
    /// Rows kept across a query's phrases (24 bytes each) before it is left to SQL, which ranks in
    /// less memory: 2,000,000 is 28 words each found in every section of the 50 MB corpus. Checked
    /// after each phrase, which has at most one row per section.
    static let maximumPostings = 2_000_000

    private static let topRows: fts5_extension_function = { apiPointer, fts, context, argumentCount, arguments in
        guard let api = apiPointer, argumentCount >= 2, let arguments else { return }
        let limit = Int(sqlite3_value_int64(arguments[0]))
        guard limit > 0, let shapeText = sqlite3_value_text(arguments[1]).map({ String(cString: $0) }),
            let shape = Shape(shapeText), shape.phraseCount == Int(api.pointee.xPhraseCount(fts))
        else {
            sqlite3_result_null(context)
            return
        }
        let weights = (2..<Int(argumentCount)).map { sqlite3_value_double(arguments[$0]) }
        var rows: Int64 = 0
        var tokens: Int64 = 0
        guard api.pointee.xRowCount(fts, &rows) == SQLITE_OK,
            api.pointee.xColumnTotalSize(fts, -1, &tokens) == SQLITE_OK
        else {
            sqlite3_result_error(context, "ctxmem_top: cannot read the index statistics", -1)
            return
        }
        let shared = api.pointee.xUserData(fts).map { Unmanaged<SectionLengths>.fromOpaque($0).takeUnretainedValue() }
        let walk = Walk(weights: weights, shared: shared, connection: sqlite3_context_db_handle(context))
        let result: Result<[Ranked]?, WalkFailed> = best(
            limit: limit, shape: shape, rows: rows,
            averageLength: Double(tokens) / Double(max(rows, 1))
        ) { phrase, candidates, scoring in
            walk.walk(api, fts, phrase: Int32(phrase), candidates: candidates, scoring: scoring)
        }
        switch result {
        case .failure:
            sqlite3_result_error(context, "ctxmem_top: cannot read a phrase's rows", -1)
        case .success(nil):
            sqlite3_result_null(context)
        case .success(let best?):
            var bytes = [UInt8](repeating: 0, count: best.count * 16)
            bytes.withUnsafeMutableBytes { raw in
                for (index, row) in best.enumerated() {
                    raw.storeBytes(of: row.rowid.littleEndian, toByteOffset: index * 16, as: Int64.self)
                    raw.storeBytes(of: row.rank.bitPattern.littleEndian, toByteOffset: index * 16 + 8, as: UInt64.self)
                }
                sqlite3_result_blob(
                    context, raw.baseAddress, Int32(raw.count),
                    unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self))
            }
        }
    }

    struct WalkFailed: Error {}

    /// The query's best rows. `walk` gives a phrase's rows (the candidates' only, when given), with
    /// how many rows it has. A row is in the result when each group has a phrase in it and no
    /// excluded phrase is; its score is `bm25`'s sum over the phrases in their order (a phrase a
    /// row lacks adds 0). The first group's rows are walked whole and bound every other walk: a
    /// later group's phrase only scores the rows every earlier group matched. Nil when the first
    /// group's ids are too spread out for dense arrays, or more than `maximumPostings` rows are kept.
    static func best(
        limit: Int, shape: Shape, rows: Int64, averageLength: Double, maximumPostings: Int = maximumPostings,
        walk: (Int, Candidates?, Bool) -> (postings: Postings, hits: Int64)?
    ) -> Result<[Ranked]?, WalkFailed> {
        var stored = 0
        var postings: [Postings] = []
        var hits: [Int64] = []
        defer { for posting in postings { posting.deallocate() } }
        var groupsMet = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
        defer { groupsMet.deallocate() }
        var candidates: Candidates?
        var phrase = 0
        for (group, size) in shape.groups.enumerated() {
            let first = phrase
            for _ in 0..<size {
                guard let walked = walk(phrase, candidates, true) else { return .failure(WalkFailed()) }
                postings.append(walked.postings)
                hits.append(walked.hits)
                phrase += 1
                stored += walked.postings.count
                guard stored <= maximumPostings else { return .success(nil) }
            }
            if group == 0 {
                var low = Int64.max
                var high = Int64.min
                var entries = 0
                for rows in postings[first..<phrase].map(\.rows) {
                    guard let firstRow = rows.first?.rowid, let lastRow = rows.last?.rowid else { continue }
                    low = min(low, firstRow, lastRow)
                    high = max(high, firstRow, lastRow)
                    entries += rows.count
                }
                guard low <= high else { return .success([]) }
                let (spread, overflow) = high.subtractingReportingOverflow(low)
                guard !overflow, spread < min(max(denseSlots, 16 * Int64(entries)), maximumSlots) else {
                    return .success(nil)
                }
                groupsMet = .allocate(capacity: Int(high - low + 1))
                groupsMet.initialize(repeating: 0)
                candidates = Candidates(low: low, groupsMet: groupsMet, required: 0)
            }
            // The rows this group matched, once each, now met one group more.
            let met = UInt8(group + 1)
            for rows in postings[first..<phrase].map(\.rows) {
                for posting in rows {
                    let slot = Int(posting.rowid &- candidates!.low)
                    guard slot >= 0, slot < groupsMet.count else { return .success(nil) }  // not in rowid order
                    if groupsMet[slot] == met - 1 { groupsMet[slot] = met }
                }
            }
            candidates!.required = met
        }
        guard var candidates else { return .success([]) }
        let scored = phrase
        let excluded: UInt8 = 0xFF
        for phrase in scored..<shape.phraseCount {
            guard let walked = walk(phrase, candidates, false) else { return .failure(WalkFailed()) }
            for posting in walked.postings.rows { groupsMet[Int(posting.rowid - candidates.low)] = excluded }
            walked.postings.deallocate()
        }
        let wanted = UInt8(shape.groups.count)
        candidates.required = wanted
        // bm25's sum, phrase by phrase in order, for the rows of the result.
        let k1 = FTS5Rank.k1
        let b = FTS5Rank.b
        var scores = [Double](repeating: 0, count: groupsMet.count)
        for index in 0..<scored {
            let count = Double(hits[index])
            let raw = log((Double(rows) - count + 0.5) / (count + 0.5))
            let idf = raw <= 0 ? 1e-6 : raw
            for posting in postings[index].rows where candidates.contains(posting.rowid) {
                let frequency = posting.frequency
                let norm = k1 * (1 - b + b * Double(posting.length) / averageLength)
                // bm25's order of operations
                scores[Int(posting.rowid - candidates.low)] += idf * ((frequency * (k1 + 1)) / (frequency + norm))
            }
        }
        var heap = TopHeap(limit: limit)
        for rows in postings[0..<shape.groups[0]].map(\.rows) {
            for posting in rows where candidates.contains(posting.rowid) {
                let slot = Int(posting.rowid - candidates.low)
                groupsMet[slot] = excluded  // taken: a row in two of the group's phrases comes once
                heap.offer(Ranked(rowid: posting.rowid, rank: -scores[slot]))
            }
        }
        return .success(heap.sorted())
    }

    struct Ranked: Equatable {
        var rowid: Int64
        var rank: Double
        /// `ORDER BY rank, rowid`.
        static func precedes(_ a: Ranked, _ b: Ranked) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.rowid < b.rowid)
        }
    }

    /// The best `limit` rows offered, kept in a binary heap with the worst kept row on top.
    struct TopHeap {
        let limit: Int
        private var items: [Ranked] = []

        init(limit: Int) {
            self.limit = limit
            items.reserveCapacity(min(limit, 4096))
        }

        mutating func offer(_ row: Ranked) {
            if items.count < limit {
                items.append(row)
                var child = items.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard Ranked.precedes(items[parent], items[child]) else { break }
                    items.swapAt(parent, child)
                    child = parent
                }
            } else if Ranked.precedes(row, items[0]) {
                items[0] = row
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    let right = left + 1
                    var worst = parent
                    if left < items.count, Ranked.precedes(items[worst], items[left]) { worst = left }
                    if right < items.count, Ranked.precedes(items[worst], items[right]) { worst = right }
                    guard worst != parent else { break }
                    items.swapAt(parent, worst)
                    parent = worst
                }
            }
        }

        func sorted() -> [Ranked] { items.sorted(by: Ranked.precedes) }
    }

    /// Reads the function's blob back.
    static func decode(_ data: Data) -> [Ranked] {
        data.withUnsafeBytes { raw in
            (0..<raw.count / 16).map { index in
                Ranked(
                    rowid: Int64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 16, as: Int64.self)),
                    rank: Double(
                        bitPattern: UInt64(
                            littleEndian: raw.loadUnaligned(fromByteOffset: index * 16 + 8, as: UInt64.self))))
            }
        }
    }
}
