import CtxmemTestSupport
import Foundation
import Testing

@testable import ContextMemory

/// `ctxmem hook`'s answers to the hook input Claude Code sends (docs/claude-code.md, "Hooks").
@Suite("Claude Code hooks")
struct HookTests {
    static func input(_ fields: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: fields)
    }

    static func delegation(session: String, type: String, prompt: String) throws -> Data {
        try input([
            "hook_event_name": "PreToolUse", "session_id": session, "tool_name": "Agent", "cwd": "/p",
            "tool_input": ["subagent_type": type, "prompt": prompt, "description": "work"],
        ])
    }

    static func start(session: String, type: String) throws -> Data {
        try input([
            "hook_event_name": "SubagentStart", "session_id": session, "agent_type": type, "agent_id": "a-\(type)",
            "cwd": "/p", "transcript_path": "/nowhere.jsonl",
        ])
    }

    /// The additionalContext of an answer, after checking the answer is Claude Code's hook JSON.
    static func context(_ answer: HookAnswer, event: String = "SubagentStart") throws -> String {
        let output = try #require(answer.output)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(object.keys.sorted() == ["hookSpecificOutput"])
        let specific = try #require(object["hookSpecificOutput"] as? [String: Any])
        #expect(specific["hookEventName"] as? String == event)
        let context = try #require(specific["additionalContext"] as? String)
        #expect(context.utf16.count <= MemoryService.hookContextLimit)
        return context
    }

    @Test("PreToolUse records the task; the SubagentStart that follows packs for it, within 10,000 characters")
    func delegationThenStart() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        _ = try await tree.service.index()
        let service = tree.service
        let recorded = service.answerHook(
            try Self.delegation(
                session: "s1", type: "backend-manager",
                prompt: "Implement WI-23-3: add the settling state to DriftRecord with migration 0032"))
        #expect(recorded.output == nil && recorded.note == nil)
        let context = try Self.context(service.answerHook(try Self.start(session: "s1", type: "backend-manager")))
        #expect(context.hasPrefix("# Project memory for the backend-manager agent"))
        #expect(context.contains("migration-log.md"), "the recorded task ranks the migration log")
        #expect(context.contains("search_memory") && context.contains("read_memory"))
        #expect(context.contains("memory://"))
        #expect(!context.contains("## Your role") && !context.contains("## Task"), "the agent has both already")
        #expect(context.utf16.count > MemoryService.hookContextLimit / 2, "the limit is used, not wasted")
        // Taken once: the next start of that type gets its role pack.
        let again = try Self.context(service.answerHook(try Self.start(session: "s1", type: "backend-manager")))
        #expect(!again.contains("and task."))
    }

    @Test("every bad input exits quietly with one note: empty, malformed, unknown event, no index, unknown agent")
    func failsOpen() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        let unindexed = tree.service.answerHook(try Self.start(session: "s", type: "qa-manager"))
        #expect(unindexed.output == nil && unindexed.note?.contains("no pack for qa-manager") == true)
        _ = try await tree.service.index()
        for (data, note) in [
            (Data(), "no input"), (Data("{not json".utf8), "not Claude Code hook JSON"),
            (Data(#"{"hook_event_name": 7}"#.utf8), "not Claude Code hook JSON"),
            (try Self.input(["hook_event_name": "Stop"]), "not an event ctxmem answers"),
            (try Self.input(["hook_event_name": "SubagentStart"]), "without agent_type"),
            (try Self.start(session: "s", type: "Explore"), "no agent named 'Explore'"),
            (try Self.input(["hook_event_name": "PreToolUse", "tool_name": "Bash"]), "not a delegation"),
        ] {
            let answer = tree.service.answerHook(data)
            #expect(answer.output == nil, "\(note)")
            #expect(answer.note?.contains(note) == true, "\(answer.note ?? "no note") for \(note)")
            #expect(answer.note?.contains("\n") == false)
        }
        // A built-in agent with a recorded task still gets the memory that bears on the task.
        let explorer = try Self.delegation(session: "s", type: "Explore", prompt: "find the rollback runbook")
        _ = tree.service.answerHook(explorer)
        let explore = try Self.context(tree.service.answerHook(try Self.start(session: "s", type: "Explore")))
        #expect(explore.contains("rollback"))
    }

    @Test("an agent with omitClaudeMd still gets its pinned essentials when the index is damaged or gone")
    func fallbackAfterIndexLoss() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        _ = try await tree.service.index()
        let database = URL(fileURLWithPath: tree.service.databasePath)
        for damage in ["garbage", "gone"] {
            if damage == "gone" {
                try FileManager.default.removeItem(at: database)
            } else {
                try Data(repeating: 0x41, count: 8192).write(to: database)
            }
            let fresh = MemoryService(root: tree.root, databasePath: database.path)
            let answer = fresh.answerHook(try Self.start(session: "s", type: "gitops-manager"))
            let context = try Self.context(answer)
            #expect(context.contains("memory://AGENTS.md#things-no-agent-may-do") || context.contains("no agent may"))
            #expect(answer.note?.contains("pinned essentials from the last index") == true, "\(damage)")
        }
    }

    @Test("twenty sub-agents started at once each take their own recorded task")
    func twentyAtOnce() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        _ = try await tree.service.index()
        let service = tree.service
        let log = service.delegations
        for index in 0..<20 {
            try log.record(prompt: "task number \(index)", session: "s20", agentType: "qa-manager")
        }
        let taken = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<20 { group.addTask { log.take(session: "s20", agentType: "qa-manager") } }
            var all: [String?] = []
            for await task in group { all.append(task) }
            return all
        }
        #expect(Set(taken.compactMap { $0 }).count == 20)
        #expect(log.take(session: "s20", agentType: "qa-manager") == nil)
        let answers = await withTaskGroup(of: HookAnswer.self) { group in
            for _ in 0..<20 { group.addTask { service.answerHook(try! Self.start(session: "s", type: "qa-manager")) } }
            var all: [HookAnswer] = []
            for await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.allSatisfy { $0.output != nil && $0.note == nil })
    }

    @Test("a recorded task expires, and a prompt's credential is never written")
    func delegationLog() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-delegations-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = DelegationLog(folder: folder)
        let then = Date(timeIntervalSince1970: 2_000_000_000)
        try log.record(prompt: "old", session: "s", agentType: "a", now: then)
        #expect(log.take(session: "s", agentType: "a", now: then.addingTimeInterval(DelegationLog.lifetime + 5)) == nil)
        try log.record(prompt: "first", session: "s", agentType: "a", now: then)
        try log.record(prompt: "second", session: "s", agentType: "a", now: then.addingTimeInterval(1))
        #expect(log.take(session: "s", agentType: "a", now: then.addingTimeInterval(2)) == "first")
        #expect(log.take(session: "t", agentType: "a", now: then.addingTimeInterval(2)) == nil)
    }

    @Test("after compaction: the nested CLAUDE.md and path-scoped rules of the files the session touched")
    func compaction() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        _ = try await tree.service.index()
        let transcript = tree.root.appendingPathComponent("session.jsonl")
        let lines = [
            #"{"type":"user","message":{"role":"user","content":"fix the migration"}}"#,
            "not json at all",
            #"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Read","input":{"file_path":"\#(tree.root.path)/netbox_hedgehog/migrations/0031_x.py"}}]}}"#,
            #"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Edit","input":{"file_path":"backend/app/models.py"}}]}}"#,
            #"{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Read","input":{"file_path":"/etc/passwd"}}]}}"#,
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: transcript)
        let answer = tree.service.answerHook(
            try Self.input([
                "hook_event_name": "SessionStart", "source": "compact", "session_id": "s",
                "transcript_path": transcript.path,
            ]))
        let context = try Self.context(answer, event: "SessionStart")
        #expect(context.contains("## backend/CLAUDE.md"))
        #expect(context.contains("## .claude/rules/django-migrations.md"))
        #expect(!context.contains("## frontend/CLAUDE.md") && !context.contains("## CLAUDE.md\n"))
        // Other sources: Claude Code loads what it needs itself.
        let startup = tree.service.answerHook(try Self.input(["hook_event_name": "SessionStart", "source": "startup"]))
        #expect(startup.output == nil && startup.note == nil)
    }

    @Test("hostile memory: script, control bytes and a credential reach the hook only as escaped, redacted text")
    func hostileMemory() async throws {
        let tree = try FixtureTree()
        let fakeKey = "AKIA" + "QWERTYUIOPASDFGH"
        try tree.write(
            "project_management/qa/hostile.md",
            """
            ---
            agents: [backend-manager]
            ---
            # Hostile notes

            <script>alert('x')</script> <img src=x onerror=alert(1)> \u{07}\u{1B}[31m
            aws_access_key_id = \(fakeKey)
            "quotes" and \\ backslashes
            """)
        _ = try await tree.service.index()
        let answer = tree.service.answerHook(try Self.start(session: "s", type: "backend-manager"))
        let output = try #require(answer.output)
        #expect(!output.contains(fakeKey))
        let context = try Self.context(answer)
        #expect(context.contains("<script>alert('x')</script>"), "text, for a model to read, not markup to run")
        #expect(context.contains("[REDACTED:"))
        #expect(!output.contains("\u{07}") && !output.contains("\u{1B}"), "control bytes are JSON-escaped")
    }
}
