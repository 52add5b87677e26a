import Foundation

/// Stage 2, candidates: which sections are worth ranking. Takes the inputs (profile, task,
/// essentials); gives the essential sections that are not pinned, the sections BM25 ranks for the
/// task or the role, those the profile's `include` globs match, every section of the documents that
/// answer the task best and of the files the essentials link to (never a pinned section, the role
/// brief or, when the pack supplements Claude Code, what it loads itself), with the scores ranking needs.
extension PackBuilder {
    /// The sections worth ranking, and what ranking needs to know of them.
    struct CandidatePool {
        var records: [SectionRecord]
        /// BM25 for the task and for the role, by section id, each divided by its best match.
        var taskScores: [Int64: Double]
        var roleScores: [Int64: Double]
        /// Each document's best task match (sections lift each other by it).
        var documentTaskScores: [String: Double]
        /// Documents the essentials (and the agent's definition) import or link to.
        var linked: Set<String>
        /// The latest reports of the pack's reporting agents that bear on its task (``PackInputs/reportingAgents``).
        var relatedReports: Set<String> = []
    }

    func candidatePool(for inputs: PackInputs) throws -> CandidatePool {
        let profile = inputs.profile
        let loaded = Set(inputs.loadedByClaudeCode.files)
        let excluding = Set(inputs.pinned.map(\.record.id)).union(inputs.role.map(\.id))
        let pinnedPaths = Set(inputs.pinned.map(\.record.path)).union(profile.map { [$0.path] } ?? [])
        let limit = min(policy.rankLimit, max(policy.rankFloor, inputs.budget / policy.budgetTokensPerRanked))
        let taskScores = try normalizedRanks(inputs.task.flatMap { SearchQuery.relevance(from: $0) }, limit: limit)
        let roleText = profile.map {
            ([$0.name.replacingOccurrences(of: "-", with: " "), $0.description] + $0.keywords).joined(separator: " ")
        }
        let roleQuery = roleText.flatMap { SearchQuery.relevance(from: $0) }
        let roleScores: [Int64: Double]
        if let cache, let generation = inputs.generation, let roleText {
            roleScores = try cache.roleRanks(generation: generation, query: "\(limit)\u{1}\(roleText)") {
                try normalizedRanks(roleQuery, limit: limit)
            }
        } else {
            roleScores = try normalizedRanks(roleQuery, limit: limit)
        }
        // What the essentials (and what Claude Code loads) link to, the project points to.
        let linkingPaths = pinnedPaths.union(inputs.shareable.map(\.record.path)).union(loaded)
        let edges = try store.referenceEdges(kinds: [.import, .link, .referenceLink], fromPaths: linkingPaths.sorted())
        let linked = Set(edges.map(\.to))

        var ids = Set(taskScores.keys).union(roleScores.keys)
        if let include = profile?.include, !include.isEmpty {
            let preferred = try store.sections(matchingAny: include, withBody: false, limit: policy.includeLimit)
            ids.formUnion(preferred.map(\.id))
        }
        // The rest of the essential tier competes: for the share first, then with the detail.
        let shareable = inputs.shareable.map(\.record)
        ids.subtract(shareable.map(\.id))
        var records =
            try shareable
            + store.sections(ids: ids.subtracting(excluding).sorted())
            .filter { !loaded.contains($0.path) }
        // The documents that answer the task best come whole: their other sections are candidates
        // too (the neighbours of an answer are usually part of it, even when their own words are
        // too common to rank), as are the sections of files the essentials link to.
        var documentTaskScores: [String: Double] = [:]
        for record in records {
            if let score = taskScores[record.id] {
                documentTaskScores[record.path] = max(documentTaskScores[record.path] ?? 0, score)
            }
        }
        let answering = documentTaskScores.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .prefix(policy.answeringDocuments).map(\.key)
        // The latest report of each agent the pack hears from, when it bears on the task: the index
        // ranks it, or its recorded task shares most of this one's words.
        var relatedReports: Set<String> = []
        if let task = inputs.task {
            for (agent, path) in inputs.handoffs.latest
            where inputs.reportingAgents?.contains(agent) ?? true && !loaded.contains(path) {
                if (documentTaskScores[path] ?? 0) > 0
                    || HandoffLedger.overlap(of: inputs.handoffs.byPath[path]?.task, with: task)
                        >= policy.relatedReportOverlap
                {
                    relatedReports.insert(path)
                }
            }
        }
        let known = Set(records.map(\.id))
        records += try store.sections(
            inPaths: linked.union(answering).union(relatedReports).subtracting(pinnedPaths).subtracting(loaded).sorted()
        )
        .filter { !excluding.contains($0.id) && !known.contains($0.id) }
        return CandidatePool(
            records: records, taskScores: taskScores, roleScores: roleScores,
            documentTaskScores: documentTaskScores, linked: linked, relatedReports: relatedReports)
    }

    /// BM25 scores divided by the best one, so task and role weigh alike whatever their length.
    private func normalizedRanks(_ query: SearchQuery?, limit: Int) throws -> [Int64: Double] {
        guard let query else { return [:] }
        let ranked = try store.rank(query, limit: limit)
        guard let best = ranked.first?.score, best > 0 else { return [:] }
        var result: [Int64: Double] = [:]
        for (id, score) in ranked { result[id] = max(0, score / best) }
        return result
    }
}
