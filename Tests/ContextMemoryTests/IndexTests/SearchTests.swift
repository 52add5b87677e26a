import Foundation
import Testing

@testable import ContextMemory

@Suite("Searching the index")
struct SearchTests {
    private static func indexedTree() async throws -> FixtureTree {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        return tree
    }

    @Test(
        "identifiers are found as typed",
        arguments: [
            ("ADR-0005", "project_management/decisions/ADR-0005-gitops.md"),
            ("crd:sync", "project_management/decisions/ADR-0005-gitops.md"),
            ("VPC_peering", "docs/overview.md"),
            ("code/netbox_hedgehog/models.py", "docs/overview.md"),
            ("netbox_hedgehog/models.py", "docs/overview.md"),
        ])
    func identifiers(query: String, expectedPath: String) async throws {
        let tree = try await Self.indexedTree()
        let hits = try await tree.service.search(query)
        #expect(hits.contains { $0.path == expectedPath }, "\(query) -> \(hits.map(\.path))")
    }

    @Test("Japanese text is found inside a sentence", arguments: ["ファブリック", "運用手順", "東京"])
    func cjk(query: String) async throws {
        let tree = try await Self.indexedTree()
        let hits = try await tree.service.search(query)
        #expect(hits.first?.path == "project_management/status/tokyo.md")
        #expect(hits.first?.snippet.contains(SearchHit.highlightOpen) == true)
    }

    @Test("accents do not matter")
    func diacritics() async throws {
        let tree = try await Self.indexedTree()
        await #expect(try tree.service.search("cafe resume").map(\.path) == ["project_management/status/tokyo.md"])
    }

    @Test("a heading match outranks a body match")
    func headingWeight() async throws {
        let tree = try await Self.indexedTree()
        try tree.write(
            "project_management/a-body.md",
            "# Notes\n\nWe talked about gizmo once, among many other things that matter.\n")
        try tree.write(
            "project_management/z-heading.md", "# Gizmo\n\nDetails follow here, among many other things that matter.\n")
        _ = try await tree.service.index()
        let hits = try await tree.service.search("gizmo")
        #expect(hits.map(\.path) == ["project_management/z-heading.md", "project_management/a-body.md"])
        #expect(hits[0].score > hits[1].score)
    }

    @Test("a word in most sections still gets ordered, non-zero scores")
    func frequentWordScores() async throws {
        let tree = try await Self.indexedTree()
        for number in 0..<300 {  // more than half of all sections: BM25's IDF floor
            try tree.write(
                "project_management/common/note-\(number).md",
                "# Note \(number)\n\nThe widget appears here\(String(repeating: " widget", count: number % 4)).\n")
        }
        _ = try await tree.service.index()
        let hits = try await tree.service.search("widget", options: SearchOptions(limit: 20))
        #expect(hits.count == 20)
        #expect(hits.allSatisfy { $0.score > 0 }, "\(hits.map(\.score))")
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(SearchHit.displayScore(0.000002216_7) == 0.000002217)
        #expect(SearchHit.displayScore(12.345_67) == 12.35)
        #expect(SearchHit.displayScore(0) == 0 && SearchHit.displayScore(.nan) == 0)
    }

    @Test("results carry location, heading path, tier, snippet and handle")
    func resultShape() async throws {
        let tree = try await Self.indexedTree()
        let hit = try await #require(try tree.service.search("\"VPC peering\"").first)
        #expect(hit.path == "docs/overview.md")
        #expect(hit.startLine == 11 && hit.endLine == 14)
        #expect(hit.headingPath == ["Architecture overview", "VPC peering"])
        #expect(hit.tier == .detailed)
        #expect(hit.kind == .referenced)
        #expect(hit.handle == "memory://docs/overview.md#vpc-peering")
        #expect(hit.snippet.contains("«VPC peering»"))
        #expect(hit.tokens > 0)
    }

