import Foundation
import Testing

/// `ctxmem init` end to end: the built binary on a copy of the fixture project, with a PATH of
/// the test's own making (a fake `claude`, or a `ctxmem` link), so nothing depends on the machine.
@Suite("ctxmem init")
struct InitCLITests {
    /// A fixture copy with an agent that has no `context:` block, and a folder of programs for PATH.
    final class Project {
        let tree: FixtureTree
        let bin: URL

        init() throws {
            tree = try FixtureTree()
            try tree.write(
                ".claude/agents/reviewer.md",
                """
                ---
                name: reviewer
                description: Reviews pull requests for the Django backend and its REST API.
                ---
                You review pull requests.

                """)
            try FileManager.default.createDirectory(
                at: tree.url("project_management/reviewer"), withIntermediateDirectories: true)
            try tree.write("project_management/reviewer/checklist.md", "# Review checklist\n")
            bin = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-bin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: bin) }

        var root: String { tree.root.path }

        /// A `claude` on PATH that prints `output` for --version.
        func fakeClaude(printing output: String) throws {
            let script = bin.appendingPathComponent("claude")
            try Data("#!/bin/sh\necho '\(output)'\n".utf8).write(to: script)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        }

        /// `ctxmem` on PATH: a link to the binary under test.
        func linkCtxmem() throws {
            try FileManager.default.createSymbolicLink(
                at: bin.appendingPathComponent("ctxmem"), withDestinationURL: CLITests.binary)
        }

        func initialize(_ arguments: [String] = []) throws -> CLITests.Run {
            try CLITests.run(["init", "--root", root] + arguments, environment: ["PATH": bin.path])
        }

        func text(_ path: String) throws -> String? {
            guard FileManager.default.fileExists(atPath: tree.url(path).path) else { return nil }
            return try String(contentsOf: tree.url(path), encoding: .utf8)
        }

