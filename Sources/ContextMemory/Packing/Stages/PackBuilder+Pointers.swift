/// Stage 6, pointers: "more available". Takes the plan after the fill; gives it the handles of the
/// most relevant sections that are not content, best first, while they fit in what the fill left
/// and the pointer reserve; the rest are left out (counted, by tier, in the manifest).
extension PackBuilder {
    func listPointers(_ plan: inout PackPlan) {
        var pointerBudget = plan.remaining + plan.pointerReserve
        var pointers: [PackPointer] = []
        let ranked = plan.pointerCandidates.filter { $0.score > 0 }
            .sorted { ($0.score, $0.recency, $1.record.id) > ($1.score, $1.recency, $0.record.id) }
        for candidate in ranked {
            let pointer = PackPointer(
                handle: candidate.record.handle, title: Self.title(candidate.record),
                tier: candidate.tier, tokens: candidate.record.tokens)
            let pointerCost = counter.count(plan.renderer.pointerFragment(pointer))
            guard pointerCost <= pointerBudget else { break }
            pointers.append(pointer)
            plan.pointerCosts[pointer.handle] = pointerCost
            pointerBudget -= pointerCost
        }
        let listed = Set(pointers.map(\.handle))
        for candidate in ranked where !listed.contains(candidate.record.handle) {
            let id = candidate.record.id
            plan.decisions[id] = candidate.decision(.leftOut, plan.decisions[id]?.reason ?? "no room for a pointer")
        }
        logger.trace(
            "pack plan",
            metadata: [
                "committed": "\(plan.committed)", "slack": "\(plan.slack)",
                "unspent": "\(pointerBudget)",
            ])
        plan.content.pointers = pointers
        plan.content.unlistedPointers = ranked.count - pointers.count
    }

    /// A pointer's title: the section's heading path, or its file's path for text before any heading.
    static func title(_ record: SectionRecord) -> String {
        record.headingPath.isEmpty ? record.path : record.headingPath.joined(separator: " > ")
    }
}
