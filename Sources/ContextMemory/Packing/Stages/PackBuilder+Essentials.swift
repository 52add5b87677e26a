import Foundation

/// Stage 1, essentials: what the agent starts with whatever the task. Takes the request and the
/// generation's shared reads; gives the profile, the budget, the essential sections in pack order
/// and the role brief's sections, and then a plan that holds the essentials (or, when they alone
/// exceed the budget and the request allows it, leaves them to the fill to trim).
extension PackBuilder {
    /// What the later stages need of the request and its agent, read in the build's transaction.
    struct PackInputs {
        var profile: AgentProfile?
        var task: String?
        var budget: Int
        /// The essential sections in pack order, each with why it is essential.
        var essentials: [(record: SectionRecord, reason: String)]
        /// The agent's own definition, the role brief: none of its sections is a candidate again.
        var role: [SectionRecord]
    }

    /// The request's profile and budget, its essentials in pack order and the role brief.
    /// - Throws: ``PackError/unknownAgent(name:known:)``, ``PackError/invalidBudget(_:)`` (a profile's budget).
    func essentialInputs(for request: PackRequest, task: String?) throws -> PackInputs {
        let shared = try shared(withBodies: true)
        let profile = try request.agent.map { try self.profile(named: $0, in: shared.profiles) }
        let budget = request.budget ?? profile?.budget ?? defaultBudget
        guard PackRequest.budgetRange.contains(budget) else { throw PackError.invalidBudget(budget) }
        let (essentials, role) = try essentials(for: profile, shared: shared, withBodies: true)
        return PackInputs(
            profile: profile, task: task, budget: budget, essentials: Self.inPackOrder(essentials),
            role: role)
    }

    /// The essential sections for `profile` (or for a generic pack), each with why, in no order,
    /// and the agent's own definition (the role brief) apart.
    /// - Parameter withBodies: false when only the sections' tokens are wanted (`ctxmem agents`, the audit).
    public func essentials(for profile: AgentProfile?, withBodies: Bool = true)
        throws -> (sections: [(SectionRecord, String)], role: [SectionRecord])
    {
        try store.snapshot {
            try essentials(for: profile, shared: shared(withBodies: withBodies), withBodies: withBodies)
        }
    }

    private func essentials(
        for profile: AgentProfile?, shared: PackingState,
        withBodies: Bool
    ) throws -> (sections: [(SectionRecord, String)], role: [SectionRecord]) {
        let audience = shared.audiences
        func applies(_ record: SectionRecord) -> Bool {
            if record.kind == .agent { return false }  // other agents' definitions are not this one's
            if let names = audience[record.path] { return profile.map { names.contains($0.name) } ?? false }
            return true
        }
        var chosen: [Int64: (SectionRecord, String)] = [:]
        for record in shared.essentialSections where applies(record) {
            chosen[record.id] = (record, record.tierReason)
        }
        let role =
            profile.map { own in try? store.sections(inPaths: [own.path], withBody: withBodies) }
            .flatMap { $0 } ?? []
        if let profile {
            let named = audience.filter { $0.value.contains(profile.name) }.map(\.key).sorted()
            for record in try store.sections(inPaths: named, withBody: withBodies) where chosen[record.id] == nil {
                chosen[record.id] = (record, "frontmatter names \(profile.name)")
            }
        }
        // What the launch-loaded files and the definition import, Claude Code loads with them.
        let seeds = Set(chosen.values.map(\.0.path)).union(profile.map { [$0.path] } ?? [])
        let imported = shared.imports.closure(from: seeds, limit: importDepth)
        let importedPaths = imported.keys.sorted()
        for record in try store.sections(inPaths: importedPaths, withBody: withBodies) where chosen[record.id] == nil {
            guard record.tier == .detailed, TierAssigner.isFileDefault(record.tierReason), record.kind != .agent else {
                continue
            }
            if let names = audience[record.path], !(profile.map { names.contains($0.name) } ?? false) { continue }
            chosen[record.id] = (record, "imported by \(imported[record.path] ?? "a launch file")")
        }
        return (Array(chosen.values), role)
    }

    /// Documents by hierarchy (importer before imported, root before nested), then path; sections
    /// in document order. Keys are made once per section, not in every comparison.
    private static func inPackOrder(_ essentials: [(SectionRecord, String)])
        -> [(record: SectionRecord, reason: String)]
    {
        essentials.map { (key: OrderKey($0.0, tier: .essential), pair: $0) }
            .sorted { ($0.key, $0.pair.0.ordinal) < ($1.key, $1.pair.0.ordinal) }
            .map { (record: $0.pair.0, reason: $0.pair.1) }
    }

    /// A plan that starts from the essentials and the role brief, with the pack's fixed cost measured.
    /// - Throws: ``PackError/essentialsExceedBudget(budget:essentialTokens:largest:)`` when they do
    ///   not fit and the request does not allow trimming them (then the plan starts empty).
    func startPlan(with inputs: PackInputs, request: PackRequest) throws -> PackPlan {
        let renderer = PackRenderer(format: request.format)
        let role = inputs.profile.map { profile in
            RoleBrief(
                name: profile.name, description: profile.description, path: profile.path,
                text: Self.roleText(inputs.role))
        }
        var selection = Selection(duplicateMinimumTokens: policy.duplicateMinimumTokens)
        var decisions: [Int64: PackDecision] = [:]
        for (record, reason) in inputs.essentials {
            selection.add(
                record, tier: .essential, text: record.body ?? "", trimmed: false, density: .infinity,
                tokens: bodyTokens(record))
            decisions[record.id] = PackDecision(
                handle: record.handle, tier: .essential, tokens: record.tokens,
                score: 1, outcome: .included, reason: "essential: \(reason)")
        }
        // Fixed cost: wrappers, manifest, role and task; then with the essentials as they render
        // (a document's consecutive sections share one source line, so costing them one by one
        // overstates them by thousands of tokens and leaves room that refills must take back).
        let manifest = Self.emptyManifest(
            request: request, agent: inputs.profile?.name, task: inputs.task,
            budget: inputs.budget, counter: counter)
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
            request: request, budget: inputs.budget, essentials: inputs.essentials, renderer: renderer,
            slack: policy.slackTokens + inputs.budget / policy.slackDivisor,
            selection: selection, decisions: decisions, content: content, committed: committed)
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
