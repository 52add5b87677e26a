import Testing

@testable import ContextMemory

@Suite("The import graph")
struct ImportGraphTests {
    /// PackBuilder.importClosure as it stood before ImportGraph: the oracle `closure(from:limit:)`
    /// must match, so that packing can swap to it without a pack changing.
    static func packBuilderClosure(
        of seeds: Set<String>, edges: [String: [String]],
        importDepth: Int
    ) -> [String: String] {
        guard !seeds.isEmpty else { return [:] }
        var reached: [String: String] = [:]
        var frontier = seeds.sorted().map { ($0, $0) }
        for _ in 0..<importDepth where !frontier.isEmpty {
            var next: [(String, String)] = []
            for (path, origin) in frontier {
                for target in edges[path] ?? [] where !seeds.contains(target) && reached[target] == nil {
                    reached[target] = origin
                    next.append((target, origin))
                }
            }
            frontier = next
        }
        return reached
    }

    /// A reproducible graph of `count` files, each importing up to three (itself, repeats and
    /// files that import nothing included).
    static func randomGraph(count: Int, seed: UInt64) -> [String: [String]] {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var edges: [String: [String]] = [:]
        for index in 0..<count {
            let imports = (0..<next(4)).map { _ in "f\(next(count)).md" }
            if !imports.isEmpty { edges["f\(index).md"] = imports }
        }
        return edges
    }

    static let handWritten: [(edges: [String: [String]], seeds: Set<String>)] = [
        ([:], []),
        (["CLAUDE.md": ["a.md"]], []),
        (
            ["CLAUDE.md": ["a.md", "b.md"], "a.md": ["c.md"], "b.md": ["c.md", "d.md"], "c.md": ["e.md"]], ["CLAUDE.md"]
        ),
        // A file two seeds import goes to the seed first in sorted order, not to the nearer one.
        (["z.md": ["shared.md"], "a.md": ["x.md"], "x.md": ["shared.md"]], ["z.md", "a.md"]),
        // A seed another seed imports stays a seed; cycles and self-imports end.
        (["a.md": ["b.md", "a.md"], "b.md": ["a.md", "c.md"], "c.md": ["b.md"]], ["a.md", "b.md"]),
        // A chain longer than any limit.
        (Dictionary(uniqueKeysWithValues: (0..<10).map { ("n\($0)", ["n\($0 + 1)"]) }), ["n0"]),
    ]

    @Test("closure(from:limit:) answers as PackBuilder.importClosure did", arguments: 0..<6)
    func closureMatchesPackBuilder(limit: Int) {
        for (edges, seeds) in Self.handWritten {
            let graph = ImportGraph(imports: edges)
            #expect(
                graph.closure(from: seeds, limit: limit)
                    == Self.packBuilderClosure(of: seeds, edges: edges, importDepth: limit), "\(edges) from \(seeds)")
        }
        for seed in 1...40 {
            let edges = Self.randomGraph(count: 30, seed: UInt64(seed))
            let seeds = Set(edges.keys.sorted().prefix(seed % 5))
            #expect(
                ImportGraph(imports: edges).closure(from: seeds, limit: limit)
                    == Self.packBuilderClosure(of: seeds, edges: edges, importDepth: limit), "graph \(seed)")
        }
    }

    @Test("depths are the shortest hops from any root, within the limit")
    func depths() {
        let graph = ImportGraph(imports: [
            "CLAUDE.md": ["a.md", "b.md"], "a.md": ["c.md"], "c.md": ["d.md"], "d.md": ["e.md"],
            "rule.md": ["d.md"], "b.md": ["CLAUDE.md"],
        ])
        let all = graph.depths(from: ["CLAUDE.md", "rule.md"])
        #expect(all == ["CLAUDE.md": 0, "rule.md": 0, "a.md": 1, "b.md": 1, "d.md": 1, "c.md": 2, "e.md": 2])
        #expect(graph.depths(from: ["CLAUDE.md"], limit: 2) == ["CLAUDE.md": 0, "a.md": 1, "b.md": 1, "c.md": 2])
        #expect(graph.depths(from: ["CLAUDE.md"], limit: 0) == ["CLAUDE.md": 0])
        #expect(graph.depths(from: []) == [:])
    }

    @Test("filter keeps the imports of targets that pass, in order")
    func filter() {
        let graph = ImportGraph(imports: ["a.md": ["gone.md", "b.md", "gone.md", "c.md"]])
        #expect(graph.filter { $0 != "gone.md" }.imports(of: "a.md") == ["b.md", "c.md"])
    }

    @Test("the graph reachable from roots asks each file once and holds only what they reach")
    func reachable() {
        let edges = ["CLAUDE.md": ["a.md"], "a.md": ["b.md", "a.md"], "b.md": ["CLAUDE.md"], "lone.md": ["a.md"]]
        var asked: [String] = []
        let graph = ImportGraph(reachableFrom: ["CLAUDE.md"]) { path in
            asked.append(path)
            return edges[path] ?? []
        }
        #expect(asked == ["CLAUDE.md", "a.md", "b.md"])
        let expected = ["CLAUDE.md": ["a.md"], "a.md": ["b.md", "a.md"], "b.md": ["CLAUDE.md"]]
        #expect(graph == ImportGraph(imports: expected))
    }

    @Test("a cycle is reported at each import that closes it, with one message")
    func cycles() {
        let graph = ImportGraph(imports: [
            "CLAUDE.md": ["docs/a.md"], "docs/a.md": ["docs/b.md"],
            "docs/b.md": ["docs/x.md", "docs/a.md", "docs/a.md"],
            "docs/x.md": ["outside.md"], "outside.md": ["docs/x.md"],
        ])
        let cycles = graph.cycles(among: ["CLAUDE.md", "docs/a.md", "docs/b.md", "docs/x.md"])
        #expect(
            cycles == [
                .init(importer: "docs/b.md", importIndex: 1, files: ["docs/a.md", "docs/b.md", "docs/a.md"]),
                .init(importer: "docs/b.md", importIndex: 2, files: ["docs/a.md", "docs/b.md", "docs/a.md"]),
            ])
        #expect(
            cycles.first?.message == "import cycle: docs/a.md -> docs/b.md -> docs/a.md; "
                + "Claude Code loads each file once, so the cycle only hides the order")
        let outside = graph.cycles(among: ["docs/x.md", "outside.md"])
        #expect(outside.map(\.files) == [["docs/x.md", "outside.md", "docs/x.md"]])
    }
}
