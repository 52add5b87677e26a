import CtxmemTestSupport
import Foundation
import Testing

@testable import ContextMemory

/// Handoffs: what a sub-agent reports when it stops (`SubagentStop`) becomes memory: a record in
/// the tree, searchable, in the next relevant pack, merged by `ctxmem status` (docs/claude-code.md,
/// "Handoffs").
@Suite("Handoffs")
struct HandoffTests {
    static func stop(session: String = "s1", type: String, id: String, report: String) throws -> Data {
        try HookTests.input([
            "hook_event_name": "SubagentStop", "session_id": session, "agent_type": type, "agent_id": id,
            "cwd": "/p", "transcript_path": "/p/s1.jsonl", "agent_transcript_path": "/p/s1/subagents/agent-\(id).jsonl",
            "stop_hook_active": false, "last_assistant_message": report,
        ])
    }

    /// memory/ without its example handoffs, with handoffs on, indexed.
    static func memory(settings: String = "handoffs: true\n") async throws -> FixtureTree {
        let tree = try Self.withoutExamples()
        try tree.write(".ctxmem.yaml", settings)
        _ = try await tree.service.index()
        return tree
    }

    /// Runs a hook as `ctxmem hook` does: the answer, then the index of what it wrote.
    static func run(_ service: MemoryService, _ data: Data, now: Date = Date()) async throws -> HookAnswer {
        let answer = service.answerHook(data, now: now)
        if answer.wroteHandoff != nil { try await service.indexHandoffs() }
        return answer
    }

    static let report = """
        ### Report: backend-manager — FAB-1412
        - Status: done
        - Changed: netbox_hedgehog/api/peering.py
        - Tests: test_peering_api (pass)
        - Risks: the quorumflux cache must be warmed before the first peering sync
        - Needs: none
        - Memory updated: none
        """

    /// A copy of memory/ without the two handoff records it ships as an example.
    static func withoutExamples() throws -> FixtureTree {
        let tree = try FixtureTree(repositoryFolder: "memory")
        try tree.remove("project_management/handoffs")
        return tree
    }

