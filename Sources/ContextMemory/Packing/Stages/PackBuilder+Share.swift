/// Stage 4, share: the rest of the essential tier, by relevance, within the essential share.
/// Takes the plan (the pinned sections in it) and the ranked candidates; gives the plan with the
/// root memory sections, `CLAUDE.local.md` and what launch files import that this agent and task
/// need most, best first, while the coordination overhead (the manifest, the role brief and every
/// essential section) stays within `essential_share` of the budget; the candidates left for the
/// fill, where the rest compete with the detailed sections (as detail) or become pointers. A large
/// root CLAUDE.md is thus trimmed per role.
extension PackBuilder {
    func fillShare(_ plan: inout PackPlan, with candidates: [Candidate], inputs: PackInputs) -> [Candidate] {
        let shareable = Dictionary(inputs.shareable.map { ($0.record.id, $0.reason) }, uniquingKeysWith: { a, _ in a })
        // With --trim-essentials and pinned sections over the budget, the fill trims those first.
        guard !shareable.isEmpty, !plan.selection.items.isEmpty || inputs.pinned.isEmpty else { return candidates }
        let pinnedTokens = inputs.pinned.reduce(0) { $0 + bodyTokens($1.record) }
        var room =
            Int(Double(plan.budget) * plan.essentialShare) - plan.fixedOverhead - pinnedTokens
            - inputs.loadedByClaudeCode.tokens
        // Without a task or a role nothing is more relevant than anything else: the files' order decides.
        let unranked = inputs.task == nil && inputs.profile == nil
        let ordered = candidates.filter { shareable[$0.record.id] != nil && (unranked || $0.score > 0) }
            .sorted { ($0.score, $0.recency, $1.record.id) > ($1.score, $1.recency, $0.record.id) }
        var taken = Set<Int64>()
        for candidate in ordered where room > 0 {
            let record = candidate.record
            let tokens = bodyTokens(record)
            guard tokens <= room else { continue }
            let opening = opening(record.path, in: &plan)
            let (bare, sectionCost) = wholeCost(of: record, tier: .essential, in: plan)
            guard plan.committed + sectionCost + opening + plan.slack <= plan.budget else { continue }
            let refund = plan.selection.add(
                record, tier: .essential, text: record.body ?? "", trimmed: false,
                density: candidate.density, tokens: tokens, wrapper: bare)
            plan.committed += sectionCost + opening - refund
            room -= tokens
            taken.insert(record.id)
            plan.decisions[record.id] = PackDecision(
                handle: record.handle, tier: .essential, tokens: record.tokens,
                score: (candidate.score * 1000).rounded() / 1000, outcome: .included,
                reason: "essential: \(shareable[record.id] ?? ""); within the essential share, \(candidate.reason)")
        }
        return candidates.compactMap { candidate in
            let id = candidate.record.id
            if taken.contains(id) { return nil }
            guard let why = shareable[id] else { return candidate }
            return Candidate(
                record: candidate.record, tier: candidate.tier, score: candidate.score,
                reason: "\(candidate.reason); essential (\(why)) beyond the share",
                contentAllowed: candidate.contentAllowed, policy: policy)
        }
    }
}
