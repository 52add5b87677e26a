import Foundation
import Testing

@testable import ContextMemory

/// Essentials as a bounded share, replace and supplement, and the coordination overhead (issue 15).
@Suite("Focused packs")
struct FocusedPackTests {
    /// What every pack for any agent of memory/ must hold in replace mode, whatever its budget from
    /// 10k up: the rules Claude Code loads for every agent, what no agent may do, and what the
    /// authors marked essential.
    static let pinnedForEveryAgent = [
        "memory://.claude/rules/security.md#security-rules-for-agents",
        "memory://.claude/rules/git-workflow.md#commits",
        "memory://.claude/rules/coding-standards.md#python",
        "memory://AGENTS.md#things-no-agent-may-do",
        "memory://docs/architecture/security-model.md#secrets-handling",
        "memory://project_management/status/current-sprint.md#non-negotiable-rules-this-sprint",
        "memory://project_management/decisions/ADR-0005-gitops-source-of-truth.md#decision",
    ]

    @Test(
        "memory/: every agent's overhead is at most 20% of its budget, and its pinned sections are in every pack from 10k"
    )
    func memoryAgentsWithinTheBar() async throws {
        let memory = try await IndexedMemory.shared.value
        let agents = try await memory.service.agents()
        #expect(agents.count == 8)
        for agent in agents {
            #expect(agent.mode == .replace, "\(agent.profile.name) sets omitClaudeMd: true")
            #expect(agent.overheadShare <= 0.2 && !agent.overLimit, "\(agent.profile.name): \(agent.overheadShare)")
            for budget in [10_000, 20_000, agent.budget] {
                let pack = try await memory.service.pack(
                    PackRequest(agent: agent.profile.name, task: "review the open work", budget: budget))
                let included = Set(pack.explanation.filter { $0.outcome == .included }.map(\.handle))
                for handle in Self.pinnedForEveryAgent {
                    #expect(included.contains(handle), "\(agent.profile.name) at \(budget) lacks \(handle)")
                }
                #expect(pack.manifest.tokens <= budget)
                if budget == agent.budget { #expect(pack.manifest.overhead.share <= 0.2) }
            }
        }
    }

    @Test("a budget under the essential tier but over the pinned sections gives the best pack that fits")
    func smallBudgetsPack() async throws {
        let memory = try await IndexedMemory.shared.value
        let summary = try #require(try await memory.service.agents().first { $0.profile.name == "backend-manager" })
        // The whole essential tier is several times 6,000 tokens; the pinned sections are under it.
        #expect(summary.essentialTokens > 6_000 && summary.pinnedTokens < 6_000)
        let pack = try await memory.service.pack(
            PackRequest(agent: "backend-manager", task: "add migration 0032 for DriftRecord", budget: 6_000))
        #expect(pack.manifest.tokens <= 6_000)
        #expect(pack.explanation.contains { $0.handle.contains("migration-log.md") && $0.outcome == .included })
    }

    @Test("the root CLAUDE.md fills the share by relevance: a task about it brings its sections, within the share")
    func shareByRelevance() async throws {
        let memory = try await IndexedMemory.shared.value
        let request = PackRequest(
            agent: "orchestrator", task: "decompose the request and delegate work items to managers", budget: 30_000)
        let pack = try await memory.service.pack(request)
        let shared = pack.explanation.filter { $0.reason.contains("within the essential share") }
        #expect(shared.contains { $0.handle == "memory://CLAUDE.md#orchestrator-operating-rules" })
        #expect(pack.manifest.overhead.share <= pack.manifest.overhead.limit)
        // What the share had no room for competes with the detail, marked as such.
        let beyond = pack.explanation.filter { $0.reason.contains("beyond the share") }
        #expect(!beyond.isEmpty)
        #expect(beyond.allSatisfy { $0.tier == .detailed })
        // A smaller share takes fewer essentials.
        let tree = try FixtureTree(repositoryFolder: "memory")
        try tree.write(".ctxmem.yaml", "essential_share: 0.1\n")
        _ = try await tree.service.index()
        let narrow = try await tree.service.pack(request)
        #expect(narrow.manifest.overhead.limit == 0.1)
        #expect(narrow.manifest.overhead.essentialTokens < pack.manifest.overhead.essentialTokens)
    }

    @Test(
        "supplement leaves out what Claude Code loads itself and says so; replace includes it; auto follows omitClaudeMd"
    )
    func modes() async throws {
        let memory = try await IndexedMemory.shared.value
        let task = "who owns the weekly status and how are reports merged"
        let supplement = try await memory.service.pack(
            PackRequest(agent: "orchestrator", task: task, budget: 30_000, mode: .supplement))
        let loaded = supplement.manifest.loadedByClaudeCode
        #expect(supplement.manifest.mode == .supplement)
        #expect(loaded.files.contains("CLAUDE.md") && loaded.files.contains("AGENTS.md"))
        #expect(loaded.files.contains(".claude/rules/security.md"))
        #expect(!loaded.files.contains(".claude/rules/django-migrations.md"), "a rule with paths: loads on demand")
        #expect(loaded.tokens > 10_000)
        let paths = Set(supplement.explanation.filter { $0.outcome == .included }.map { Self.path($0.handle) })
        #expect(paths.isDisjoint(with: loaded.files))
        #expect(supplement.text.contains("Left out because Claude Code loads them: "))
        #expect(supplement.manifest.overhead.claudeCodeTokens == loaded.tokens)

        let replace = try await memory.service.pack(PackRequest(agent: "orchestrator", task: task, budget: 30_000))
        #expect(replace.manifest.mode == .replace, "orchestrator sets omitClaudeMd: true")
        #expect(replace.manifest.loadedByClaudeCode == .none)
        #expect(replace.explanation.contains { $0.handle.hasPrefix("memory://AGENTS.md#") && $0.outcome == .included })
        #expect(replace.manifest.packId != supplement.manifest.packId)

        let generic = try await memory.service.pack(PackRequest(task: task, budget: 30_000))
        #expect(generic.manifest.mode == .supplement, "a generic pack has no definition to omit CLAUDE.md")
    }

    @Test("prohibitions are recognised by their heading")
    func prohibitions() {
        for heading in [
            "Things no agent may do", "Never", "DON'T", "Do not", "Non-negotiable rules this sprint", "Guardrails",
            "Hard rules", "Forbidden commands", "What you must not change", "Don’t touch prod",
        ] {
            #expect(TierAssigner.isProhibition(["Title", heading]), "\(heading)")
        }
        for heading in ["Build", "Constraints", "Testing strategy", "Notifications", "Nevertheless", "Donation"] {
            #expect(!TierAssigner.isProhibition([heading]), "\(heading)")
        }
    }

    @Test("packs are the same bytes from two copies with different file times (no git: no recency)")
    func reproducibleAcrossCopies() async throws {
        let first = try FixtureTree(repositoryFolder: "memory")
        let second = try FixtureTree(repositoryFolder: "memory")
        let files = FileManager.default.enumerator(atPath: second.root.path)?.allObjects as? [String] ?? []
        for (index, path) in files.sorted().enumerated() {
            // Reversed and spread over years: the order recency by file time would give is upside down.
            let date = Date(timeIntervalSince1970: 1_600_000_000 - Double(index) * 86_400 * 7)
            try? FileManager.default.setAttributes(
                [.modificationDate: date], ofItemAtPath: second.url(path).path)
        }
        _ = try await first.service.index()
        _ = try await second.service.index()
        for request in [
            PackRequest(agent: "backend-manager", task: "add the settling state to DriftRecord", budget: 20_000),
            PackRequest(task: "rotate the staging certificates", budget: 10_000, format: .json),
        ] {
            let one = try await first.service.pack(request)
            let two = try await second.service.pack(request)
            #expect(one.text == two.text)
            #expect(one.manifest.packId == two.manifest.packId)
        }
    }

    static func path(_ handle: String) -> String {
        String(handle.dropFirst("memory://".count).split(separator: "#").first ?? "").removingPercentEncoding ?? ""
    }
}
