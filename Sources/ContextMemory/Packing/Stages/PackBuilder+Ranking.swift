import Foundation

/// Stage 3, ranking: how much each candidate is worth to this agent and task, and whether it may be
/// content or at most a pointer. Takes the candidate pool and the inputs; gives the candidates
/// with a score, its reasons, the tier they are packed at and their value per token.
extension PackBuilder {
    /// A section considered for the pack.
    struct Candidate {
        let record: SectionRecord
        let tier: Tier
        let score: Double
        let reason: String
        /// False makes it at most a pointer: too weak a match, or a tier not called for.
        let contentAllowed: Bool
        /// Its file's last commit time (0 without git): breaks ties, newest first; never adds to
        /// the score, so it orders but never admits (a clone or CI gives the same packs).
        let recency: Int64
        /// Value per token, with the score squared: a must-have usually has the highest score, and
        /// plain score per token let many small, loosely related sections crowd it out (docs/packing.md,
        /// "Tuning", has the recall of both).
        let density: Double

        init(
            record: SectionRecord, tier: Tier, score: Double, reason: String, contentAllowed: Bool,
            policy: PackingPolicy
        ) {
            self.record = record
            self.tier = tier
            self.score = score
            self.reason = reason
            self.contentAllowed = contentAllowed
            recency = record.committed ?? 0
            density = score * score / max(Double(record.tokens), policy.minimumRankingTokens)
        }

        func decision(_ outcome: PackDecision.Outcome, _ why: String) -> PackDecision {
            PackDecision(
                handle: record.handle, tier: tier, tokens: record.tokens,
                score: (score * 1000).rounded() / 1000, outcome: outcome, reason: why)
        }
    }

    /// Scores every candidate of `pool` but those of the profile's `exclude` globs, in pool order.
    func rank(_ pool: CandidatePool, for inputs: PackInputs) -> [Candidate] {
        let profile = inputs.profile
        let includeGlobs = (profile?.include ?? []).map(Glob.init)
        let excludeGlobs = (profile?.exclude ?? []).map(Glob.init)
        let records = pool.records
        let allowed = Set(profile?.tiers ?? AgentProfile.defaultTiers)
        let roleWeight = inputs.task == nil ? policy.roleWeightWithoutTask : policy.roleWeight
        var candidates: [Candidate] = []
        // Globs are matched once per file, not once per section.
        var excludedPaths: [String: Bool] = [:]
        var preferredPaths: [String: Bool] = [:]
        for record in records {
            if excludedPaths[record.path]
                ?? {
                    let excluded = excludeGlobs.contains { $0.matches(record.path) }
                    excludedPaths[record.path] = excluded
                    return excluded
                }()
            {
                continue
            }
            let taskScore = pool.taskScores[record.id] ?? 0
            let roleScore = pool.roleScores[record.id] ?? 0
            var score = policy.taskWeight * taskScore + roleWeight * roleScore
            var reasons: [String] = []
            if taskScore > 0 { reasons.append("task " + Self.twoDecimals(taskScore)) }
            if roleScore > 0 { reasons.append("role " + Self.twoDecimals(roleScore)) }
            // A section of a document that answers the task is worth more than its own words say.
            let documentScore = pool.documentTaskScores[record.path]
            if let documentScore, documentScore > taskScore {
                score += policy.documentWeight * (documentScore - taskScore)
                reasons.append("its document: task " + Self.twoDecimals(documentScore))
            }
            let preferred =
                preferredPaths[record.path]
                ?? {
                    let preferred = includeGlobs.contains { $0.matches(record.path) }
                    preferredPaths[record.path] = preferred
                    return preferred
                }()
            if preferred {
                score += policy.includeBoost
                reasons.append("profile include")
            }
            let linked = pool.linked.contains(record.path)
            if linked {
                score += policy.linkBoost
                reasons.append("linked from an essential file")
            }
            // Reports: the latest of an agent this pack hears from, on a related task, comes in;
            // one that newer reports of its agent supersede ranks lower for each.
            let report = inputs.handoffs.byPath[record.path]
            let relatedReport = pool.relatedReports.contains(record.path)
            if let report {
                if relatedReport {
                    score += policy.relatedReportBoost
                    reasons.append("latest report of \(report.agentType) on a related task")
                }
                let newer = inputs.handoffs.newer[record.path] ?? 0
                if newer > 0 {
                    score *= pow(policy.supersededReportFactor, Double(newer))
                    reasons.append("\(newer) newer report\(newer == 1 ? "" : "s") of \(report.agentType)")
                }
            }
            // Another agent's definition, a file addressed to other agents, or essential memory beyond
            // the share is detail here.
            let tier: Tier = record.tier == .essential ? .detailed : record.tier
            // A tier the profile does not list comes in for a section the task matches strongly, for
            // the profile's include paths (not operational), and for the documents the essentials
            // link to when the task touches the document: the project points there for this.
            let linkedAnswer = linked && (documentScore ?? 0) >= policy.linkedDocumentTaskMatch
            let tierCalledFor =
                allowed.contains(tier) || taskScore >= policy.strongTaskMatch
                || (preferred && tier != .operational) || linkedAnswer || relatedReport
            candidates.append(
                Candidate(
                    record: record, tier: tier, score: score,
                    reason: reasons.isEmpty ? "weak match" : reasons.joined(separator: ", "),
                    contentAllowed: score >= policy.contentThreshold && tierCalledFor,
                    policy: policy))
        }
        return candidates
    }

    /// `0.35` for 0.3472: what `String(format: "%.2f")` gives for scores, at a fraction of its cost
    /// (it was a fifth of ranking).
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((max(0, value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
