import Foundation

/// Stage 1, essentials: what the agent starts with whatever the task. Takes the request and the
/// generation's shared reads; gives the profile, the budget, the mode, the essential tier split
/// into the pinned sections (always in) and the rest (which the share stage fills by relevance),
/// what Claude Code loads itself (left out when the pack supplements it) and the role brief; then a
/// plan that holds the pinned sections (or, when they alone exceed the budget and the request
/// allows it, leaves them to the fill to trim).
extension PackBuilder {
    /// What the later stages need of the request and its agent, read in the build's transaction.
    struct PackInputs {
        var profile: AgentProfile?
        var task: String?
        var budget: Int
        /// `auto` settled: replace or supplement.
        var mode: PackMode
        /// The most of the budget the coordination overhead (essentials, role brief, manifest) may take.
        var essentialShare: Double
        /// Essential sections that always come in, in pack order, each with why it is pinned.
        var pinned: [(record: SectionRecord, reason: String)]
        /// The rest of the essential tier, each with why it is essential: it fills the share by
        /// relevance, and what does not fit competes with the detailed sections.
        var shareable: [(record: SectionRecord, reason: String)]
        /// Files left out because Claude Code loads them itself (supplement mode).
        var loadedByClaudeCode: PackManifest.LoadedByClaudeCode
        /// The agent's own definition, the role brief: none of its sections is a candidate again.
        var role: [SectionRecord]
        /// The generation the shared reads came from, when a cache keeps them (role rankings are kept too).
        var generation: String?
        /// Sub-agents' reports in the index.
        var handoffs: HandoffLedger
        /// The agent types whose latest report this pack takes when it bears on the task: the
        /// agent's own and those of the agents its definition names (an orchestrator names its
        /// managers, a manager its specialists); nil for a generic pack: every agent's.
        var reportingAgents: Set<String>?
    }

    /// An agent's essential tier: the pinned sections, the rest, and its own definition apart.
    public struct EssentialSections: Sendable {
        /// Always in the pack: author-marked essential, addressed to this agent, or a prohibition
        /// every agent must keep (docs/packing.md, "Pinned sections").
        public var pinned: [(record: SectionRecord, reason: String)]
        /// Root memory, `CLAUDE.local.md` and what launch-loaded files import: in by relevance.
        public var shareable: [(record: SectionRecord, reason: String)]
        /// The agent's definition (the role brief).
        public var role: [SectionRecord]
        /// Files Claude Code loads at launch by itself (what a supplementing pack leaves out).
        public var loadedByClaudeCode: PackManifest.LoadedByClaudeCode

        /// The sections a pack in `mode` chooses from: supplementing, none of a file Claude Code
        /// loads itself (and those files stay listed); replacing, all of them (and none is listed).
        public func inMode(_ mode: PackMode) -> EssentialSections {
            var sections = self
            guard mode == .supplement else {
                sections.loadedByClaudeCode = .none
                return sections
            }
            let files = Set(loadedByClaudeCode.files)
            sections.pinned.removeAll { files.contains($0.record.path) }
            sections.shareable.removeAll { files.contains($0.record.path) }
            return sections
        }
    }

    /// The request's profile, budget and mode, its essentials in pack order and the role brief.
    /// - Throws: ``PackError/unknownAgent(name:known:)``, ``PackError/invalidBudget(_:)`` (a profile's budget).
    func essentialInputs(for request: PackRequest, task: String?) throws -> PackInputs {
        let shared = try shared(withBodies: true)
        let profile = try request.agent.map { try self.profile(named: $0, in: shared.profiles) }
        let budget = request.budget ?? profile?.budget ?? defaultBudget
        guard PackRequest.budgetRange.contains(budget) else { throw PackError.invalidBudget(budget) }
        let mode = request.mode.resolved(for: profile)
        let sections = try essentials(for: profile, shared: shared, withBodies: true).inMode(mode)
        return PackInputs(
            profile: profile, task: task, budget: budget, mode: mode,
            essentialShare: profile?.essentialShare ?? defaultEssentialShare,
            pinned: Self.inPackOrder(sections.pinned), shareable: Self.inPackOrder(sections.shareable),
            loadedByClaudeCode: sections.loadedByClaudeCode, role: sections.role, generation: shared.generation,
            handoffs: shared.handoffs,
            reportingAgents: profile.map { Self.team(of: $0, role: sections.role, profiles: shared.profiles) })
    }

