import Foundation
import Testing

/// `ctxmem usage` run as a user runs it, on a copy of Fixtures/transcripts as Claude Code's folder.
@Suite("ctxmem usage end to end")
struct UsageCLITests {
    static func usage(_ tree: FixtureTree, _ extra: [String] = []) throws -> CLITests.Run {
        try CLITests.run(["usage", "--claude-dir", tree.root.path, "--project", "/srv/app.v2"] + extra)
    }

    @Test("a table per session, main agent first, sub-agents indented, the agent over 80% marked")
    func text() throws {
        let tree = try FixtureTree("transcripts")
        let run = try Self.usage(tree)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first?.hasPrefix("2 sessions in ") == true)
        let header = try #require(lines.firstIndex { $0.contains("agent") && $0.contains("peak context") })
        #expect(lines[header + 1].hasPrefix("  main "))
        #expect(lines[header + 1].contains("150,000") && lines[header + 1].contains("75% of 200K"))
        let backend = try #require(lines.first { $0.contains("backend-manager (a11)") })
        #expect(backend.hasPrefix("    backend-manager"))
        #expect(backend.contains("85% of 200K  !"))
        #expect(lines.contains { $0.contains("qa-manager (a22)") && $0.contains("25% of 1M") })
        #expect(lines.contains { $0.contains("30% of 1M*") })
        #expect(run.stdout.contains("! peak context over 80% of the window: close to compaction"))
        #expect(run.stdout.contains("Lines: 29 read, 10 requests, 1 compaction, 12 skipped (no usage), 3 malformed"))
        for hostile in ["<script>", "sk-ant-api03", "pwned", "\u{1B}", "999,999"] {
            #expect(!run.stdout.contains(hostile), "\(hostile)")
        }
    }

    @Test("--json: the report's shape, newest session first")
    func json() throws {
        let tree = try FixtureTree("transcripts")
        let run = try Self.usage(tree, ["--json", "--session", "1111"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = tree.url("usage.json")
        try Data(run.stdout.utf8).write(to: output)
        try SchemaValidator.validate(
            instance: output, schema: TestPaths.schemas.appendingPathComponent("usage-report.schema.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["threshold"] as? Double) == 0.8)
        let sessions = try #require(object["sessions"] as? [[String: Any]])
        #expect(sessions.count == 1)
        let agents = try #require(sessions.first?["agents"] as? [[String: Any]])
        #expect(agents.map { $0["id"] as? String } == ["main", "a11", "a22"])
        #expect(agents[1]["agentType"] as? String == "backend-manager")
        #expect(agents[1]["overThreshold"] as? Bool == true)
        #expect(agents[2]["windowSource"] as? String == "model")
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["requests"] as? Int == 6 && totals["malformed"] as? Int == 3)
    }

    @Test("an agent type with terminal controls is shown escaped, whatever stdout is")
    func escapedNames() throws {
        let tree = try FixtureTree("transcripts")
        try tree.write(
            "projects/-srv-app-v2/11111111-aaaa-4bbb-8ccc-000000000001/subagents/agent-a11.meta.json",
            #"{"agentType": "evil\u001b]0;owned\u0007\u202e"}"#)
        let run = try Self.usage(tree)
        #expect(run.status == 0)
        #expect(run.stdout.contains(#"evil\x1b]0;owned\x07\u202e (a11)"#))
        #expect(!run.stdout.contains("\u{1B}") && !run.stdout.contains("\u{202E}"))
    }

    @Test("no transcript folder: exit 1 naming the folder and the options; no sessions: an empty report, exit 0")
    func missingAndEmpty() throws {
        let tree = try FixtureTree("transcripts")
        let missing = try CLITests.run(["usage", "--claude-dir", tree.root.path, "--project", "/srv/other"])
        #expect(missing.status == 1)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.contains(tree.url("projects/-srv-other").path))
        #expect(missing.stderr.contains("--project") && missing.stderr.contains("--claude-dir"))
        try FileManager.default.createDirectory(at: tree.url("projects/-srv-empty"), withIntermediateDirectories: true)
        let empty = try CLITests.run(["usage", "--claude-dir", tree.root.path, "--project", "/srv/empty"])
        #expect(empty.status == 0)
        #expect(empty.stdout.hasPrefix("No Claude Code sessions in "))
        let emptyJSON = try CLITests.run(["usage", "--claude-dir", tree.root.path, "--project", "/srv/empty", "--json"])
        #expect(emptyJSON.status == 0 && emptyJSON.stdout.contains(#""sessions" : ["#))
        let bad = try Self.usage(tree, ["--window", "0"])
        #expect(bad.status == 2)
    }

    @Test("CLAUDE_CONFIG_DIR is Claude Code's folder when --claude-dir is not given")
    func configDirectory() throws {
        let tree = try FixtureTree("transcripts")
        let run = try CLITests.run(
            ["usage", "--project", "/srv/app.v2", "--json"], environment: ["CLAUDE_CONFIG_DIR": tree.root.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("backend-manager"))
    }
}