        func json(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: tree.url(path))) as? [String: Any] ?? [:]
        }

        /// Files under .claude/ and the root whose names hold `ctxmem-backup`.
        func backups() throws -> [String] {
            let manager = FileManager.default
            return
                (try manager.contentsOfDirectory(atPath: tree.url(".claude").path).map { ".claude/" + $0 }
                + manager.contentsOfDirectory(atPath: root))
                .filter { $0.contains("ctxmem-backup") }.sorted()
        }
    }

    /// The handlers of `event` in settings, with their group's matcher.
    static func handlers(_ settings: [String: Any], _ event: String) -> [(matcher: String?, handler: [String: Any])] {
        let groups = (settings["hooks"] as? [String: Any])?[event] as? [[String: Any]] ?? []
        return groups.flatMap { group in
            (group["hooks"] as? [[String: Any]] ?? []).map { (group["matcher"] as? String, $0) }
        }
    }

    @Test("a fresh project gets both files; a second run changes nothing, byte for byte, with no backup")
    func freshProject() throws {
        let project = try Project()
        let first = try project.initialize()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains(".claude/settings.json: created"))
        #expect(first.stdout.contains(".mcp.json: created"))
        let settings = try project.json(".claude/settings.json")
        let command = "\(CLITests.binary.resolvingSymlinksInPath().path) hook --root \"$CLAUDE_PROJECT_DIR\""
        for (event, matcher) in [("SubagentStart", nil), ("PreToolUse", "^(Agent|Task)$"), ("SessionStart", "compact")]
        {
            let found = Self.handlers(settings, event)
            #expect(found.count == 1, "\(event)")
            #expect(found.first?.matcher == matcher, "\(event)")
            #expect(found.first?.handler["type"] as? String == "command")
            #expect(found.first?.handler["command"] as? String == command, "no ctxmem on PATH: the absolute path")
            #expect(found.first?.handler["timeout"] as? Int == 10)
        }
        let server = (try project.json(".mcp.json")["mcpServers"] as? [String: Any])?["ctxmem"] as? [String: Any]
        #expect(server?["command"] as? String == CLITests.binary.resolvingSymlinksInPath().path)
        #expect(server?["args"] as? [String] == ["mcp", "--root", project.tree.root.standardizedFileURL.path])
        #expect(
            try project.text(".claude/settings.json")?.hasPrefix("{\n  \"hooks\": {\n    \"SubagentStart\": [") == true)
        #expect(try project.text(".mcp.json")?.hasSuffix("}\n") == true)
        #expect(try project.backups().isEmpty, "new files need no backup")

        let settingsBefore = try Data(contentsOf: project.tree.url(".claude/settings.json"))
        let serverBefore = try Data(contentsOf: project.tree.url(".mcp.json"))
        let second = try project.initialize()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("Nothing to change"))
        #expect(try Data(contentsOf: project.tree.url(".claude/settings.json")) == settingsBefore)
        #expect(try Data(contentsOf: project.tree.url(".mcp.json")) == serverBefore)
        #expect(try project.backups().isEmpty)
    }

    static let existingSettings = """
        {
          "permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
          "model": "opus",
          "hooks": {
            "PreToolUse": [
              {"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh", "timeout": 1.5e1}]}
            ],
            "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]
          },
          "custom": {"nested": [1, "two", null, false]}
        }
        """

    @Test("existing settings keep every key, hook and their order; the backup holds the original")
    func existingSettingsPreserved() throws {
        let project = try Project()
        try project.tree.write(".claude/settings.json", Self.existingSettings)
        try project.tree.write(".mcp.json", #"{"mcpServers": {"other": {"command": "other-server", "args": []}}}"#)
        let run = try project.initialize()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try project.backups() == [".claude/settings.json.ctxmem-backup", ".mcp.json.ctxmem-backup"])
        #expect(try project.text(".claude/settings.json.ctxmem-backup") == Self.existingSettings)

        let settings = try project.json(".claude/settings.json")
        let original =
            try JSONSerialization.jsonObject(with: Data(Self.existingSettings.utf8)) as? [String: Any] ?? [:]
        for key in ["permissions", "model", "custom"] {
            #expect(
                (settings[key] as? NSObject)?.isEqual(original[key]) == true, "\(key) is kept as it was")
        }
        let preToolUse = Self.handlers(settings, "PreToolUse")
        #expect(preToolUse.map(\.matcher) == ["Bash", "^(Agent|Task)$"], "the user's group first, ctxmem's added")
        #expect(preToolUse.first?.handler["command"] as? String == "./lint.sh")
        #expect(Self.handlers(settings, "Stop").first?.handler["command"] as? String == "say done")
        let text = try project.text(".claude/settings.json") ?? ""
        #expect(text.contains("\"timeout\": 1.5e1"), "numbers as written")
        let order = [
            "\"permissions\"", "\"model\"", "\"hooks\"", "\"PreToolUse\"", "\"Stop\"", "\"SubagentStart\"",
            "\"custom\"",
        ]
        .map { text.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "key order kept")
        let servers = try project.json(".mcp.json")["mcpServers"] as? [String: Any]
        #expect(servers?.keys.sorted() == ["ctxmem", "other"])

        // Again: nothing changes, and no second backup.
        let before = try project.text(".claude/settings.json")
        #expect(try project.initialize().stdout.contains("Nothing to change"))
        #expect(try project.text(".claude/settings.json") == before)
        #expect(try project.backups().count == 2)
    }

    @Test("--dry-run prints a diff and writes nothing")
    func dryRun() throws {
        let project = try Project()
        try project.tree.write(".claude/settings.json", Self.existingSettings)
        let run = try project.initialize(["--dry-run"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Dry run: nothing is written."))
        #expect(run.stdout.contains("--- .claude/settings.json\n+++ .claude/settings.json (after ctxmem init)\n@@ -1,"))
        #expect(run.stdout.contains("+    \"SubagentStart\": ["))
        #expect(run.stdout.contains("--- /dev/null\n+++ .mcp.json (after ctxmem init)\n@@ -0,0 +1,12 @@"))
        #expect(try project.text(".claude/settings.json") == Self.existingSettings)
        #expect(try project.text(".mcp.json") == nil)
        #expect(try project.backups().isEmpty)
    }

    @Test("invalid JSON is refused with its line and column, exit 1, and nothing changes")
    func invalidJSON() throws {
        let project = try Project()
        let broken = "{\n  \"model\": \"opus\",\n  \"hooks\": {,}\n}\n"
        try project.tree.write(".claude/settings.json", broken)
        let run = try project.initialize()
        #expect(run.status == 1)
        #expect(run.stderr.contains(".claude/settings.json:3:13: not valid JSON"), "\(run.stderr)")
        #expect(run.stderr.contains("nothing was changed"))
        #expect(try project.text(".claude/settings.json") == broken)
        #expect(try project.text(".mcp.json") == nil, "the other file is not written either")
        #expect(try project.backups().isEmpty)

        try project.tree.write(".claude/settings.json", #"{"hooks": {"PreToolUse": {}}}"#)
        let shape = try project.initialize()
        #expect(shape.status == 1)
        #expect(shape.stderr.contains("`hooks.PreToolUse` is an object, where Claude Code expects a list"))
    }

    @Test("a stale ctxmem hook is updated where it stands, never duplicated; --http swaps it and back")
    func staleEntryUpdated() throws {
        let project = try Project()
        try project.tree.write(
            ".claude/settings.json",
            """
            {"hooks": {"PreToolUse": [
              {"matcher": "Task", "hooks": [{"type": "command", "command": "/old/bin/ctxmem hook --root /x", "statusMessage": "packing"}]},
              {"matcher": "Write", "hooks": [{"type": "command", "command": "./check.sh"}, {"type": "command", "command": "'/opt/my tools/ctxmem' hook"}]}
            ]}}
            """)
        #expect(try project.initialize().status == 0)
        var settings = try project.json(".claude/settings.json")
        var preToolUse = Self.handlers(settings, "PreToolUse")
        #expect(preToolUse.map(\.matcher) == ["^(Agent|Task)$", "Write"], "the stale group's matcher is updated")
        #expect(preToolUse.first?.handler["statusMessage"] as? String == "packing", "unknown keys are kept")
        #expect(
            (preToolUse.first?.handler["command"] as? String)?.hasSuffix("hook --root \"$CLAUDE_PROJECT_DIR\"") == true)
        #expect(
            preToolUse.map { $0.handler["command"] as? String }.last == "./check.sh",
            "the duplicate goes, not the user's")

        let http = try project.initialize(["--http", "http://127.0.0.1:8377", "--token-env", "CTXMEM_TOKEN"])
        #expect(http.status == 0, "\(http.stderr)")
        settings = try project.json(".claude/settings.json")
        // SessionStart runs only command hooks (Claude Code's hooks reference): it stays a command.
        let session = Self.handlers(settings, "SessionStart")
        #expect(session.count == 1 && session.first?.handler["type"] as? String == "command")
        #expect(session.first?.handler["url"] == nil)
        for event in ["SubagentStart", "PreToolUse"] {
            let ours = Self.handlers(settings, event).filter { $0.handler["url"] != nil || $0.matcher != "Write" }
            #expect(ours.count == 1, "\(event)")
            #expect(ours.first?.handler["type"] as? String == "http")
            #expect(ours.first?.handler["url"] as? String == "http://127.0.0.1:8377/v1/hooks/claude-code")
            #expect(ours.first?.handler["command"] == nil)
            #expect(ours.first?.handler["headers"] as? [String: String] == ["Authorization": "Bearer $CTXMEM_TOKEN"])
            #expect(ours.first?.handler["allowedEnvVars"] as? [String] == ["CTXMEM_TOKEN"])
        }

        #expect(try project.initialize().status == 0)
        settings = try project.json(".claude/settings.json")
        preToolUse = Self.handlers(settings, "PreToolUse")
        #expect(preToolUse.count == 2)
        #expect(preToolUse.first?.handler["type"] as? String == "command")
        #expect(preToolUse.first?.handler["headers"] == nil && preToolUse.first?.handler["url"] == nil)
        #expect(preToolUse.first?.handler["statusMessage"] as? String == "packing")
        #expect(try project.backups().count >= 3, "one backup per changing run: .ctxmem-backup, .1, .2")
        #expect(FileManager.default.fileExists(atPath: project.tree.url(".claude/settings.json.ctxmem-backup.2").path))
    }

    @Test("`ctxmem` on PATH that is this binary is written as `ctxmem`")
    func portableName() throws {
        let project = try Project()
        try project.linkCtxmem()
        #expect(try project.initialize().status == 0)
        let hook = Self.handlers(try project.json(".claude/settings.json"), "SubagentStart").first?.handler
        #expect(hook?["command"] as? String == "ctxmem hook --root \"$CLAUDE_PROJECT_DIR\"")
        let server = (try project.json(".mcp.json")["mcpServers"] as? [String: Any])?["ctxmem"] as? [String: Any]
        #expect(server?["command"] as? String == "ctxmem")
    }

    @Test(
        "--json: files, backups, the Claude Code version and advice per agent",
        arguments: [
            ("2.1.300 (Claude Code)", "2.1.300", true),
            ("2.1.30 (Claude Code)", "2.1.30", false),
            ("2.1.271 (Claude Code)", "2.1.271", true),
            (nil, nil, nil),
        ] as [(String?, String?, Bool?)])
    func jsonSummary(claudeOutput: String?, version: String?, supported: Bool?) throws {
        let project = try Project()
        if let claudeOutput { try project.fakeClaude(printing: claudeOutput) }
        let run = try project.initialize(["--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["root"] as? String == project.tree.root.standardizedFileURL.path)
        #expect(report["dryRun"] as? Bool == false)
        #expect(report["changed"] as? Bool == true)
        let files = report["files"] as? [[String: Any]] ?? []
        #expect(files.map { $0["path"] as? String } == [".claude/settings.json", ".mcp.json"])
        #expect(files.map { $0["status"] as? String } == ["create", "create"])
        #expect(files.allSatisfy { $0["written"] as? Bool == true && $0["backup"] == nil })
        #expect((files.first?["changes"] as? [String])?.count == 3)

        let claudeCode = report["claudeCode"] as? [String: Any] ?? [:]
        #expect(claudeCode["version"] as? String == version)
        #expect(claudeCode["omitClaudeMdSupported"] as? Bool == supported)
        #expect(claudeCode["omitClaudeMdRequires"] as? String == "2.1.271")
        if claudeOutput == nil { #expect((claudeCode["summary"] as? String)?.contains("not on PATH") == true) }

        let launch = report["launchMemory"] as? [String: Any] ?? [:]
        let launchFiles = (launch["files"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(launchFiles.contains("CLAUDE.md") && launchFiles.contains(".claude/rules/security.md"))
        #expect(launchFiles.contains("docs/overview.md"), "what CLAUDE.md imports loads with it")
        #expect(!launchFiles.contains("docs/deep/four.md"), "past the import depth")
        #expect(launch["tokens"] as? Int ?? 0 > 0)

        let agents = report["agents"] as? [[String: Any]] ?? []
        #expect(agents.compactMap { $0["name"] as? String } == ["backend-manager", "reviewer"])
        let reviewer = agents.last ?? [:]
        let context = reviewer["suggestedContext"] as? [String: Any]
        #expect(context?["budget"] as? Int == 30_000)
        #expect(context?["include"] as? [String] == ["project_management/reviewer/**"])
        #expect((context?["keywords"] as? [String])?.prefix(3) == ["reviews", "pull", "requests"])
        #expect(agents.first?["suggestedContext"] == nil, "backend-manager has its context: block")
        #expect(agents.first?["omitClaudeMdAdvice"] == nil, "a small launch load is not worth it")
    }

    @Test("omitClaudeMd is suggested when the launch load is large for the budget, and printed as text")
    func omitClaudeMdAdvice() throws {
        let project = try Project()
        try project.fakeClaude(printing: "2.1.30 (Claude Code)")
        try project.tree.append(
            "CLAUDE.md", String(repeating: "Every agent reads this long paragraph of rules. ", count: 500))
        let run = try project.initialize()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("Claude Code: Claude Code 2.1.30 ignores omitClaudeMd"))
        #expect(run.stdout.contains("  reviewer (.claude/agents/reviewer.md)"))
        #expect(run.stdout.contains("    omitClaudeMd: true would help: starts with the CLAUDE.md hierarchy"))
        #expect(run.stdout.contains("(needs Claude Code 2.1.271 or later; 2.1.30 ignores it)"))
        #expect(
            run.stdout.contains(
                "      context:\n        budget: 30000\n        include: [\"project_management/reviewer/**\"]"))
        #expect(try project.text(".claude/agents/reviewer.md")?.contains("omitClaudeMd") == false, "never edited")
    }

    @Test(
        "usage errors exit 2",
        arguments: [["--token-env", "X"], ["--http", "ftp://host"], ["--http", "http://h", "--token-env", "1X"]])
    func usage(arguments: [String]) throws {
        let project = try Project()
        let run = try project.initialize(arguments)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(try project.text(".mcp.json") == nil)
    }
}
