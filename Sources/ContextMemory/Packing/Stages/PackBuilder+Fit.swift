/// Stage 7, fit: the render, measured. Takes the plan after the pointers; renders it with its
/// manifest and measures the whole with the counter in force; fills the room the render leaves
/// (a document's consecutive sections share one source line, which the fill costed once each)
/// with what did not fit; gives back pointers, then the least valuable sections, while the render
/// is over the budget. Gives the pack and every decision in `--explain` order.
extension PackBuilder {
    /// - Throws: ``PackError/essentialsExceedBudget(budget:essentialTokens:largest:)`` when even
    ///   the essentials alone render over the budget.
    func fit(_ plan: inout PackPlan) throws -> Pack {
        let budget = plan.budget
        let roleTokens = plan.content.role.map { counter.count($0.text) } ?? 0
        var refills = 0
        while true {
            plan.content.documents = plan.selection.documents()
            let leftOut = plan.decisions.values.filter { $0.outcome == .leftOut }.map(\.tier)
            let duplicates = plan.decisions.values.filter { $0.outcome == .duplicate }.count
            plan.content.manifest = manifest(
                for: plan.content, roleTokens: roleTokens,
                pointerCosts: &plan.pointerCosts, request: plan.request, budget: budget,
                leftOut: leftOut, duplicates: duplicates, fixedOverhead: plan.fixedOverhead,
                essentialShare: plan.essentialShare)
            let (text, tokens) = renderMeasured(&plan.content, renderer: plan.renderer)
            // Each render's measure: how many refills a pack takes.
            logger.trace(
                "pack render",
                metadata: [
                    "tokens": "\(tokens)", "budget": "\(budget)", "refill": "\(refills)",
                    "deferred": "\(plan.deferred.count)",
                ])
            if tokens <= budget, refills < policy.maximumRefills,
                budget - tokens > policy.refillRoomInSlacks * plan.slack, !plan.deferred.isEmpty
            {
                refills += 1
                if refill(&plan, spare: budget - tokens - plan.slack) { continue }
            }
            if tokens <= budget {
                let explanation = plan.decisions.values.sorted {
                    ($0.outcome.order, -$0.score, $0.handle) < ($1.outcome.order, -$1.score, $1.handle)
                }
                return Pack(text: text, manifest: plan.content.manifest, explanation: explanation)
            }
            try giveBack(&plan, measured: tokens)
        }
    }

    /// Includes what did not fit in the fill, best first, while it fits in `spare`; whether anything was.
    private func refill(_ plan: inout PackPlan, spare: Int) -> Bool {
        var spare = spare
        var added = false
        var stillDeferred: [Candidate] = []
        for candidate in plan.deferred {
            let record = candidate.record
            let opening = opening(record.path, in: &plan)
            let (bare, sectionCost) = wholeCost(of: record, tier: candidate.tier, in: plan)
            let itemCost = sectionCost + opening
            guard itemCost <= spare else {
                stillDeferred.append(candidate)
                continue
            }
            spare -= itemCost
            spare += plan.selection.add(
                record, tier: candidate.tier, text: record.body ?? "", trimmed: false,
                density: candidate.density, tokens: bodyTokens(record), wrapper: bare)
            plan.decisions[record.id] = candidate.decision(.included, candidate.reason)
            if let index = plan.content.pointers.firstIndex(where: { $0.handle == record.handle }) {
                plan.content.pointers.remove(at: index)
            } else {
                plan.content.unlistedPointers = max(0, plan.content.unlistedPointers - 1)
            }
            added = true
        }
        plan.deferred = stillDeferred
        return added
    }

    /// Over (token counts do not add up exactly across joins): drops pointers first when that is
    /// enough, else the least valuable section that is not essential (unless essentials may be trimmed).
    private func giveBack(_ plan: inout PackPlan, measured tokens: Int) throws {
        if !plan.content.pointers.isEmpty, tokens - plan.budget <= policy.pointerDropLimit {
            let dropped = plan.content.pointers.removeLast()
            plan.content.unlistedPointers += 1
            if let id = plan.decisions.first(where: { $0.value.handle == dropped.handle })?.key {
                plan.decisions[id]?.outcome = .leftOut
            }
        } else if let removed = plan.selection.removeLeastValuable(allowEssential: plan.request.trimEssentials) {
            plan.decisions[removed.id]?.outcome = .pointer
            plan.decisions[removed.id]?.reason += "; removed: the rendered pack was over budget"
            plan.content.pointers.append(
                PackPointer(
                    handle: removed.handle, title: Self.title(removed),
                    tier: removed.tier, tokens: removed.tokens))
        } else if !plan.content.pointers.isEmpty {
            plan.content.pointers.removeAll()
        } else {
            throw plan.overBudget(tokens)
        }
    }

    /// Renders with the manifest stating the pack's own token count: the number is part of what
    /// is counted, so render until the count it states is the count it has (two or three passes).
    private func renderMeasured(_ content: inout PackContent, renderer: PackRenderer) -> (String, Int) {
        if content.manifest.tokens == 0 { content.manifest.tokens = content.manifest.budget }  // same magnitude
        var text = renderer.render(content)
        var tokens = counter.count(text)
        for _ in 0..<4 where content.manifest.tokens != tokens {
            content.manifest.tokens = tokens
            text = renderer.render(content)
            tokens = counter.count(text)
        }
        if content.manifest.tokens != tokens {
            // Oscillating between two digit counts: state the larger, which is then an upper bound.
            content.manifest.tokens = max(tokens, content.manifest.tokens)
            text = renderer.render(content)
            tokens = counter.count(text)
        }
        return (text, max(tokens, content.manifest.tokens))
    }
}

/// `--explain` lists what is in first, then what is pointed to, then the rest.
extension PackDecision.Outcome {
    /// The outcome's place in `--explain`.
    var order: Int {
        switch self {
        case .included: 0
        case .trimmed: 1
        case .pointer: 2
        case .leftOut: 3
        case .duplicate: 4
        case .excluded: 5
        }
    }
}
