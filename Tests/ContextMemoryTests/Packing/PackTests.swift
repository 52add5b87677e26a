import CLibXML2
import Foundation
import Synchronization
import Testing

@testable import ContextMemory

/// The example memory, indexed once for the read-only tests of this suite.
final class IndexedMemory: @unchecked Sendable {  // immutable after init
    /// Awaited, never blocked on: blocking a test's thread starves the cooperative pool on 2 cores.
    static let shared = Task { () throws -> IndexedMemory in
        let memory = try IndexedMemory()
        _ = try await memory.service.index()
        return memory
    }
    let tree: FixtureTree
    let service: MemoryService

    private init() throws {
        tree = try FixtureTree(repositoryFolder: "memory")
        service = tree.service
    }
}

/// The exact Claude 2 BPE shipped in Tokenizers/, the reference every budget is checked with.
enum ExactTokenizer {
    static let url = FixtureTree.repositoryRoot.appendingPathComponent("Tokenizers/claude2-tokenizer.json")
    static let shared: BPETokenizer = try! BPETokenizer(contentsOf: url)
}

@Suite("Packs")
struct PackTests {

    @Test("a pack for every agent of memory/ stays within its budget by the exact BPE, and is identical on rerun")
    func everyAgentWithinBudget() async throws {
        let memory = try await IndexedMemory.shared.value
        let agents = try await memory.service.agents()
        #expect(agents.count == 8)
        for agent in agents {
            let request = PackRequest(agent: agent.profile.name, task: "review the open work for \(agent.profile.name)")
            let pack = try await memory.service.pack(request)
            #expect(pack.manifest.tokens <= agent.budget)
            #expect(
                ExactTokenizer.shared.count(pack.text) <= agent.budget,
                "\(agent.profile.name) over budget by the exact BPE")
            #expect(pack.manifest.tokensByTier["essential"] ?? 0 > 0)
            let again = try await memory.service.pack(request)
            #expect(again.text == pack.text)
            #expect(again.manifest.packId == pack.manifest.packId)
        }
    }

    @Test("random budgets from 1,000 to 200,000: never one token over, by the exact BPE (property)")
    func randomBudgetsNeverOver() async throws {
        let memory = try await IndexedMemory.shared.value
        var random = SplitMix64(seed: 0xC0FFEE)
        let agents: [String?] = [nil, "backend-manager", "qa-manager", "orchestrator", "gitops-manager"]
        let tasks = [
            "add the VPC peering API", "the sync worker is stuck on exit 3, recover it",
            "rotate the staging certificates", "",
        ]
        var packs = 0
        var failures = 0
        for round in 0..<18 {
            let budget = Int.random(in: 1_000...200_000, using: &random)
            let agent = agents[round % agents.count]
            let format = PackFormat.allCases[round % 3]
            let task = tasks[Int.random(in: 0..<tasks.count, using: &random)]
            let request = PackRequest(agent: agent, task: task, budget: budget, format: format, trimEssentials: true)
            do {
                let pack = try await memory.service.pack(request)
                packs += 1
                let exact = ExactTokenizer.shared.count(pack.text)
                #expect(exact <= budget, "budget \(budget) \(format) \(agent ?? "generic"): exact count \(exact)")
                #expect(pack.manifest.tokens <= budget)
            } catch {
                failures += 1
                Issue.record("budget \(budget) \(agent ?? "generic"): \(error)")
            }
        }
        #expect(packs == 18 && failures == 0)
    }

    @Test("the same budgets with the exact BPE as the counter in force fill up to, never past, the budget")
    func exactCounterInForce() async throws {
        let memory = try await IndexedMemory.shared.value
        let builder = try memory.service.packBuilder(tokenizer: ExactTokenizer.url.path)
        for budget in [25_000, 60_000] {
            let pack = try builder.build(
                PackRequest(agent: "backend-manager", task: "add the VPC peering API", budget: budget))
            let exact = ExactTokenizer.shared.count(pack.text)
            #expect(exact <= budget)
            // The manifest states the pack's own count; when no number states itself exactly (writing
            // N makes the pack N+1 tokens and writing N+1 makes it N), it states the larger.
            #expect(
                pack.manifest.tokens >= exact && pack.manifest.tokens <= exact + 1,
                "manifest \(pack.manifest.tokens), exact \(exact)")
            #expect(
                exact >= budget * 9 / 10, "a relevant memory larger than the budget fills it (\(exact) of \(budget))")
        }
    }

    @Test("pinned sections that alone exceed the budget fail with the largest contributors and how to re-tier them")
    func essentialsOverBudget() async throws {
        let memory = try await IndexedMemory.shared.value
        #expect {
            try memory.service.pack(PackRequest(agent: "backend-manager", budget: 3_000))
        } throws: { error in
            guard case PackError.essentialsExceedBudget(let budget, let essential, let largest) = error else {
                return false
            }
            let message = "\(error)"
            return budget == 3_000 && essential > 3_000 && largest.count == 8
                && largest.allSatisfy { $0.reason.hasPrefix("pinned: ") }
                && largest.map(\.tokens) == largest.map(\.tokens).sorted(by: >)
                && message.contains("tier=detailed") && message.contains("tier_rules")
                && message.contains("--trim-essentials")
        }
        // With the explicit flag, essentials are cut to fit instead.
        let trimmed = try await memory.service.pack(
            PackRequest(agent: "backend-manager", budget: 3_000, trimEssentials: true))
        #expect(trimmed.manifest.tokens <= 3_000)
    }

    @Test("one service's packs follow the index: agents and essentials changed by a rebuild or a refresh are seen")
    func packsFollowTheIndex() async throws {
        let tree = try FixtureTree()
        let service = tree.service  // one service, so its packs share what they cache per index generation
        let zebraKeeper = """
            ---
            name: zebra-keeper
            description: Keeps the zebras.
            ---
            You keep the zebras.
            """
        try tree.write(".claude/agents/zebra-keeper.md", zebraKeeper)
        _ = try await service.index()
        await #expect(
            try service.pack(PackRequest(agent: "zebra-keeper", budget: 20_000)).text.contains("You keep the zebras."))
        // A rebuild starts the generations again (this one is generation 1 too): nothing cached outlives it.
        try tree.remove(".claude/agents/zebra-keeper.md")
        _ = try await service.index(rebuild: true)
        #expect(throws: PackError.self) { try service.pack(PackRequest(agent: "zebra-keeper", budget: 20_000)) }
        // A refresh: the agent is back and the root CLAUDE.md has a new essential section.
        try tree.write(".claude/agents/zebra-keeper.md", zebraKeeper)
        try tree.append("CLAUDE.md", "\n## Zebra crossing rule\n\nAlways yield to zebras.\n")
        _ = try await service.index()
        // Replace mode: the root CLAUDE.md is the pack's to give (supplementing, Claude Code loads it).
        let pack = try await service.pack(PackRequest(agent: "zebra-keeper", budget: 20_000, mode: .replace))
        #expect(pack.text.contains("Always yield to zebras."))
    }

    @Test("the packing cache loads outside its lock: a second load proceeds while a first is still reading")
    func packingCacheLoadsOutsideItsLock() async throws {
        // A build asks for the state while it holds its connection, and a load reads through a
        // connection: a load under the lock let two builds on one connection wait on each other.
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let state = try PackingState(store: try tree.service.sqliteReader(), withBodies: false, importDepth: 4)
        let cache = PackingCache()
        let firstLoading = DispatchSemaphore(value: 0)
        let secondDone = DispatchSemaphore(value: 0)
        let firstDone = DispatchSemaphore(value: 0)
        let secondFinishedFirst = Mutex(false)
        // Threads, not tasks: were the second load to wait for the first, the pool must not starve.
        Thread.detachNewThread {
            _ = try? cache.state(for: "generation 1") {
                firstLoading.signal()
                secondFinishedFirst.withLock { $0 = secondDone.wait(timeout: .now() + 10) == .success }
                return state
            }
            firstDone.signal()
        }
        firstLoading.wait()
        Thread.detachNewThread {
            _ = try? cache.state(for: "generation 2") { state }
            secondDone.signal()
        }
        #expect(firstDone.wait(timeout: .now() + 30) == .success)
        #expect(secondFinishedFirst.withLock { $0 }, "the second load waited for the first one's lock")
    }

    @Test("an unknown agent is named with the closest known one")
    func unknownAgent() async throws {
        let memory = try await IndexedMemory.shared.value
        #expect {
            try memory.service.pack(PackRequest(agent: "backend-manger"))
        } throws: { error in
            "\(error)".contains("did you mean 'backend-manager'")
                || "\(error)".contains("Did you mean 'backend-manager'")
        }
    }

    @Test("operational sections come in only when the task calls for them")
    func operationalOnlyWhenCalledFor() async throws {
        let memory = try await IndexedMemory.shared.value
        let recovery = try await memory.service.pack(
            PackRequest(agent: "gitops-manager", task: "the sync worker is stuck, recover it with the runbook"))
        let planning = try await memory.service.pack(
            PackRequest(agent: "gitops-manager", task: "design the drift detection dashboard"))
        #expect(recovery.manifest.tokensByTier["operational"] ?? 0 > 0)
        #expect(
            (planning.manifest.tokensByTier["operational"] ?? 0) < (recovery.manifest.tokensByTier["operational"] ?? 0))
        // Operational sections not included are pointed to, with their handles and costs.
        #expect(planning.text.contains("## More available"))
    }

    @Test("a tier the profile does not list comes in from a document the essentials link to, when the task touches it")
    func linkedDocumentAnswersTask() async throws {
        let memory = try await IndexedMemory.shared.value
        // qa-manager lists [essential, operational]; the sprint page (essential) links the release
        // checklist skill, whose gates the task needs but whose own words barely match it.
        let pack = try await memory.service.pack(
            PackRequest(
                agent: "qa-manager",
                task: "Run the v1.10 release sign-off: code freeze on 11-17, staging soak, FRA1 deploy on 11-24",
                budget: 50_000))
        let outcomes = Dictionary(pack.explanation.map { ($0.handle, $0) }, uniquingKeysWith: { a, _ in a })
        let gates = try #require(
            outcomes["memory://.claude/skills/release-checklist/SKILL.md#2-gates-on-the-release-branch"])
        #expect(gates.outcome == .included, "\(gates.outcome): \(gates.reason)")
        #expect(gates.reason.contains("linked from an essential file"))
        // A detailed plan no essential links to stays a pointer.
        let plan = try #require(outcomes["memory://project_management/plans/test-automation.md#work-items"])
        #expect(plan.outcome == .pointer, "\(plan.outcome): \(plan.reason)")
    }

    @Test("the task and role brief come last; essentials first, root CLAUDE.md before what it imports")
    func order() async throws {
        let memory = try await IndexedMemory.shared.value
        let pack = try await memory.service.pack(
            PackRequest(agent: "backend-manager", task: "add the VPC peering API", format: .markdown))
        let text = pack.text
        let claude = try #require(text.range(of: "## CLAUDE.md\n"))
        let imported = try #require(text.range(of: "## docs/architecture/overview.md\n"))
        let role = try #require(text.range(of: "## Your role: backend-manager"))
        let task = try #require(text.range(of: "## Task\n\nadd the VPC peering API"))
        #expect(claude.lowerBound < imported.lowerBound)
        #expect(imported.lowerBound < role.lowerBound && role.lowerBound < task.lowerBound)
        #expect(text.hasSuffix("add the VPC peering API\n"))
    }

    @Test("XML packs are valid against Schemas/context-pack.xsd, with &, <, ]]> and control characters in the text")
    func xmlValid() async throws {
        let tree = try FixtureTree()
        try tree.append(
            "CLAUDE.md",
            "\n## Hostile text\n\nA & B < C, ]]> ends CDATA, \"quotes\" 'too', a bell \u{07} and NUL-like \u{01}\u{1F}.\n"
        )
        _ = try await tree.service.index()
        for agent in [nil, "backend-manager"] {
            let pack = try await tree.service.pack(
                PackRequest(agent: agent, task: "hostile text & <tags>", budget: 20_000, format: .xml, mode: .replace))
            try XMLSchemaCheck.validate(pack.text)
            #expect(pack.text.contains("A &amp; B &lt; C, ]]&gt; ends CDATA"))
            #expect(pack.text.contains("hostile text &amp; &lt;tags&gt;"))
        }
    }

    @Test("the agent's own definition comes once, as the role brief: never also as content or a pointer")
    func definitionOnlyAsRoleBrief() async throws {
        let memory = try await IndexedMemory.shared.value
        for agent in try await memory.service.agents() {
            // A task in the definition's own words ranks its sections first, were they candidates.
            let pack = try await memory.service.pack(
                PackRequest(agent: agent.profile.name, task: agent.profile.description, budget: 50_000))
            let own = pack.explanation.filter { $0.handle.hasPrefix("memory://\(agent.profile.path)") }
            #expect(own.isEmpty, "\(agent.profile.name): \(own.map { "\($0.handle) \($0.outcome)" })")
            #expect(!pack.text.contains("memory://\(agent.profile.path)#"), "\(agent.profile.name)")
            #expect(pack.text.contains("## Your role: \(agent.profile.name)"))
        }
    }

    @Test("identical content appears once")
    func duplicatesOnce() async throws {
        let tree = try FixtureTree()
        let shared =
            "## Release checklist\n\nTag the release, update the changelog, announce it in #fabric-releases, and watch the canary for one hour before promoting.\n"
        try tree.write("project_management/a.md", "# A\n\n" + shared)
        try tree.write("project_management/b.md", "# B\n\n" + shared)
        _ = try await tree.service.index()
        let pack = try await tree.service.pack(PackRequest(task: "release checklist canary", budget: 20_000))
        #expect(pack.text.components(separatedBy: "watch the canary for one hour").count == 2)
        #expect(pack.manifest.duplicatesSkipped == 1)
    }

    @Test("a section too large for what is left is trimmed at a block boundary with a visible marker")
    func trimming() async throws {
        let tree = try FixtureTree()
        var big = "# Peering guide\n\n## Peering procedure\n\n"
        for index in 0..<120 {
            big +=
                "Step \(index): configure the peering between the two VPCs and verify the route tables of both sides.\n\n"
            if index == 60 {
                big += "```sh\nkubectl get vpcpeering -A\nkubectl describe vpcpeering tokyo-frankfurt\n```\n\n"
            }
        }
        try tree.write("project_management/guide.md", big)
        _ = try await tree.service.index()
        let pack = try await tree.service.pack(PackRequest(task: "peering procedure", budget: 3_000))
        #expect(pack.manifest.tokens <= 3_000)
        let trim = try #require(pack.manifest.trimmed.first)
        #expect(trim.handle == "memory://project_management/guide.md#peering-procedure")
        #expect(trim.keptTokens < trim.fullTokens)
        #expect(pack.text.contains("[… trimmed here to fit the budget; the whole section"))
        // Never inside a code block: an opened fence is closed in the pack.
        #expect(pack.text.components(separatedBy: "```").count % 2 == 1)
    }

    @Test("read serves a section or a file by handle, and nothing outside the index")
    func read() async throws {
        let memory = try await IndexedMemory.shared.value
        let section = try await memory.service.read(handle: "memory://CLAUDE.md#stack-at-a-glance")
        #expect(section.text.hasPrefix("## Stack at a glance"))
        #expect(section.startLine == 14)
        let file = try await memory.service.read(handle: "memory://CLAUDE.md")
        #expect(file.text.contains("## Stack at a glance") && file.text.contains("# Fabrikon"))
        for hostile in [
            "memory://../../etc/passwd", "memory:///etc/passwd", "memory://%2e%2e/%2e%2e/etc/passwd",
            "file:///etc/passwd",
            "memory://docs/../../x.md", "memory://~/.ssh/id_rsa",
        ] {
            #expect(throws: ReadError.self) { try memory.service.read(handle: hostile) }
        }
        #expect {
            try memory.service.read(handle: "memory://CLAUDE.md#stack-at-a-glanse")
        } throws: { "\($0)".contains("did you mean memory://CLAUDE.md#stack-at-a-glance") }
    }

    @Test("agents lists every definition with its budget and essential tokens")
    func agents() async throws {
        let memory = try await IndexedMemory.shared.value
        let agents = try await memory.service.agents()
        let backend = try #require(agents.first { $0.profile.name == "backend-manager" })
        #expect(backend.budget == 40_000)
        #expect(backend.profile.keywords.contains("django"))
        #expect(backend.essentialTokens > 1_000 && backend.essentialTokens < backend.budget)
        #expect(agents.allSatisfy { $0.findings.isEmpty })
    }
}

