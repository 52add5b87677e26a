/// Stage 5, fill: content while it fits. Takes the plan (the essentials in it, or waiting to be
/// trimmed) and the ranked candidates; gives the plan with sections included whole or trimmed at a
/// block boundary, duplicates skipped, and what is not content handed to the pointers (what did not
/// fit also to the fit stage, which retries it). The fill costs each section with its own source
/// line; the fit measures the render.
extension PackBuilder {
    func fill(_ plan: inout PackPlan, with candidates: [Candidate]) {
        plan.pointerReserve =
            plan.request.delivery == .hookContext
            ? plan.budget / policy.hookPointerReserveDivisor
            : min(plan.budget / policy.pointerReserveDivisor, policy.pointerReserveLimit)
        plan.remaining = plan.budget - plan.committed - plan.slack - plan.pointerReserve
        var trims = 0
        for candidate in fillOrder(candidates, plan: plan) {
            place(candidate, in: &plan, trims: &trims)
        }
    }

    /// The pinned sections first when they had to be trimmed, in pack order; then the most
    /// relevant sections, best first, whatever their size (whole, or trimmed when strong): value
    /// per token alone let many small, loosely related sections crowd them out; then the rest by
    /// value per token.
    private func fillOrder(_ candidates: [Candidate], plan: PackPlan) -> [Candidate] {
        // Pinned sections that did not fit whole come first, in pack order, to be trimmed.
        let pinned =
            plan.selection.items.isEmpty
            ? plan.essentials.map {
                Candidate(
                    record: $0.record, tier: .essential, score: 1,
                    reason: "pinned: \($0.reason) (trimmed to fit: --trim-essentials)", contentAllowed: true,
                    policy: policy)
            } : []
        let queue = candidates.sorted {
            ($0.density, $0.recency, $1.record.id) > ($1.density, $1.recency, $0.record.id)
        }
        let mostRelevant = queue.filter(\.contentAllowed).sorted {
            ($0.score, $0.recency, $1.record.id) > ($1.score, $1.recency, $0.record.id)
        }
        .prefix(policy.mostRelevantFirst)
        let first = Set(mostRelevant.map(\.record.id))
        return pinned + Array(mostRelevant) + queue.filter { !first.contains($0.record.id) }
    }

    /// Includes `candidate` whole when it fits, trimmed when it is relevant enough and a useful part
    /// fits, else hands it to the pointers; records why.
    private func place(_ candidate: Candidate, in plan: inout PackPlan, trims: inout Int) {
        let record = candidate.record
        if !candidate.contentAllowed {
            plan.pointerCandidates.append(candidate)
            let why =
                candidate.score > 0
                ? "tier \(candidate.tier.rawValue) not called for by the task"
                : "not relevant"
            plan.decisions[record.id] = candidate.decision(.pointer, why)
            return
        }
        if record.tokens >= policy.duplicateMinimumTokens, let original = plan.selection.hashes[record.contentHash] {
            plan.decisions[record.id] = candidate.decision(.duplicate, "same content as \(original)")
            return
        }
        let text = record.body ?? ""
        let opening = opening(record.path, in: &plan)
        let (bare, sectionCost) = wholeCost(of: record, tier: candidate.tier, in: plan)
        let itemCost = sectionCost + opening
        if itemCost <= plan.remaining {
            // The text's own tokens (for the manifest): the section less its source line.
            let refund = plan.selection.add(
                record, tier: candidate.tier, text: text, trimmed: false,
                density: candidate.density, tokens: max(0, sectionCost - bare),
                wrapper: bare)
            plan.remaining -= itemCost - refund
            plan.decisions[record.id] = candidate.decision(.included, candidate.reason)
            return
        }
        // Relevant but too large: keep its first blocks when a useful part fits.
        // The wrapper (source line and trim marker) is costed on its own; joins may add a token or two.
        let wrapper = wrapperCost(record, tier: candidate.tier, trimmed: true, renderer: plan.renderer) + 4
        let room = plan.remaining - opening - wrapper
        if trims < policy.maximumTrims, candidate.score >= policy.strongTaskMatch || candidate.tier == .essential,
            room >= policy.minimumTrimTokens,
            let part = Trimmer.prefix(of: text, fitting: room, counter: counter),
            counter.count(part) >= policy.minimumTrimTokens,
            case let trimmed = PackedSection(record, tier: candidate.tier, text: part, trimmed: true),
            case let trimmedCost = cost(of: trimmed, renderer: plan.renderer) + opening,
            trimmedCost <= plan.remaining
        {
            plan.selection.add(
                record, tier: candidate.tier, text: part, trimmed: true, density: candidate.density,
                tokens: counter.count(part))
            plan.remaining -= trimmedCost
            trims += 1
            plan.decisions[record.id] = candidate.decision(.trimmed, "\(candidate.reason); trimmed to fit")
            return
        }
        plan.pointerCandidates.append(candidate)
        plan.deferred.append(candidate)
        plan.decisions[record.id] = candidate.decision(.pointer, "did not fit (\(record.tokens) tokens)")
    }
}