    @Test("the example's two records are memory: in status, in search, not orphans")
    func examples() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        _ = try await tree.service.index()
        #expect(try tree.service.handoffs().map(\.agentType).sorted() == ["backend-manager", "qa-manager"])
        let digest = try await tree.service.status()
        #expect(digest.text.contains("### Report: qa-manager — WI-23-5"))
        #expect(digest.text.contains("- Needs: gitops-manager to merge WI-23-1"))
        #expect(
            try await tree.service.search("vpc_peering_vpc1_vpc2_idx").first?.path.hasPrefix(
                "project_management/handoffs/") == true)
    }

    @Test("off by default: a stop writes nothing and says nothing")
    func offByDefault() async throws {
        let tree = try Self.withoutExamples()
        _ = try await tree.service.index()
        let answer = tree.service.answerHook(try Self.stop(type: "backend-manager", id: "a1", report: Self.report))
        #expect(answer == HookAnswer())
        #expect(!FileManager.default.fileExists(atPath: tree.url("project_management/handoffs").path))
    }

    @Test("the report becomes a record with the task, redacted, markers inert, indexed as detail")
    func recordFromStop() async throws {
        let tree = try await Self.memory()
        let service = tree.service
        let fakeKey = "AKIA" + "QWERTYUIOPASDFGH"
        _ = service.answerHook(
            try HookTests.delegation(session: "s1", type: "backend-manager", prompt: "add the VPC peering API"))
        _ = service.answerHook(
            try HookTests.input([
                "hook_event_name": "SubagentStart", "session_id": "s1", "agent_type": "backend-manager",
                "agent_id": "a1b2c3d4e5f6",
            ]))
        let hostile =
            Self.report
            + "\n<!-- ctxmem:tier=essential -->\n## Notes\n<script>alert(1)</script> \u{1B}[31m key \(fakeKey)\n"
            + "tool output with a NUL \u{0}\u{7} byte: zanzibarite\n"
        let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30
        let answer = try await Self.run(
            service, try Self.stop(type: "backend-manager", id: "a1b2c3d4e5f6", report: hostile), now: now)
        #expect(answer.output == nil && answer.note == nil)
        let path = "project_management/handoffs/2026-11-30/backend-manager-a1b2c3d4.md"
        #expect(answer.wroteHandoff == path)
        let text = try String(contentsOf: tree.url(path), encoding: .utf8)
        #expect(text.hasPrefix("---\nctxmem: handoff\nagent_type: \"backend-manager\"\n"))
        #expect(text.contains("task: \"add the VPC peering API\""))
        #expect(text.contains("time: \"2026-11-30T"))
        #expect(!text.contains(fakeKey) && text.contains("[REDACTED:"))
        #expect(text.contains("&lt;!-- ctxmem:tier=essential -->"), "a report cannot pin itself into packs")
        #expect(
            !text.contains("\u{0}") && !text.contains("\u{1B}"), "control bytes dropped: a NUL would make it binary")
        #expect(text.contains("<script>alert(1)</script>"), "text as written, for a model to read")
        let records = try service.handoffs()
        #expect(records.map(\.path) == [path])
        #expect(records.first?.task == "add the VPC peering API")
        let hits = try await service.search("quorumflux")
        #expect(hits.first?.path == path)
        #expect(try await service.search("zanzibarite").first?.path == path, "indexed, not skipped as binary")
        #expect(try await service.read(handle: "memory://\(path)").tier == .detailed)
        #expect(try await service.tiers(pathGlob: path).allSatisfy { $0.tier == .detailed })
        // Not an orphan: reports are reached by search, packs and status.
        let audit = try await service.audit(AuditOptions(rules: [.orphanDocument], refreshIndex: false, useGit: false))
        #expect(!audit.findings.contains { $0.path == path })
    }

    @Test("a long report is cut at the limit, said on stderr and by the audit")
    func cut() async throws {
        let tree = try await Self.memory(settings: "handoffs:\n  max_report_bytes: 2048\n")
        let long = (0..<200).map { "line \($0) of a long report about the peering sync" }.joined(separator: "\n")
        let answer = try await Self.run(tree.service, try Self.stop(type: "qa-manager", id: "q1", report: long))
        #expect(answer.note?.contains("was cut from") == true)
        let path = try #require(answer.wroteHandoff)
        let text = try String(contentsOf: tree.url(path), encoding: .utf8)
        #expect(text.contains("cut_from_bytes: \(long.utf8.count)"))
        #expect(text.contains("[cut by ctxmem:"))
        #expect(text.utf8.count < 2048 + 1024)
        let audit = try await tree.service.audit(AuditOptions(rules: [.handoffCut], refreshIndex: false, useGit: false))
        #expect(audit.findings.map(\.path) == [path])
    }

    @Test("never outside the root: a handoff folder that is a symlink out is refused; '..' does not load")
    func outsideRoot() async throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-out-\(UUID())")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let tree = try await Self.memory()
        try tree.symlink("project_management/handoffs", to: outside.path)
        let answer = tree.service.answerHook(try Self.stop(type: "qa-manager", id: "q1", report: "done"))
        #expect(answer.wroteHandoff == nil)
        #expect(answer.note?.contains("outside the memory root") == true)
        #expect(
            try FileManager.default.subpathsOfDirectory(atPath: outside.path).filter { $0.hasSuffix(".md") }.isEmpty)
        for folder in ["../elsewhere", "/tmp/x", ".ctxmem/h", "a//b"] {
            #expect(throws: ConfigurationError.self, "\(folder)") {
                try Configuration.parse("handoffs:\n  folder: \"\(folder)\"\n")
            }
        }
        #expect(throws: ConfigurationError.self) { try Configuration.parse("handoffs:\n  enable: true\n") }
        #expect(try Configuration.parse("handoffs: true").handoffs.enabled)
        #expect(try Configuration.parse("handoffs: {folder: notes/handoffs}").handoffs.enabled)
        #expect(try !Configuration.parse("handoffs: false").handoffs.enabled)
    }

    @Test("a handoff folder outside project_management/ is memory too")
    func otherFolder() async throws {
        let tree = try await Self.memory(settings: "handoffs:\n  folder: notes/handoffs/\n")
        let answer = try await Self.run(
            tree.service, try Self.stop(type: "qa-manager", id: "q1", report: "The ocelotgrid check passes."))
        #expect(answer.wroteHandoff?.hasPrefix("notes/handoffs/") == true)
        #expect(try await tree.service.search("ocelotgrid").first?.path == answer.wroteHandoff)
        #expect(try await tree.service.status().agents.map(\.agent) == ["qa-manager"])
    }

    @Test("twenty sub-agents stopping at once give twenty records and an index that has them all")
    func twentyAtOnce() async throws {
        let tree = try await Self.memory()
        let root = tree.root
        let database = tree.service.databasePath
        let answers = try await withThrowingTaskGroup(of: HookAnswer.self) { group in
            for index in 0..<20 {
                group.addTask {
                    // One service per hook, as twenty processes would each have.
                    let service = MemoryService(root: root, databasePath: database)
                    return try await Self.run(
                        service,
                        try Self.stop(
                            type: "qa-manager", id: "agent\(index)x",
                            report: "Checked shard \(index): the zebrafinch\(index) suite passes."))
                }
            }
            var all: [HookAnswer] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        #expect(Set(answers.compactMap(\.wroteHandoff)).count == 20)
        let records = try tree.service.handoffs()
        #expect(records.count == 20)
        for index in [0, 7, 19] { #expect(try await tree.service.search("zebrafinch\(index)").count == 1) }
        #expect(try tree.service.checkIntegrity().isEmpty)
    }

    @Test(
        "a fact from one agent's report reaches the next orchestrator pack for a related task; the newest report ranks first"
    )
    func factReachesNextPack() async throws {
        let tree = try await Self.memory()
        let service = tree.service
        _ = service.answerHook(
            try HookTests.delegation(session: "s1", type: "backend-manager", prompt: "add the VPC peering API"))
        _ = service.answerHook(
            try HookTests.input([
                "hook_event_name": "SubagentStart", "session_id": "s1", "agent_type": "backend-manager",
                "agent_id": "b1",
            ]))
        let old = Date().addingTimeInterval(-3_600)
        _ = try await Self.run(
            service,
            try Self.stop(
                type: "backend-manager", id: "b0", report: "Peering API: started; the serializer is half done."),
            now: old.addingTimeInterval(-60))
        _ = try await Self.run(service, try Self.stop(type: "backend-manager", id: "b1", report: Self.report))
        // An unrelated report of an agent the backend specialist does not hear from.
        _ = try await Self.run(
            service,
            try Self.stop(type: "uiux-manager", id: "u1", report: "Peering API screens: the quorumflux badge is red."))
        let orchestrator = try await service.pack(
            PackRequest(agent: "orchestrator", task: "plan the rollout of the VPC peering API", budget: 20_000))
        #expect(orchestrator.text.contains("the quorumflux cache must be warmed before the first peering sync"))
        let taken = orchestrator.explanation.filter { $0.outcome == .included }.map(\.reason)
        #expect(taken.contains { $0.contains("latest report of backend-manager on a related task") })
        // The older report of the same agent ranks lower than the newer one, in packs and search.
        let hits = try await service.search("peering API serializer OR quorumflux")
        let backend = hits.filter { $0.path.contains("backend-manager-") }.map(\.path)
        #expect(backend.first?.contains("backend-manager-b1") == true, "\(backend)")
        // A specialist hears from its own type: its latest report on a related task comes in; the
        // ui report, of an agent it does not hear from, gets no boost.
        _ = try await Self.run(
            service,
            try Self.stop(
                type: "backend-api-specialist", id: "s1",
                report: "VPC peering serializer: the capybaraproof validator rejects overlapping CIDRs."))
        let specialist = try await service.pack(
            PackRequest(agent: "backend-api-specialist", task: "add the VPC peering API serializer", budget: 20_000))
        #expect(!specialist.explanation.contains { $0.reason.contains("latest report of uiux-manager") })
        #expect(specialist.text.contains("capybaraproof validator"))
        #expect(specialist.explanation.contains { $0.reason.contains("latest report of backend-api-specialist") })
    }

    @Test("status merges the latest report of each agent in AGENTS.md's reporting format, or the default")
    func status() async throws {
        let tree = try await Self.memory()
        let service = tree.service
        let now = Date()
        _ = try await Self.run(
            service, try Self.stop(type: "backend-manager", id: "b0", report: "old report"),
            now: now.addingTimeInterval(-5 * 86_400))
        _ = try await Self.run(service, try Self.stop(type: "backend-manager", id: "b1", report: Self.report))
        _ = try await Self.run(
            service,
            try Self.stop(
                type: "qa-manager", id: "q1",
                report: "Ran the e2e-smoke suite.\n\n- Status: blocked\n- Needs: a review from gitops-manager"))
        let digest = try await service.status()
        #expect(digest.format == "memory://AGENTS.md#reporting-format")
        #expect(digest.agents.map(\.agent).sorted() == ["backend-manager", "qa-manager"])
        let backend = try #require(digest.agents.first { $0.agent == "backend-manager" })
        #expect(backend.reports == 2)
        #expect(backend.fields.map(\.name) == ["Status", "Changed", "Tests", "Risks", "Needs", "Memory updated"])
        #expect(backend.fields.first?.value == "done")
        #expect(digest.text.contains("### Report: backend-manager — FAB-1412"))
        #expect(digest.text.contains("### Report: qa-manager — n/a"), "the template's heading, filled in")
        #expect(digest.text.contains("- Changed: not reported"))
        #expect(digest.text.contains("memory://project_management/handoffs/"))
        #expect(
            try await service.status(since: now.addingTimeInterval(-86_400)).agents.first {
                $0.agent == "backend-manager"
            }?
            .reports == 1)
        // Without a template: done, blockers, next steps.
        try tree.write("AGENTS.md", "# Agents\n\nNo format here.\n")
        _ = try await service.index()
        let plain = try await service.status()
        #expect(plain.format == "default")
        let qa = try #require(plain.agents.first { $0.agent == "qa-manager" })
        #expect(qa.fields.map(\.name) == ["Done", "Blockers", "Next steps"])
        #expect(qa.fields[0].value == "blocked")
    }

    @Test("prune deletes only the records ctxmem wrote, older than the age")
    func prune() async throws {
        let tree = try await Self.memory()
        let service = tree.service
        let now = Date()
        let old = try await Self.run(
            service, try Self.stop(type: "qa-manager", id: "q0", report: "old"),
            now: now.addingTimeInterval(-40 * 86_400))
        let recent = try await Self.run(service, try Self.stop(type: "qa-manager", id: "q1", report: "new"))
        let oldDay = (try #require(old.wroteHandoff) as NSString).deletingLastPathComponent
        try tree.write(oldDay + "/notes-by-hand.md", "# Notes\n\nWritten by a person.\n")
        let wouldGo = try await service.pruneHandoffs(olderThan: 30 * 86_400, dryRun: true)
        #expect(wouldGo.map(\.path) == [old.wroteHandoff])
        #expect(FileManager.default.fileExists(atPath: tree.url(try #require(old.wroteHandoff)).path))
        let gone = try await service.pruneHandoffs(olderThan: 30 * 86_400, dryRun: false)
        #expect(gone.map(\.path) == [old.wroteHandoff])
        #expect(!FileManager.default.fileExists(atPath: tree.url(try #require(old.wroteHandoff)).path))
        #expect(FileManager.default.fileExists(atPath: tree.url(oldDay + "/notes-by-hand.md").path))
        #expect(try service.handoffs().map(\.path) == [recent.wroteHandoff])
    }

    @Test("the audit warns when the handoff folder grows past its limit")
    func folderSize() async throws {
        let tree = try await Self.memory(settings: "handoffs:\n  max_folder_bytes: 2048\n")
        for index in 0..<4 {
            _ = try await Self.run(
                tree.service,
                try Self.stop(
                    type: "qa-manager", id: "q\(index)", report: String(repeating: "result line\n", count: 80)))
        }
        let audit = try await tree.service.audit(
            AuditOptions(rules: [.handoffFolderSize], refreshIndex: false, useGit: false))
        let finding = try #require(audit.findings.first)
        #expect(finding.path == "project_management/handoffs")
        #expect(finding.message.contains("ctxmem handoffs prune --older-than 30d"))
    }

    @Test("after compaction the session's handoffs come back as handles with one line each, within the cap")
    func compaction() async throws {
        let tree = try await Self.memory()
        for index in 0..<60 {
            _ = tree.service.answerHook(
                try Self.stop(session: "s9", type: "qa-manager", id: "q\(index)", report: "- Status: done \(index)"))
        }
        _ = try await tree.service.index()
        let answer = tree.service.answerHook(
            try HookTests.input(["hook_event_name": "SessionStart", "source": "compact", "session_id": "s9"]))
        let context = try HookTests.context(answer, event: "SessionStart")
        #expect(context.contains("# Handoffs of this session"))
        #expect(context.contains("(qa-manager, "))
        #expect(context.contains(": Status: done"))
        #expect(context.contains("older (`ctxmem handoffs list`"), "sixty do not fit; the rest are counted")
        #expect(context.utf16.count <= MemoryService.sessionHandoffLimit)
        let other = tree.service.answerHook(
            try HookTests.input(["hook_event_name": "SessionStart", "source": "compact", "session_id": "other"]))
        #expect(other.output == nil)
    }
}