    @Test("a huge section gets a snippet around its match without tokenizing all of it")
    func hugeSection() async throws {
        let tree = try await Self.indexedTree()
        let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 2_000)
        try tree.write("project_management/huge.md", "# Huge\n\n\(filler)\nthe zeppelin landed here\n\(filler)\n")
        _ = try await tree.service.index()
        let hit = try await #require(try tree.service.search("zeppelin").first)
        #expect(hit.path == "project_management/huge.md")
        #expect(hit.snippet.contains("«zeppelin» landed"), "\(hit.snippet)")
        #expect(hit.snippet.count < 400)
        let prefixHit = try await #require(try tree.service.search("zeppel*").first)
        #expect(prefixHit.snippet.contains("«zeppelin»"))
    }

    @Test("a 1 MB line without a space, a long run of punctuation or of matches gives a bounded snippet")
    func boundedSnippets() async throws {
        let tree = try await Self.indexedTree()
        let word = String(repeating: "q", count: 1_048_576)
        try tree.write("project_management/oneline.md", "# One line\n\nmarker \(word) trailer\n")
        try tree.write(
            "project_management/rule.md",
            "# Rule\n\nabove " + String(repeating: "=", count: 40_000) + " kestrel below\n")
        try tree.write("project_management/echo.md", "# Echo\n\n" + String(repeating: "ditto ", count: 20_000) + "\n")
        _ = try await tree.service.index()
        for (query, path, start) in [
            ("marker", "oneline.md", "One line «marker»"), ("qqqq*", "oneline.md", "One line marker «qqqq"),
            ("kestrel", "rule.md", "…«kestrel» below"), ("ditto", "echo.md", "Echo «ditto ditto"),
        ] {
            let hit = try await #require(try tree.service.search(query).first, "\(query)")
            #expect(hit.path == "project_management/" + path)
            #expect(hit.snippet.hasPrefix(start), "\(query): \(hit.snippet.prefix(100))")
            #expect(hit.snippet.count <= 310, "\(query): \(hit.snippet.count) characters")
        }
    }

    @Test("operators: phrase, OR, exclusion, prefix")
    func operators() async throws {
        let tree = try await Self.indexedTree()
        await #expect(
            Set(try tree.service.search("\"source of truth\"").map(\.path)) == [
                "project_management/decisions/ADR-0005-gitops.md"
            ])
        let either = await Set(try tree.service.search("superseded OR vault").map(\.path))
        #expect(either == ["project_management/archive/old.md", ".claude/rules/security.md"])
        let excluded = try await tree.service.search("fabric -controller").map(\.path)
        #expect(!excluded.contains("docs/overview.md"))
        #expect(!excluded.isEmpty)
        await #expect(try tree.service.search("supersed*").map(\.path) == ["project_management/archive/old.md"])
    }

    @Test("filters by tier, kind and path glob")
    func filters() async throws {
        let tree = try await Self.indexedTree()
        let operational = try await tree.service.search(
            "deploy OR plan OR restart", options: SearchOptions(limit: 50, tier: .operational))
        #expect(!operational.isEmpty && operational.allSatisfy { $0.tier == .operational })
        #expect(
            Set(operational.map(\.path)).isSuperset(of: [
                "project_management/runbooks/deploy.md", "project_management/archive/old.md",
            ]))
        let agents = try await tree.service.search("backend", options: SearchOptions(kind: .agent))
        #expect(agents.map(\.path) == [".claude/agents/backend-manager.md"])
        let underDocs = try await tree.service.search(
            "depth OR chain", options: SearchOptions(limit: 50, pathGlob: Glob("docs/deep/**")))
        #expect(underDocs.count == 5 && underDocs.allSatisfy { $0.path.hasPrefix("docs/deep/") })
        let limited = try await tree.service.search("depth OR chain", options: SearchOptions(limit: 2))
        #expect(limited.count == 2)
    }

    @Test("tiers come from markers, headings, paths and kinds")
    func tiers() async throws {
        let tree = try await Self.indexedTree()
        await #expect(try tree.service.search("\"non-negotiable\"").first?.tier == .essential)  // root CLAUDE.md
        await #expect(try tree.service.search("kubectl").first?.tier == .operational)  // Troubleshooting heading
        await #expect(try tree.service.search("superseded").first?.tier == .operational)  // archive/
        await #expect(try tree.service.search("serializers").first?.tier == .essential)  // agent definition
    }

    @Test(
        "malformed queries and bad options are clear errors",
        arguments: ["\"unclosed", "OR", "a OR", "-only", "***", ""])
    func malformed(query: String) async throws {
        let tree = try await Self.indexedTree()
        #expect(throws: SearchError.self) { _ = try tree.service.search(query) }
    }

    @Test("a query that reaches SQLite never raises an FTS5 syntax error")
    func hostileQueries() async throws {
        let tree = try await Self.indexedTree()
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("\"*-():^{}[]'\\/@#$%&|!~<>.,;+=?`ab cé東 ORNEARAND")
        for _ in 0..<400 {
            let length = Int(generator.next() % 24)
            let query = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            do {
                _ = try await tree.service.search(query)
            } catch is SearchError {
                // A clear message is the expected answer to nonsense.
            } catch {
                Issue.record("query \(query.debugDescription) failed with \(error)")
            }
        }
    }

    @Test("a reader during re-indexing sees the old state or the new one, never a mix")
    func snapshotIsolation() async throws {
        let tree = try await Self.indexedTree()
        // Version A: the word in 3 files; version B: in 6. Any other count would be a mix.
        func write(version: Int) throws {
            for index in 0..<6 {
                let word = index < (version == 0 ? 3 : 6) ? "kumquat" : "plum"
                try tree.write("project_management/fruit/\(index).md", "# Fruit \(index)\n\n\(word) \(version)\n")
            }
        }
        try write(version: 0)
        _ = try await tree.service.index()
        let service = tree.service
        let reader = Task.detached {
            var counts: Set<Int> = []
            for _ in 0..<300 {
                counts.insert(try service.search("kumquat", options: SearchOptions(limit: 50)).count)
            }
            return counts
        }
        for round in 1...6 {
            try write(version: round % 2)
            _ = try await service.index()
        }
        let counts = try await reader.value
        #expect(counts.isSubset(of: [3, 6]), "saw \(counts)")
    }

    @Test("reads inside a snapshot see the state it began with while another connection commits")
    func snapshotReads() async throws {
        let tree = try await Self.indexedTree()
        let reader = try tree.readStore()
        let writer = try SQLiteWriter(path: tree.service.databasePath)
        var changes = IndexChanges()
        changes.removedPaths = ["docs/overview.md"]
        changes.metadata = ["generation": "99"]
        let (before, during) = try reader.snapshot {
            let before = (try reader.statistics().documents, try reader.metadata("generation"))
            try writer.apply(changes)  // commits while the snapshot is open
            return (before, (try reader.statistics().documents, try reader.metadata("generation")))
        }
        #expect(during.0 == before.0)
        #expect(during.1 == before.1)
        #expect(try reader.statistics().documents == before.0 - 1)
        #expect(try reader.metadata("generation") == "99")
    }

    @Test("a snippet is one line: runs of whitespace and Unicode line breaks become one space, none at the ends")
    func snippetIsOneLine() {
        #expect(SQLiteReader.cleanSnippet("  a\n\n\tb \u{85}c\u{2028}\u{2029}d é «e»  ") == "a b c d é «e»")
        #expect(SQLiteReader.cleanSnippet("\u{2028}") == "")
    }

    @Test("stats count what was indexed")
    func statistics() async throws {
        let tree = try await Self.indexedTree()
        let stats = try tree.service.statistics()
        #expect(stats.documents == 16)
        #expect(stats.sections > stats.documents)
        #expect(stats.references > 10)
        #expect(stats.tokens == stats.tokensByTier.values.reduce(0, +))
        #expect(stats.documentsByKind["agent"] == 1)
        #expect(stats.generation == 1)
        #expect(stats.lastIndexedAt != nil)
        #expect(stats.indexBytes > 0)
    }

    @Test("Schemas/index-schema.sql matches the migrations")
    func schemaDump() async throws {
        let tree = try await Self.indexedTree()
        let dump = try tree.readStore().connection.schemaDump()
        let schemaFile = TestPaths.schemas.appendingPathComponent("index-schema.sql")
        if ProcessInfo.processInfo.environment["CTXMEM_RECORD"] == "1" {
            try Data(
                ("-- The index schema as SQLite reports it after all migrations. Generated by\n-- CTXMEM_RECORD=1 swift test --filter schemaDump; a test keeps it in step.\n"
                    + dump + "\n").utf8
            ).write(to: schemaFile)
            Issue.record("recorded \(schemaFile.path); review it and run again without CTXMEM_RECORD")
            return
        }
        let recorded = try String(contentsOf: schemaFile, encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n")
        #expect(recorded == dump)
    }
}
