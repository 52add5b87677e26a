import Testing

@testable import ctxmem

/// The pieces of `ctxmem init` that need no files: the JSON it reads and writes, the merge, the
/// version check's parsing, the diff and the advice.
@Suite("ctxmem init's parts")
struct ClaudeCodeSetupTests {
    static let setup = ClaudeCodeSetup(
        transport: .command("ctxmem hook --root \"$CLAUDE_PROJECT_DIR\""), serverCommand: "ctxmem",
        serverArguments: ["mcp", "--root", "/p"])

    @Test("JSON round-trips with member order, duplicates, numbers and escapes as written")
    func roundTrip() throws {
        let text =
            #"{"z": 1.50, "a": [true, false, null, -0, 2e-3], "z": "dup", "s": "q\"\\\/\n\u0001é😀\ud83d\ude00", "e": {}, "f": []}"#
        let value = try OrderedJSON(parsing: text)
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "z", "s", "e", "f"])
        #expect(value["z"] == .string("dup"), "the last of a repeated key, as JSON.parse reads it")
        #expect(value["s"] == .string("q\"\\/\n\u{1}é😀😀"))
        let rendered = value.rendered()
        #expect(
            rendered == """
                {
                  "z": 1.50,
                  "a": [
                    true,
                    false,
                    null,
                    -0,
                    2e-3
                  ],
                  "z": "dup",
                  "s": "q\\"\\\\/\\n\\u0001é😀😀",
                  "e": {},
                  "f": []
                }

                """)
        #expect(try OrderedJSON(parsing: rendered) == value)
    }

    @Test(
        "invalid JSON names the line and column",
        arguments: [
            ("{\n  \"a\": 1,\n}", 3, 1, "trailing comma"),
            ("{\"a\" 1}", 1, 6, "expected ':'"),
            ("{'a': 1}", 1, 2, "expected a key in double quotes"),
            ("[1, 2", 1, 6, "expected ',' or ']'"),
            ("{\"a\": 01}", 1, 7, "leading zeros"),
            ("{\"a\": \"x\ny\"}", 1, 9, "control character"),
            ("{} {}", 1, 4, "after the JSON value"),
            ("// comment\n{}", 1, 1, "expected a value"),
            ("", 1, 1, "empty"),
            ("{\"a\": \"\\x\"}", 1, 8, "not a JSON escape"),
            ("{\"a\": tru}", 1, 7, "expected a value"),
            ("  \"é\": x", 1, 6, "after the JSON value"),
        ] as [(String, Int, Int, String)])
    func parseErrors(text: String, line: Int, column: Int, reason: String) {
        #expect {
            _ = try OrderedJSON(parsing: text)
        } throws: { error in
            guard let error = error as? OrderedJSON.ParseError else { return false }
            return error.line == line && error.column == column && error.reason.contains(reason)
        }
    }

    @Test("nesting past the limit is an error, not a crash")
    func deepNesting() {
        #expect(throws: OrderedJSON.ParseError.self) {
            _ = try OrderedJSON(parsing: String(repeating: "[", count: 100_000))
        }
    }

    @Test(
        "ctxmem's command hooks are recognised by program and first argument",
        arguments: [
            ("ctxmem hook --root \"$CLAUDE_PROJECT_DIR\"", true),
            ("/usr/local/bin/ctxmem hook", true),
            ("'/opt/my tools/ctxmem' hook --root /x", true),
            ("\"/opt/my tools/ctxmem\" hook", true),
            ("/opt/my\\ tools/ctxmem hook", true),
            ("ctxmem pack --agent x", false),
            ("echo ctxmem hook", false),
            ("ctxmem-other hook", false),
            ("./lint.sh", false),
        ])
    func recognition(command: String, isCtxmem: Bool) throws {
        let handler = try OrderedJSON(parsing: #"{"type": "command", "command": "x"}"#)
        var withCommand = handler
        withCommand["command"] = .string(command)
        #expect(Self.setup.isCtxmemHook(withCommand) == isCtxmem)
    }

    @Test("http hooks to the hook route are ctxmem's, with or without a trailing slash")
    func recognitionHTTP() {
        var handler = OrderedJSON.emptyObject
        handler["url"] = .string("http://127.0.0.1:8377/v1/hooks/claude-code/")
        #expect(Self.setup.isCtxmemHook(handler))
        handler["url"] = .string("http://127.0.0.1:8377/v1/hooks/other")
        #expect(!Self.setup.isCtxmemHook(handler))
    }

    @Test("a group without a matcher, or with \"\" or \"*\", is the group for every occurrence")
    func matchers() throws {
        for text in [#"{"hooks": []}"#, #"{"matcher": "", "hooks": []}"#, #"{"matcher": "*", "hooks": []}"#] {
            #expect(ClaudeCodeSetup.matches(try OrderedJSON(parsing: text), nil))
            #expect(!ClaudeCodeSetup.matches(try OrderedJSON(parsing: text), "compact"))
        }
        #expect(ClaudeCodeSetup.matches(try OrderedJSON(parsing: #"{"matcher": "compact"}"#), "compact"))
    }

    @Test("ctxmem's hook joins an existing group of its matcher; a second merge changes nothing")
    func joinsExistingGroup() throws {
        let settings = try OrderedJSON(
            parsing:
                #"{"hooks": {"SessionStart": [{"matcher": "compact", "hooks": [{"type": "command", "command": "echo hi"}]}]}}"#
        )
        let (merged, changes) = try Self.setup.mergeSettings(settings)
        #expect(changes.contains("hooks.SessionStart (matcher compact): added the ctxmem hook to the existing group"))
        let groups = merged["hooks"]?["SessionStart"]?.arrayValue ?? []
        #expect(groups.count == 1)
        #expect(groups.first?["hooks"]?.arrayValue?.count == 2)
        #expect(try Self.setup.mergeSettings(merged).changes.isEmpty)
        #expect(try Self.setup.mergeSettings(try OrderedJSON(parsing: merged.rendered())).changes.isEmpty)
    }

    @Test("the token header is set with its variable, and removed again without --token-env")
    func tokenHeader() throws {
        var http = Self.setup
        http.transport = .http(url: "http://h/v1/hooks/claude-code", tokenVariable: "TOKEN")
        var handler = try OrderedJSON(
            parsing: #"{"type": "http", "url": "x", "headers": {"X-Team": "a"}, "allowedEnvVars": ["TEAM"]}"#)
        handler = http.updatedHandler(handler)
        #expect(handler["headers"] == (try OrderedJSON(parsing: #"{"X-Team": "a", "Authorization": "Bearer $TOKEN"}"#)))
        #expect(handler["allowedEnvVars"] == (try OrderedJSON(parsing: #"["TEAM", "TOKEN"]"#)))
        http.transport = .http(url: "http://h/v1/hooks/claude-code", tokenVariable: nil)
        handler = http.updatedHandler(handler)
        #expect(handler["headers"] == (try OrderedJSON(parsing: #"{"X-Team": "a"}"#)), "the user's header stays")
        #expect(handler["allowedEnvVars"] == (try OrderedJSON(parsing: #"["TEAM"]"#)))
        #expect(ClaudeCodeSetup.bearerVariable("Bearer ${A_1}") == "A_1")
        #expect(ClaudeCodeSetup.bearerVariable("Bearer literal") == nil)
    }

    @Test("ctxmem's server is found under another name and updated there; an http entry becomes stdio")
    func mcpServer() throws {
        let config = try OrderedJSON(
            parsing:
                #"{"mcpServers": {"a": {"command": "x"}, "memory": {"type": "http", "url": "u", "command": "/bin/ctxmem", "args": ["mcp"], "env": {"K": "v"}}}}"#
        )
        let (merged, changes) = try Self.setup.mergeMCP(config)
        #expect(changes == ["mcpServers.memory: updated the ctxmem server"])
        let entry = merged["mcpServers"]?["memory"]
        #expect(
            entry
                == (try OrderedJSON(
                    parsing: #"{"command": "ctxmem", "args": ["mcp", "--root", "/p"], "env": {"K": "v"}}"#)))
        #expect(merged["mcpServers"]?["ctxmem"] == nil)
        #expect(throws: ClaudeCodeSetup.ShapeError.self) {
            try Self.setup.mergeMCP(try OrderedJSON(parsing: #"{"mcpServers": []}"#))
        }
    }

    @Test(
        "claude --version's output",
        arguments: [
            ("2.1.271 (Claude Code)", "2.1.271", true),
            ("2.1.30 (Claude Code)\n", "2.1.30", false),
            ("3.0.0 (Claude Code)", "3.0.0", true),
            ("1.0.999", "1.0.999", false),
            ("Claude Code", nil, nil),
        ] as [(String, String?, Bool?)])
    func version(output: String, version: String?, supported: Bool?) {
        let found = ClaudeCodeVersion.from(output: output)
        #expect(found.version == version)
        #expect(found.omitClaudeMdSupported == supported)
    }

    @Test("a unified diff with context, merged hunks and a new file")
    func diff() {
        let old = (1...12).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var lines = (1...12).map { "line \($0)" }
        lines[1] = "changed 2"
        lines.insert("added", at: 11)
        let new = lines.joined(separator: "\n") + "\n"
        #expect(
            UnifiedDiff.render(old: old, new: new, path: "f")
                == """
                --- f
                +++ f (after ctxmem init)
                @@ -1,5 +1,5 @@
                 line 1
                -line 2
                +changed 2
                 line 3
                 line 4
                 line 5
                @@ -9,4 +9,5 @@
                 line 9
                 line 10
                 line 11
                +added
                 line 12

                """)
        #expect(
            UnifiedDiff.render(old: nil, new: "a\n", path: "g")
                == "--- /dev/null\n+++ g (after ctxmem init)\n@@ -0,0 +1,1 @@\n+a\n")
        #expect(UnifiedDiff.render(old: "same\n", new: "same\n", path: "h") == "--- h\n+++ h (after ctxmem init)\n")
    }

    @Test("suggested budgets, keywords and the YAML block")
    func advice() {
        #expect(AgentAdvice.suggestedBudget(essentialTokens: 1_000, essentialShare: 0.2) == 30_000)
        #expect(AgentAdvice.suggestedBudget(essentialTokens: 9_100, essentialShare: 0.2) == 50_000)
        #expect(
            AgentAdvice.keywords(in: "Owns the Django side of netbox_hedgehog: models, REST API, 2024 and the API.")
                == ["django", "side", "netbox_hedgehog", "models", "rest", "api"])
        let block = AgentAdvice.ContextBlock(budget: 30_000, include: ["a/\"b\"/**"], keywords: ["api", "yes", "c++"])
        #expect(
            block.yaml
                == "context:\n  budget: 30000\n  include: [\"a/\\\"b\\\"/**\"]\n  keywords: [api, \"yes\", \"c++\"]")
        #expect(Executables.shellQuoted("/usr/bin/ctxmem") == "/usr/bin/ctxmem")
        #expect(Executables.shellQuoted("/opt/my $tools/ctxmem") == "\"/opt/my \\$tools/ctxmem\"")
    }

    @Test(
        "--handoffs: .ctxmem.yaml gets handoffs: true, comments and other settings kept; a mapping that says off is refused"
    )
    func enableHandoffs() throws {
        let created = try ClaudeCodeSetup.enableHandoffs(in: nil)
        #expect(created.text.hasPrefix("handoffs: true"))
        #expect(created.changes.count == 1)
        let kept = "# our settings\nbudget: 60000   # big agents\n"
        let added = try ClaudeCodeSetup.enableHandoffs(in: kept)
        #expect(added.text.hasPrefix(kept) && added.text.contains("\nhandoffs: true"))
        let flipped = try ClaudeCodeSetup.enableHandoffs(in: "budget: 60000\nhandoffs: false  # not yet\n")
        #expect(flipped.text.hasPrefix("budget: 60000\nhandoffs: true"))
        let already = "handoffs:\n  folder: notes/handoffs\n"
        #expect(try ClaudeCodeSetup.enableHandoffs(in: already) == (already, []))
        #expect(throws: ClaudeCodeSetup.ShapeError.self) {
            try ClaudeCodeSetup.enableHandoffs(in: "handoffs:\n  enabled: false\n")
        }
        var setup = Self.setup
        setup.handoffs = true
        let (merged, changes) = try setup.mergeSettings(.emptyObject)
        #expect(changes.contains("hooks.SubagentStop: added the ctxmem hook"))
        #expect(merged["hooks"]?["SubagentStop"] != nil)
        #expect(try Self.setup.mergeSettings(.emptyObject).changes.allSatisfy { !$0.contains("SubagentStop") })
    }
}
