import Foundation
import Testing

@testable import ContextMemory

@Suite("Indexing a memory tree")
struct IndexerTests {
    @Test("discovers memory files, imports and links, and nothing else")
    func discovery() async throws {
        let tree = try FixtureTree()
        let report = try await tree.service.index()
        let paths = try tree.indexedPaths()
        #expect(
            paths == [
                "CLAUDE.md", "AGENTS.md", ".claude/agents/backend-manager.md", ".claude/rules/security.md",
                "docs/overview.md", "docs/deep/one.md", "docs/deep/two.md", "docs/deep/three.md", "docs/deep/four.md",
                "docs/deep/five.md",
                "project_management/README.md", "project_management/decisions/ADR-0005-gitops.md",
                "project_management/runbooks/deploy.md", "project_management/status/tokyo.md",
                "project_management/archive/old.md", "notes/linked.md",
            ])
        #expect(report.added == paths.count)
        #expect(report.changed == 0 && report.removed == 0 && report.unchanged == 0)
        #expect(!paths.contains("unrelated/ignored.md"))
        #expect(!paths.contains("docs/not-imported.md"))
    }

    @Test("records how many import hops reach each file")
    func importDepths() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let stored = try tree.storedFiles()
        #expect(stored["CLAUDE.md"]?.importDepth == 0)
        #expect(stored[".claude/rules/security.md"]?.importDepth == 0)
        #expect(stored["docs/overview.md"]?.importDepth == 1)
        #expect(stored["docs/deep/three.md"]?.importDepth == 4)
        #expect(stored["docs/deep/four.md"]?.importDepth == 5)  // past Claude Code's 4 hops: recorded, still indexed
        // Reached by a link only: Claude Code never expands imports there.
        #expect(stored["project_management/README.md"]?.importDepth == nil)
        #expect(stored["AGENTS.md"]?.importDepth == 1)
    }

    @Test("imports are followed from a file an import reaches only in a later wave")
    func importsReachedLate() async throws {
        let tree = try FixtureTree()
        // project_management/late.md is memory from the start, but only docs/hop.md (found
        // through CLAUDE.md's import, one wave later) makes it imported; its own import must then
        // be followed, on the first run and on one where only docs/hop.md changed.
        try tree.append("CLAUDE.md", "\n@docs/hop.md\n")
        try tree.write("docs/hop.md", "# Hop\n\n@../project_management/late.md\n")
        try tree.write("project_management/late.md", "# Late\n\n@../docs/only-imported.md\n")
        try tree.write("docs/only-imported.md", "# Only imported\n\nReached by one import chain.\n")
        for run in 0..<2 {
            if run == 1 { try tree.append("docs/hop.md", "\nChanged.\n") }
            _ = try await tree.service.index()
            let stored = try tree.storedFiles()
            #expect(stored["docs/hop.md"]?.importDepth == 1)
            #expect(stored["project_management/late.md"]?.importDepth == 2)
            #expect(stored["docs/only-imported.md"]?.importDepth == 3, "run \(run)")
        }
    }

    @Test("a file first reached by a link has its imports followed once an import reaches it too")
    func linkedThenImported() async throws {
        let tree = try FixtureTree()
        // docs/linked.md is found through CLAUDE.md's link in the first wave after the root files,
        // and only becomes imported two waves later (CLAUDE.md -> hop-a -> hop-b -> linked.md).
        try tree.append("CLAUDE.md", "\nSee [the linked notes](docs/linked.md).\n\n@docs/hop-a.md\n")
        try tree.write("docs/hop-a.md", "# Hop A\n\n@hop-b.md\n")
        try tree.write("docs/hop-b.md", "# Hop B\n\n@linked.md\n")
        try tree.write("docs/linked.md", "# Linked\n\n@only-via-linked.md\n")
        try tree.write("docs/only-via-linked.md", "# Only via linked\n\nReached by one import.\n")
        _ = try await tree.service.index()
        let stored = try tree.storedFiles()
        #expect(stored["docs/linked.md"]?.importDepth == 3)
        #expect(stored["docs/only-via-linked.md"]?.importDepth == 4)
    }

    @Test("a second run reads nothing when nothing changed")
    func noChange() async throws {
        let tree = try FixtureTree()
        let first = try await tree.service.index()
        let second = try await tree.service.index()
        #expect(second.unchanged == first.added)
        #expect(second.added == 0 && second.changed == 0 && second.removed == 0)
        #expect(second.bytesParsed == 0)
        #expect(second.generation == first.generation)
    }

    @Test(
        "the same tree gets the same section ids every time (files are written in path order, whatever core parsed them)"
    )
    func deterministicIDs() async throws {
        let tree = try FixtureTree()
        // Enough files for both cores to parse some of each batch.
        for index in 0..<40 {
            try tree.write(
                "project_management/notes/note-\(index).md", "# Note \(index)\n\nText \(index).\n\n## More\n\nDetail.\n"
            )
        }
        func ids() async throws -> [String] {
            _ = try await tree.service.index(rebuild: true)
            let store = try tree.readStore()
            return try store.read { db in
                try String.fetchAll(db, sql: "SELECT id || ' ' || path || '#' || ordinal FROM sections ORDER BY id")
            }
        }
        let first = try await ids()
        #expect(first.count > 80)
        for _ in 0..<3 { #expect(try await ids() == first) }
        // Ids follow path order within the first wave.
        let paths = first.map { String($0.split(separator: " ")[1].split(separator: "#")[0]) }
        let notes = paths.filter { $0.hasPrefix("project_management/notes/") }
        #expect(notes == notes.sorted())
    }

    @Test("add, change, delete and rename are each applied")
    func incremental() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()

        try tree.write("project_management/plans/new-plan.md", "# New plan\n\nQuasar rollout.\n")
        var report = try await tree.service.index()
        #expect(report.added == 1 && report.changed == 0 && report.removed == 0)
        await #expect(try tree.service.search("quasar").map(\.path) == ["project_management/plans/new-plan.md"])

        try tree.write("project_management/plans/new-plan.md", "# New plan\n\nPulsar rollout.\n")
        report = try await tree.service.index()
        #expect(report.changed == 1 && report.added == 0)
        await #expect(try tree.service.search("quasar").isEmpty)
        await #expect(try tree.service.search("pulsar").count == 1)

        try FileManager.default.moveItem(
            at: tree.url("project_management/plans/new-plan.md"),
            to: tree.url("project_management/plans/renamed.md"))
        report = try await tree.service.index()
        #expect(report.added == 1 && report.removed == 1)
        await #expect(try tree.service.search("pulsar").map(\.path) == ["project_management/plans/renamed.md"])

        try tree.remove("project_management/plans/renamed.md")
        report = try await tree.service.index()
        #expect(report.removed == 1)
        await #expect(try tree.service.search("pulsar").isEmpty)
    }

    @Test("a large run indexes its text while files are still being parsed, and every section is found once")
    func fullTextWhileParsing() async throws {
        let tree = try FixtureTree()
        // 80 files of 20 sections: past the 1,000 sections after which the writer indexes text while it waits.
        func write(_ file: Int, word: String) throws {
            let sections = (0..<20).map { "## Part \($0)\n\n\(word)\(file)x\($0) and common text.\n" }.joined(
                separator: "\n")
            try tree.write("project_management/bulk/file-\(file).md", "# File \(file)\n\n" + sections)
        }
        for file in 0..<80 { try write(file, word: "alpha") }
        _ = try await tree.service.index()
        let store = try tree.readStore()
        let counts = try store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sections") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sections_fts") ?? 0
            )
        }
        #expect(counts.0 > 1_600 && counts.1 == counts.0)
        for file in [0, 41, 79] {
            await #expect(
                try tree.service.search("alpha\(file)x7").map(\.path) == ["project_management/bulk/file-\(file).md"])
        }
        // Changed and removed files leave nothing behind in the full-text index.
        for file in 0..<40 { try write(file, word: "beta") }
        for file in 70..<80 { try tree.remove("project_management/bulk/file-\(file).md") }
        _ = try await tree.service.index()
        await #expect(try tree.service.search("alpha0x7").isEmpty)
        await #expect(try tree.service.search("beta0x7").count == 1)
        await #expect(try tree.service.search("alpha75x7").isEmpty)
        await #expect(try tree.service.search("alpha41x7").count == 1)
        let after = try store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sections") ?? 0,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sections_fts") ?? 0
            )
        }
        #expect(after.1 == after.0)
    }

    @Test("a touched file with the same content is not parsed again")
    func touchedFile() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let url = tree.url("AGENTS.md")
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: url.path)
        let report = try await tree.service.index()
        #expect(report.changed == 0 && report.bytesParsed == 0)
        let again = try await tree.service.index()
        #expect(again.unchanged == report.unchanged)
    }

    @Test("a file that loses its last link leaves the index; one that gains a link enters")
    func linkClosure() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        try tree.write(
            "project_management/README.md", "# Project management\n\nSee [ignored](../unrelated/ignored.md).\n")
        _ = try await tree.service.index()
        let paths = try tree.indexedPaths()
        #expect(paths.contains("unrelated/ignored.md"))
        #expect(!paths.contains("notes/linked.md"))
        #expect(paths.contains("project_management/decisions/ADR-0005-gitops.md"))  // under project_management anyway
    }

    @Test("include and exclude globs from .ctxmem.yaml")
    func configuration() async throws {
        let tree = try FixtureTree()
        try tree.write(
            ".ctxmem.yaml",
            """
            include: ["unrelated/**/*.md"]
            exclude: ["project_management/archive/**"]
            tier_rules:
              - path: "notes/**"
                tier: essential
            """)
        _ = try await tree.service.index()
        let paths = try tree.indexedPaths()
        #expect(paths.contains("unrelated/ignored.md"))
        #expect(!paths.contains("project_management/archive/old.md"))
        let hits = try await tree.service.search("reached link", options: SearchOptions(tier: .essential))
        #expect(hits.map(\.path) == ["notes/linked.md"])
    }

    @Test("a changed configuration re-parses everything")
    func configurationChange() async throws {
        let tree = try FixtureTree()
        let first = try await tree.service.index()
        try tree.write(".ctxmem.yaml", "tier_rules:\n  - path: \"AGENTS.md\"\n    tier: operational\n")
        let second = try await tree.service.index()
        #expect(second.changed == first.added)
        await #expect(try tree.service.search("orchestrator").first?.tier == .operational)
    }

    @Test("an invalid configuration is a clear error")
    func invalidConfiguration() async throws {
        let tree = try FixtureTree()
        try tree.write(".ctxmem.yaml", "include: [unclosed\n")
        await #expect(throws: ConfigurationError.self) { _ = try await tree.service.index() }
        try tree.write(".ctxmem.yaml", "imports_depth: 3\n")
        do {
            _ = try await tree.service.index()
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("unknown setting 'imports_depth'"))
        }
    }

    @Test("--rebuild starts over and keeps the same content")
    func rebuild() async throws {
        let tree = try FixtureTree()
        let first = try await tree.service.index()
        let rebuilt = try await tree.service.index(rebuild: true)
        #expect(rebuilt.added == first.added)
        #expect(rebuilt.generation == 1)
    }

    @Test("--rebuild keeps the globs an earlier `--include` added")
    func rebuildKeepsIncludes() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index(include: ["unrelated/**/*.md"])
        let included = try tree.indexedPaths().filter { $0.hasPrefix("unrelated/") }
        #expect(!included.isEmpty)
        _ = try await tree.service.index(rebuild: true)
        #expect(try tree.indexedPaths().filter { $0.hasPrefix("unrelated/") } == included)
    }
}
