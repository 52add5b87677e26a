import CtxmemTestSupport
import Foundation
import Testing

/// Handoffs as a new user meets them: `ctxmem init --handoffs`, then Claude Code's hooks run the
/// binary as a sub-agent starts and stops, and the report is in search, `ctxmem status` and the
/// next relevant pack.
@Suite("handoffs end to end")
struct HandoffCLITests {
    static func input(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object)
    }

    @Test("init --handoffs, a sub-agent stops, its report is in search, status, the next pack; prune removes it")
    func endToEnd() throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        let root = ["--root", tree.root.path]
        let initRun = try CLITests.run(["init", "--handoffs"] + root)
        #expect(initRun.status == 0, "\(initRun.stderr)")
        #expect(initRun.stdout.contains("hooks.SubagentStop: added the ctxmem hook"))
        #expect(initRun.stdout.contains(".ctxmem.yaml: created"))
        let settings = try String(contentsOf: tree.url(".claude/settings.json"), encoding: .utf8)
        #expect(settings.contains("\"SubagentStop\""))
        #expect(try String(contentsOf: tree.url(".ctxmem.yaml"), encoding: .utf8).hasPrefix("handoffs: true"))

        let delegation = try Self.input([
            "hook_event_name": "PreToolUse", "session_id": "e1", "tool_name": "Agent",
            "tool_input": ["subagent_type": "gitops-manager", "prompt": "recover the stuck prod sync lock"],
        ])
        let start = try Self.input([
            "hook_event_name": "SubagentStart", "session_id": "e1", "agent_type": "gitops-manager", "agent_id": "g42",
        ])
        let fakeToken = "ghp_" + "R8xk2Lq9Vb7Tz1Wm4Np6Ys3Hd5Fg0Jc8Ku2Q"
        let stop = try Self.input([
            "hook_event_name": "SubagentStop", "session_id": "e1", "agent_type": "gitops-manager", "agent_id": "g42",
            "stop_hook_active": false,
            "last_assistant_message":
                "### Report: gitops-manager — OPS-77\n- Status: done\n- Changed: none\n- Tests: none\n"
                + "- Risks: the lock returns when the wombatstore lease is under 30 s\n- Needs: none\n"
                + "- Memory updated: none\n\nused token \(fakeToken) <script>alert(1)</script>",
        ])
        for data in [delegation, start] { #expect(try HookCLITests.hook(tree, data).status == 0) }
        let stopped = try HookCLITests.hook(tree, stop)
        #expect(stopped.status == 0 && stopped.stdout.isEmpty && stopped.stderr.isEmpty, "\(stopped.stderr)")

        let search = try CLITests.run(["search", "wombatstore", "--json"] + root)
        #expect(search.stdout.contains("project_management/handoffs/"), "\(search.stdout.prefix(400))")
        #expect(!search.stdout.contains(fakeToken))
        let status = try CLITests.run(["status", "--json"] + root)
        let digest = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let text = try #require(digest["text"] as? String)
        #expect(text.contains("### Report: gitops-manager — OPS-77"))
        #expect(text.contains("- Risks: the lock returns when the wombatstore lease is under 30 s"))
        let agents = try #require(digest["agents"] as? [[String: Any]])
        #expect(agents.first?["task"] as? String == "recover the stuck prod sync lock")
        let pack = try CLITests.run(
            ["pack", "--agent", "orchestrator", "--task", "plan the prod sync lock follow-up", "--budget", "20000"]
                + root)
        #expect(pack.stdout.contains("wombatstore lease"), "the report reaches the next orchestrator pack")
        #expect(!pack.stdout.contains(fakeToken))

        let list = try CLITests.run(["handoffs", "list"] + root)
        #expect(list.stdout.contains("gitops-manager  project_management/handoffs/"))
        let dry = try CLITests.run(["handoffs", "prune", "--older-than", "0s", "--dry-run"] + root)
        #expect(dry.stdout.contains("would delete  project_management/handoffs/"))
        let bad = try CLITests.run(["handoffs", "prune", "--older-than", "soon"] + root)
        #expect(bad.status == 2 && bad.stderr.contains("not an age"))
        let pruned = try CLITests.run(["handoffs", "prune", "--older-than", "0s", "--json"] + root)
        #expect(pruned.stdout.contains("\"deleted\""))
        let after = try CLITests.run(["search", "wombatstore"] + root)
        #expect(!after.stdout.contains("project_management/handoffs/"))
        let emptyStatus = try CLITests.run(["status", "--since", "1d"] + root)
        #expect(emptyStatus.stdout.contains("No handoff reports since"))
    }
}