@Suite("Pack selection")
struct SelectionTests {
    static func section(_ ordinal: Int) -> SectionRecord {
        SectionRecord(
            id: Int64(ordinal), path: "docs/a.md", ordinal: ordinal, level: 2, headingPath: ["A", "S\(ordinal)"],
            slug: "s\(ordinal)", startLine: ordinal * 10, endLine: ordinal * 10 + 9, tier: .detailed,
            tierReason: "default", tokens: 50, contentHash: String(format: "%016x", ordinal), kind: .referenced,
            importDepth: nil, modified: 0, body: "## S\(ordinal)\n\ntext \(ordinal)\n")
    }

    @Test("a section that bridges two passages gives back the second one's source line; the render merges them")
    func bridgingRefund() {
        var selection = Selection()
        #expect(
            selection.add(
                Self.section(1), tier: .detailed, text: "one", trimmed: false, density: 1, tokens: 1, wrapper: 40) == 0)
        #expect(
            selection.add(
                Self.section(3), tier: .detailed, text: "three", trimmed: false, density: 1, tokens: 1, wrapper: 45)
                == 0)
        #expect(selection.extendsRun(Self.section(2), tier: .detailed))
        // Section 2 joins section 1's passage at the cost of a join (2); section 3's line is no longer rendered.
        #expect(
            selection.add(
                Self.section(2), tier: .detailed, text: "two", trimmed: false, density: 1, tokens: 1, wrapper: 2) == 43)
        #expect(selection.documents().first?.sections.count == 1)
        // A section before a passage takes over its line: nothing to give back.
        #expect(
            selection.add(
                Self.section(0), tier: .detailed, text: "zero", trimmed: false, density: 1, tokens: 1, wrapper: 2) == 0)
        #expect(selection.documents().first?.sections.first?.startLine == 0)
    }
}