    /// `profile`'s own name and those of the other agents its definition (description and body) names.
    static func team(of profile: AgentProfile, role: [SectionRecord], profiles: [AgentProfile]) -> Set<String> {
        let text = ([profile.description] + role.compactMap(\.body)).joined(separator: "\n").lowercased()
        var team: Set<String> = [profile.name]
        for other in profiles where other.name != profile.name && Self.names(text, other.name.lowercased()) {
            team.insert(other.name)
        }
        return team
    }

    /// Whether `text` has `name` as a whole word (not inside `backend-manager-2` or `xbackend-manager`).
    private static func names(_ text: String, _ name: String) -> Bool {
        func isNameCharacter(_ character: Character?) -> Bool {
            guard let character else { return false }
            return character.isLetter || character.isNumber || character == "-" || character == "_"
        }
        var searchStart = text.startIndex
        while let found = text.range(of: name, range: searchStart..<text.endIndex) {
            let before = found.lowerBound == text.startIndex ? nil : text[text.index(before: found.lowerBound)]
            let after = found.upperBound == text.endIndex ? nil : text[found.upperBound]
            if !isNameCharacter(before) && !isNameCharacter(after) { return true }
            searchStart = found.upperBound
        }
        return false
    }

    /// The essential sections for `profile` (or for a generic pack), pinned and not, each with
    /// why, in no order, and the agent's own definition (the role brief) apart.
    /// - Parameter withBodies: false when only the sections' tokens are wanted (`ctxmem agents`, the audit).
    public func essentials(for profile: AgentProfile?, withBodies: Bool = true) throws -> EssentialSections {
        try store.snapshot {
            try essentials(for: profile, shared: shared(withBodies: withBodies), withBodies: withBodies)
        }
    }

    private func essentials(
        for profile: AgentProfile?, shared: PackingState,
        withBodies: Bool
    ) throws -> EssentialSections {
        let audience = shared.audiences
        func applies(_ record: SectionRecord) -> Bool {
            if record.kind == .agent { return false }  // other agents' definitions are not this one's
            if let names = audience[record.path] { return profile.map { names.contains($0.name) } ?? false }
            return true
        }
        var pinned: [Int64: (SectionRecord, String)] = [:]
        var shareable: [Int64: (SectionRecord, String)] = [:]
        for record in shared.essentialSections where applies(record) {
            if let why = Self.pinReason(record) {
                pinned[record.id] = (record, why)
            } else {
                shareable[record.id] = (record, record.tierReason)
            }
        }
        let role =
            profile.map { own in try? store.sections(inPaths: [own.path], withBody: withBodies) }
            .flatMap { $0 } ?? []
        if let profile {
            // A file addressed to this agent is its own memory, whatever its tier.
            let named = audience.filter { $0.value.contains(profile.name) }.map(\.key).sorted()
            for record in try store.sections(inPaths: named, withBody: withBodies) where pinned[record.id] == nil {
                shareable[record.id] = nil
                pinned[record.id] = (record, "frontmatter names \(profile.name)")
            }
        }
        // What the launch-loaded files and the definition import, Claude Code loads with them.
        let seeds = Set(pinned.values.map(\.0.path)).union(shareable.values.map(\.0.path))
            .union(profile.map { [$0.path] } ?? [])
        let imported = shared.imports.closure(from: seeds, limit: importDepth)
        let importedPaths = imported.keys.sorted()
        for record in try store.sections(inPaths: importedPaths, withBody: withBodies)
        where pinned[record.id] == nil && shareable[record.id] == nil {
            guard record.tier == .detailed, TierAssigner.isFileDefault(record.tierReason), record.kind != .agent else {
                continue
            }
            if let names = audience[record.path], !(profile.map { names.contains($0.name) } ?? false) { continue }
            let why = "imported by \(imported[record.path] ?? "a launch file")"
            if TierAssigner.isProhibition(record.headingPath) {
                pinned[record.id] = (record, "\(why); states what agents may not do")
            } else {
                shareable[record.id] = (record, why)
            }
        }
        return EssentialSections(
            pinned: Array(pinned.values).map { (record: $0.0, reason: $0.1) },
            shareable: Array(shareable.values).map { (record: $0.0, reason: $0.1) },
            role: role,
            loadedByClaudeCode: .init(
                files: shared.launchLoaded.keys.sorted(), tokens: shared.launchLoadedTokens.values.reduce(0, +),
                tokensByFile: shared.launchLoadedTokens))
    }

