import Foundation
import GRDB
import Testing

@testable import ContextMemory

@Suite("The ranking functions ctxmem_rank and ctxmem_top")
struct RankFunctionTests {
    static let queries = [
        "vpc peering", "\"VPC peering\"", "rollback OR migration", "sync -webhook", "deploy*",
        "ADR-0005", "crd:sync", "ファブリック", "agent", "the",
    ]

    /// Every row's score for `query` by `function` with the store's column weights.
    private static func scores(_ store: SQLiteReader, _ function: String, _ query: String, refresh: Bool) throws
        -> [Int64: Double]
    {
        let expression = FTS5Query.expression(try SearchQuery(parsing: query))
        return try store.read { db in
            if refresh { try store.sectionLengths.refresh(db) }
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, \(function)(sections_fts, \(FTS5Query.pathWeight), \(FTS5Query.headingPathWeight),
                                              \(FTS5Query.titleWeight), \(FTS5Query.bodyWeight))
                    FROM sections_fts WHERE sections_fts MATCH ?
                    """, arguments: [expression])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[1]) })
        }
    }

    private static func expectSameAsBM25(_ store: SQLiteReader, refresh: Bool) throws {
        var matched = 0
        for query in queries {
            let expected = try scores(store, "bm25", query, refresh: false)
            let actual = try scores(store, FTS5Rank.name, query, refresh: refresh)
            #expect(Set(actual.keys) == Set(expected.keys), "\(query)")
            for (id, score) in expected {
                let mine = try #require(actual[id])
                #expect(mine == score, "\(query), row \(id): \(mine) vs bm25 \(score)")
            }
            matched += expected.count
        }
        #expect(matched > 20, "the queries must match enough rows to compare")
    }

    /// `ctxmem_top`'s best rows against `ORDER BY bm25(...), rowid LIMIT limit`, rows and scores alike.
    private static func expectTopSameAsBM25(_ store: SQLiteReader, queries: [String] = queries) throws {
        var compared = 0
        for query in queries {
            let parsed = try SearchQuery(parsing: query)
            for limit in [1, 3, 10, 2_000] {
                let (expected, actual) = try store.read { db in
                    let expected = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT rowid, bm25(sections_fts, \(FTS5Query.pathWeight), \(FTS5Query.headingPathWeight),
                                               \(FTS5Query.titleWeight), \(FTS5Query.bodyWeight)) AS rank
                            FROM sections_fts WHERE sections_fts MATCH ? ORDER BY rank, rowid LIMIT ?
                            """, arguments: [FTS5Query.expression(parsed), limit]
                    ).map { FTS5TopRanked.Ranked(rowid: $0[0], rank: $0[1]) }
                    let actual = try SQLiteReader.topRanked(db, parsed, limit: limit)
                    return (expected, actual)
                }
                let top = try #require(actual, "ctxmem_top declined \(query)")
                #expect(
                    top.map { FTS5TopRanked.Ranked(rowid: $0.0, rank: $0.1) } == expected, "\(query), limit \(limit)")
                compared += expected.count
            }
        }
        #expect(compared > 40, "the queries must match enough rows to compare")
    }

    @Test("ctxmem_top gives the rows and scores of ORDER BY bm25(), rowid LIMIT k, for every query form")
    func topSameAsBM25() async throws {
        let tree = try FixtureTree()
        let count = Int(SectionLengths.loadingMatches) + 100
        // Enough rows for one query to read every length, with ties (equal sections) and exclusions.
        try tree.write(
            "project_management/many.md",
            (0..<count).map {
                "## Widget \($0)\n\nwidget sync text \($0 % 7 == 0 ? "webhook" : "") \($0 % 5 == 0 ? "gadget" : "")\n"
            }.joined(separator: "\n"))
        _ = try await tree.service.index()
        let store = try tree.readStore()
        // Each group's rows differ ("gadget webhook" is every 35th widget), so a missed AND or NOT shows.
        let more = [
            "widget", "widget sync -webhook", "gadget webhook", "gadget -webhook", "webhook OR agent gadget OR sync",
            "widget OR agent OR \"vpc peering\" OR deploy*", "sync agent -widget",
            "rollback OR migration vpc OR widget",
        ]
        try Self.expectTopSameAsBM25(store, queries: Self.queries + more)
        #expect(store.sectionLengths.snapshot.buffer.count > count, "a large query reads every length")
        // Rows written since the lengths were read.
        try tree.write(
            "project_management/new-peering.md", "# VPC peering rollback\n\nDeploy the agent, widget sync.\n")
        _ = try await tree.service.index()
        try Self.expectTopSameAsBM25(store, queries: Self.queries + more)
    }

    @Test("ctxmem_top declines (NULL) a shape that does not fit the query")
    func topDeclinesWrongShape() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let store = try tree.readStore()
        let expression = FTS5Query.expression(try SearchQuery(parsing: "vpc peering"))
        for shape in ["1;0", "1,1;1", "", "x", "1,0;0", "2;-1"] {
            let result = try store.read { db in
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT \(FTS5TopRanked.name)(sections_fts, 5, ?, 1.0) FROM sections_fts WHERE sections_fts MATCH ? LIMIT 1",
                    arguments: [shape, expression])
            }
            let row = try #require(result)
            #expect(row[0] as Data? == nil, "shape \(shape)")
        }
        #expect(FTS5TopRanked.Shape("1,2;1") == FTS5TopRanked.Shape(groups: [1, 2], exclusions: 1))
        #expect(FTS5Query.shape(try SearchQuery(parsing: "vpc \"peering api\" OR sync* -legacy")) == "1,2;1")
    }

    /// Runs `FTS5TopRanked.best` over phrases given as (row id, weighted frequency) lists, walking
    /// them as FTS5 would: every row counts for the IDF, only candidates are kept.
    private static func best(
        _ phrases: [[(Int64, Double)]], shape: FTS5TopRanked.Shape, limit: Int = 10,
        maximumPostings: Int = FTS5TopRanked.maximumPostings
    ) -> [FTS5TopRanked.Ranked]?? {
        let result = FTS5TopRanked.best(
            limit: limit, shape: shape, rows: 100, averageLength: 10, maximumPostings: maximumPostings
        ) { phrase, candidates, _ in
            var postings = FTS5TopRanked.Postings()
            for (rowid, frequency) in phrases[phrase] where candidates?.contains(rowid) ?? true {
                postings.append(
                    FTS5TopRanked.Posting(rowid: rowid, frequency: frequency, length: UInt32(rowid % 7 + 5)))
            }
            return (postings, Int64(phrases[phrase].count))
        }
        guard case .success(let rows) = result else { return nil }
        return rows
    }

    @Test("ctxmem_top's evaluation: OR within a group, AND across groups, NOT, bm25's sum in phrase order, declines")
    func topEvaluation() throws {
        // (A OR B) AND C NOT D
        let phrases: [[(Int64, Double)]] = [
            [(1, 1), (2, 2), (3, 1), (5, 5)], [(3, 2), (4, 1), (8, 1)],
            [(2, 1), (3, 1), (4, 3), (6, 1), (8, 1)], [(8, 1)],
        ]
        let shape = FTS5TopRanked.Shape(groups: [2, 1], exclusions: 1)
        func score(_ rowid: Int64) -> Double {
            var score = 0.0
            for phrase in phrases.dropLast() {
                let hits = Double(phrase.count)
                let idf = max(log((100 - hits + 0.5) / (hits + 0.5)), 1e-6)
                let frequency = phrase.first { $0.0 == rowid }?.1 ?? 0
                let norm = FTS5Rank.k1 * (1 - FTS5Rank.b + FTS5Rank.b * Double(rowid % 7 + 5) / 10)
                score += idf * ((frequency * (FTS5Rank.k1 + 1)) / (frequency + norm))
            }
            return score
        }
        let expected = [2, 3, 4].map { FTS5TopRanked.Ranked(rowid: $0, rank: -score($0)) }.sorted(
            by: FTS5TopRanked.Ranked.precedes)
        #expect(Self.best(phrases, shape: shape) == .some(.some(expected)))
        #expect(Self.best(phrases, shape: shape, limit: 2) == .some(.some(Array(expected.prefix(2)))))
        // No exclusion: row 8 is back.
        let withEight = try #require(
            Self.best(Array(phrases.dropLast()), shape: .init(groups: [2, 1], exclusions: 0)) ?? nil)
        #expect(Set(withEight.map(\.rowid)) == [2, 3, 4, 8])
        // Declined, so SQL ranks: more rows than allowed, or ids too spread out for dense arrays.
        #expect(Self.best(phrases, shape: shape, maximumPostings: 5) == .some(.none))
        #expect(
            Self.best([[(1, 1), (FTS5TopRanked.denseSlots * 4, 1)]], shape: .init(groups: [1], exclusions: 0))
                == .some(.none))
        #expect(
            Self.best([[(Int64.min + 1, 1), (Int64.max, 1)]], shape: .init(groups: [1], exclusions: 0)) == .some(.none))
        #expect(Self.best([[]], shape: .init(groups: [1], exclusions: 0)) == .some(.some([])))
    }

    @Test("the top-rows heap keeps the best rows, ties by row id, whatever the order they come in")
    func topHeap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let rows = (0..<Int.random(in: 0...300, using: &generator)).map {
                FTS5TopRanked.Ranked(rowid: Int64($0), rank: Double(Int.random(in: -20...0, using: &generator)))
            }.shuffled(using: &generator)
            let limit = Int.random(in: 1...40, using: &generator)
            var heap = FTS5TopRanked.TopHeap(limit: limit)
            for row in rows { heap.offer(row) }
            #expect(heap.sorted() == Array(rows.sorted(by: FTS5TopRanked.Ranked.precedes).prefix(limit)))
        }
    }

    @Test("gives bm25's scores, for lengths read ahead and for rows written since")
    func sameAsBM25() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let store = try tree.readStore()
        try Self.expectSameAsBM25(store, refresh: true)
        // Rows written after the lengths were read: first asked of FTS5, then read in.
        try tree.write(
            "project_management/new-peering.md",
            "# VPC peering rollback\n\nDeploy the agent, then sync the crd:sync migration.\n")
        try tree.write("docs/overview.md", "# Architecture overview\n\nRewritten: VPC peering and deploy agents.\n")
        _ = try await tree.service.index()
        try Self.expectSameAsBM25(store, refresh: false)
        try Self.expectSameAsBM25(store, refresh: true)
        let known = store.sectionLengths.snapshot
        let last = known.first + Int64(known.buffer.count) - 1
        #expect(known.buffer.count > 1)
        #expect(known[last] > 0)
        #expect(known[last + 1] == 0 && known[known.first - 1] == 0)
    }

    @Test("when every section is written again, lengths are read again from the lowest live id")
    func rebase() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let store = try tree.readStore()
        try Self.expectSameAsBM25(store, refresh: true)
        let before = store.sectionLengths.snapshot
        // A changed configuration re-parses every file: all old ids die, new ones follow them.
        try tree.write(".ctxmem.yaml", "tier_rules:\n  - path: \"AGENTS.md\"\n    tier: operational\n")
        _ = try await tree.service.index()
        try Self.expectSameAsBM25(store, refresh: true)
        let after = store.sectionLengths.snapshot
        #expect(
            after.first > before.first + Int64(before.buffer.count) - 1,
            "kept from \(after.first), before up to \(before.first + Int64(before.buffer.count) - 1)")
        #expect(after.buffer.count <= before.buffer.count + 8)
    }

    @Test("the reading stores of one index file share its row lengths; a rebuilt file gets new ones")
    func sharedLengths() async throws {
        let tree = try FixtureTree()
        let service = MemoryService(root: tree.root, readerConnections: 2)
        _ = try await service.index()
        let first = try service.sqliteReader()
        let second = try service.sqliteReader()
        #expect(first.sectionLengths === second.sectionLengths)
        _ = try await service.index(rebuild: true)
        #expect(try service.sqliteReader().sectionLengths !== first.sectionLengths)
    }

    @Test("lengths are read when a query is large enough to pay for it, not for a few matches")
    func loadedForLargeQueries() async throws {
        let tree = try FixtureTree()
        let count = Int(SectionLengths.loadingMatches) + 100
        try tree.write(
            "project_management/many.md",
            (0..<count).map { "## Widget \($0)\n\nwidget text \($0)\n" }.joined(separator: "\n"))
        _ = try await tree.service.index()
        let store = try tree.readStore()
        #expect(try !store.search(SearchQuery(parsing: "orchestrator"), options: SearchOptions(limit: 5)).isEmpty)
        #expect(store.sectionLengths.snapshot.slots == nil, "a small query read every length")
        let hits = try store.search(SearchQuery(parsing: "widget"), options: SearchOptions(limit: 5))
        #expect(hits.count == 5)
        #expect(store.sectionLengths.snapshot.buffer.count > count)
        try Self.expectSameAsBM25(store, refresh: false)
    }

    @Test("sums SQLite varints of one to nine bytes")
    func varints() {
        func sum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { SectionLengths.sumOfVarints($0) } }
        #expect(sum([]) == 0)
        #expect(sum([0x05, 0x7F, 0x00]) == 5 + 127)
        #expect(sum([0x81, 0x00]) == 128)
        #expect(sum([0x81, 0x80, 0x01, 0x03]) == 16_385 + 3)
        #expect(sum([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x07]) == 7)
        #expect(sum([0x8F, 0xFF, 0xFF, 0xFF, 0x7F]) == UInt32.max)
    }
}