@Suite("Agent profiles")
struct AgentProfileTests {
    @Test("a malformed context block is a finding at the key's line, and the profile keeps its defaults")
    func malformed() throws {
        let text = """
            ---
            name: broken
            description: An agent with a bad context block.
            context:
              budget: lots
              include: 42
              tiers: [essential, urgent]
              colour: blue
            ---
            Body.
            """
        let frontmatter = Frontmatter.extract(lines: text.split(separator: "\n", omittingEmptySubsequences: false))
            .values
        let (profile, findings) = AgentProfile.parse(path: ".claude/agents/broken.md", frontmatter: frontmatter) {
            AgentProfile.frontmatterLine(of: $0, in: text)
        }
        #expect(profile?.name == "broken")
        #expect(profile?.budget == nil)
        #expect(profile?.tiers == [.essential])
        func line(_ key: String) -> Int? { findings.first { $0.message.contains("`\(key)`") }?.line }
        #expect(line("context.budget") == 5)
        #expect(line("context.include") == 6)
        #expect(line("context.tiers") == 7)
        #expect(line("context.colour") == 8)
        #expect(findings.allSatisfy { $0.rule == .invalidAgent })
    }

    @Test("a definition without name or description is reported; without frontmatter it is no agent")
    func missingKeys() {
        let (profile, findings) = AgentProfile.parse(
            path: ".claude/agents/helper.md", frontmatter: ["model": .string("haiku")])
        #expect(profile?.name == "helper")
        #expect(findings.count == 2)
        let (none, problems) = AgentProfile.parse(path: ".claude/agents/x.md", frontmatter: nil)
        #expect(none == nil && problems.count == 1)
    }
}