    /// Why an essential section is pinned (always in), or nil when it competes for the share: an
    /// author's explicit choice (a marker, frontmatter `tier: essential`, a `tier_rules` entry),
    /// a rule Claude Code loads for every agent, or a prohibition (its heading says what may not
    /// be done). Root memory and what launch files import are essential by default only, and are
    /// trimmed per role.
    static func pinReason(_ record: SectionRecord) -> String? {
        let reason = record.tierReason
        if reason.hasPrefix("marker") || reason.hasPrefix("file marker") || reason == "frontmatter tier"
            || reason.hasPrefix("config rule")
        {
            return "\(reason) (set by the author)"
        }
        if record.kind == .rule, reason == "rule loaded at launch" { return "rule every agent keeps" }
        if TierAssigner.isProhibition(record.headingPath) { return "\(reason); states what agents may not do" }
        return nil
    }

    /// Documents by hierarchy (importer before imported, root before nested), then path; sections
    /// in document order. Keys are made once per section, not in every comparison.
    static func inPackOrder(_ essentials: [(record: SectionRecord, reason: String)])
        -> [(record: SectionRecord, reason: String)]
    {
        essentials.map { (key: OrderKey($0.record, tier: .essential), pair: $0) }
            .sorted { ($0.key, $0.pair.record.ordinal) < ($1.key, $1.pair.record.ordinal) }
            .map(\.pair)
    }

    /// A plan that starts from the pinned sections and the role brief, with the pack's fixed cost measured.
    /// - Throws: ``PackError/essentialsExceedBudget(budget:essentialTokens:largest:)`` when they do
    ///   not fit and the request does not allow trimming them (then the plan starts empty).
    func startPlan(with inputs: PackInputs, request: PackRequest) throws -> PackPlan {
        let renderer = PackRenderer(format: request.format, delivery: request.delivery)
        let role = inputs.profile.map { profile in
            RoleBrief(
                name: profile.name, description: profile.description, path: profile.path,
                text: Self.roleText(inputs.role))
        }
        var selection = Selection(duplicateMinimumTokens: policy.duplicateMinimumTokens)
        var decisions: [Int64: PackDecision] = [:]
        for (record, reason) in inputs.pinned {
            selection.add(
                record, tier: .essential, text: record.body ?? "", trimmed: false, density: .infinity,
                tokens: bodyTokens(record))
            decisions[record.id] = PackDecision(
                handle: record.handle, tier: .essential, tokens: record.tokens,
                score: 1, outcome: .included, reason: "pinned: \(reason)")
        }
        // Fixed cost: wrappers, manifest, role and task; then with the pinned sections as they render
        // (a document's consecutive sections share one source line, so costing them one by one
        // overstates them by thousands of tokens and leaves room that refills must take back).
        let manifest = Self.emptyManifest(
            request: request, agent: inputs.profile?.name, task: inputs.task, mode: inputs.mode,
            budget: inputs.budget, counter: counter, loadedByClaudeCode: inputs.loadedByClaudeCode)
        var content = PackContent(
            manifest: manifest, documents: [], pointers: [], unlistedPointers: 0,
            role: role, task: inputs.task)
        let fixed = counter.count(renderer.render(content))
        var committed = fixed
        if !selection.items.isEmpty {
            content.documents = selection.documents()
            committed = counter.count(renderer.render(content))
        }
        var plan = PackPlan(
            request: request, budget: inputs.budget, essentials: inputs.pinned, renderer: renderer,
            slack: policy.slackTokens + inputs.budget / policy.slackDivisor,
            selection: selection, decisions: decisions, content: content, committed: committed,
            fixedOverhead: max(
                0, fixed - (request.delivery == .document ? inputs.task.map { counter.count($0) } ?? 0 : 0)),
            essentialShare: inputs.essentialShare)
        if committed + plan.slack > inputs.budget {
            if !request.trimEssentials {
                throw plan.overBudget(committed)
            }
            plan.selection = Selection(duplicateMinimumTokens: policy.duplicateMinimumTokens)
            plan.committed = fixed
        }
        return plan
    }

    /// The definition's text without its frontmatter (blanked, not cut, by the parser).
    static func roleText(_ records: [SectionRecord]) -> String {
        let text = records.sorted { $0.ordinal < $1.ordinal }.compactMap(\.body).joined(separator: "\n")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