@Suite("Trimmer")
struct TrimmerTests {
    let counter = PackTokenCounter(base: ClaudeTokenEstimator(), safetyMargin: 0)

    @Test("blocks split at blank lines, never inside a fenced code block")
    func blocks() {
        let text = "para one\nstill one\n\n```\ncode\n\nmore code\n```\n\nlast\n"
        let blocks = Trimmer.blocks(of: text)
        #expect(blocks.count == 3)
        #expect(blocks[1].hasPrefix("```") && blocks[1].contains("more code\n```"))
        #expect(blocks.joined() == text + "\n" || blocks.joined().hasPrefix(text))
    }

    @Test("the prefix fits the limit and ends at a block boundary")
    func prefix() throws {
        let text = (0..<50).map { "Paragraph \($0) with several words in it to count.\n" }.joined(separator: "\n")
        let part = try #require(Trimmer.prefix(of: text, fitting: 100, counter: counter))
        #expect(counter.count(part) <= 100)
        #expect(text.hasPrefix(part))
        #expect(part.hasSuffix("count."))
        #expect(Trimmer.prefix(of: text, fitting: 2, counter: counter) == nil)
    }
}

/// Validates XML against Schemas/context-pack.xsd with libxml2's XML Schema support.
enum XMLSchemaCheck {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func validate(_ xml: String) throws {
        let xsd = FixtureTree.repositoryRoot.appendingPathComponent("Schemas/context-pack.xsd").path
        guard let parserContext = xmlSchemaNewParserCtxt(xsd) else { throw Failure(description: "cannot read \(xsd)") }
        defer { xmlSchemaFreeParserCtxt(parserContext) }
        guard let schema = xmlSchemaParse(parserContext) else {
            throw Failure(description: "\(xsd) is not a valid XML Schema")
        }
        defer { xmlSchemaFree(schema) }
        guard let validation = xmlSchemaNewValidCtxt(schema) else {
            throw Failure(description: "no validation context")
        }
        defer { xmlSchemaFreeValidCtxt(validation) }
        let bytes = Array(xml.utf8)
        guard
            let document = bytes.withUnsafeBufferPointer({ buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    xmlReadMemory($0, Int32(buffer.count), "pack.xml", "UTF-8", Int32(XML_PARSE_NONET.rawValue))
                }
            })
        else { throw Failure(description: "the pack is not well-formed XML") }
        defer { xmlFreeDoc(document) }
        let result = xmlSchemaValidateDoc(validation, document)
        if result != 0 {
            throw Failure(description: "the pack is not valid against context-pack.xsd (libxml2 code \(result))")
        }
    }
}

@Suite("PackRequest.validate: one check for every face")
struct PackRequestValidationTests {
    @Test(
        "budgets in range, tasks up to the limit in code points",
        arguments: [
            (PackRequest(budget: 499), false), (PackRequest(budget: 500), true),
            (PackRequest(budget: 2_000_001), false),
            (PackRequest(task: String(repeating: "é", count: PackRequest.maxTaskLength)), true),
            (PackRequest(task: String(repeating: "é", count: PackRequest.maxTaskLength + 1)), false),
            (PackRequest(task: String(repeating: "😀", count: PackRequest.maxTaskLength)), true),
            (PackRequest(task: String(repeating: "e\u{301}", count: PackRequest.maxTaskLength / 2 + 1)), false),
        ])
    func validate(request: PackRequest, valid: Bool) {
        #expect(((try? request.validate()) != nil) == valid)
    }
}
