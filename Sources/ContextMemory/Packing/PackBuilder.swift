import Foundation
public import Logging
import Synchronization

/// Assembles a pack (ARCHITECTURE.md, "Packing"): essentials first; then detailed sections by
/// relevance to the task and role, best value per token first while they fit; operational ones
/// only when the task calls for them; a section that does not fit is trimmed at a block boundary
/// or pointed to; identical content once; the whole rendered pack within the budget, measured by
/// the counter in force; the same inputs and index state give the same bytes.
public struct PackBuilder: Sendable {
    public let store: any MemoryReader
    public let counter: PackTokenCounter
    /// How many `@import` hops are followed from launch-loaded files (Claude Code's limit).
    public let importDepth: Int
    /// The budget of a pack whose request and profile name none.
    public let defaultBudget: Int

    /// Whether the index counted its sections with this pack's base counter (then a section's
    /// stored count is its count, and its body need not be counted again).
    private let storedCountsMatch: Bool
    /// What packs of one index generation share, kept between builds (a server's requests).
    private let cache: PackingCache?
    /// Each plan and render at trace level.
    private let logger: Logger

    /// - Parameter cache: keeps what every pack of an index generation reads alike (agents,
    ///   essential sections, import edges) between builds; nil reads it for each build.
    public init(store: any MemoryReader, counter: PackTokenCounter, importDepth: Int = Configuration.defaultImportDepth,
                defaultBudget: Int = PackRequest.defaultBudget, cache: PackingCache? = nil,
                logger: Logger = Logger(label: "ctxmem.pack")) {
        self.logger = logger
        self.store = store
        self.counter = counter
        self.importDepth = importDepth
        self.defaultBudget = defaultBudget
        self.cache = cache
        let fingerprint = (try? store.metadata("fingerprint")) ?? nil
        storedCountsMatch = fingerprint?.hasSuffix("/" + counter.base.identifier) ?? false
    }

    /// The generation's shared reads: from the cache when it holds this generation's.
    private func shared(withBodies: Bool) throws -> PackingState {
        guard let cache else { return try PackingState(store: store, withBodies: withBodies) }
        // The index file's id as well as its generation: a rebuilt index starts its generations again.
        let key = "\(try store.metadata("index_id") ?? "")@\(try store.metadata("generation") ?? "")"
        return try cache.state(for: key) { try PackingState(store: store, withBodies: true) }
    }

    /// What a whole section adds to the pack: its source line and wrappers, counted, and its body
    /// from the stored count when the index counted with this counter (a token more for the join);
    /// otherwise the whole fragment counted. The finished render is measured exactly.
    private func sectionCost(_ record: SectionRecord, tier: Tier, renderer: PackRenderer, bare: Int? = nil) -> Int {
        guard storedCountsMatch else {
            return cost(of: PackedSection(record, tier: tier, text: record.body ?? "", trimmed: false), renderer: renderer)
        }
        let wrapper = bare ?? wrapperCost(record, tier: tier, trimmed: false, renderer: renderer)
        return wrapper + bodyTokens(record) + 1
    }

    /// The pack counter's tokens for a section's whole body.
    private func bodyTokens(_ record: SectionRecord) -> Int {
        storedCountsMatch ? counter.scaled(record.tokens) : counter.count(record.body ?? "")
    }

    // Relevance weights: the task counts most; the role (description and keywords) half as much;
    // the profile's include paths, a link from what is already in, and recency add boosts.
    static let taskWeight = 1.0
    static let roleWeight = 0.5
    static let includeBoost = 0.3
    static let linkBoost = 0.15
    static let recencyBoost = 0.05
    /// How much of the gap to the best task match in its document a section gets. Bench/relevance-cases.json,
    /// recall at 20k / 50k / 200k with nothing else of this kind: 45.5 / 78.8 / 91.7% at 0, 51.3 / 81.4 / 92.9%
    /// at 0.6; with the two rules below, 0.3 gives 53.2 / 80.1 / 92.3%, 1.0 gives 50.6 / 81.4 / 94.9%.
    static let documentWeight = 0.6
    /// Below this a candidate is at most a pointer.
    static let contentThreshold = 0.12
    /// A task match this strong (of the best) lets a tier the profile does not list in.
    static let strongTaskMatch = 0.35
    /// A document the essentials link to lets a tier the profile does not list in when the task
    /// matches one of its sections this well (recall at 20k / 50k / 200k in Bench/relevance-cases.json:
    /// 56.4 / 84.0 / 94.2% without the rule; 56.4 / 86.5 / 97.4% at 0 to 0.25; 56.4 / 85.9 / 96.8% at 0.3,
    /// 96.2% at 0.35; 56.4 / 84.6 / 94.9% at 0.5; 55.8 / 84.0 / 94.2% at 0.6).
    static let linkedDocumentTaskMatch = 0.25
    /// Sections shorter than this count as this long when ranking by value per token, so that a
    /// heading with one line does not outrank the section that answers the task.
    static let minimumRankingTokens = 120.0
    /// A trimmed section keeps at least this much, or it is only pointed to.
    static let minimumTrimTokens = 100
    /// How many of the most relevant sections are placed before the fill by value per token
    /// (recall at 20k / 50k / 200k: 50.0 / 82.1 / 94.9% with none, 53.8 / 82.1 / 94.9% with 5,
    /// 54.5 / 82.7 / 94.9% with 10, 54.5 / 84.0 / 94.2% with 20, 53.2 / 83.3 / 94.2% with 30).
    static let mostRelevantFirst = 20
    static let rankLimit = 2_000
    /// How many of the documents that match the task best come in whole as candidates (recall at
    /// 20k / 50k / 200k: 54.5 / 83.3 / 92.9% with none, 54.5 / 84.0 / 94.2% with 10 or 20).
    static let answeringDocuments = 10
    static let includeLimit = 5_000
    /// Sections smaller than this are never dropped as duplicates (`## Notes` alone is not content).
    static let duplicateMinimumTokens = 16

    // MARK: - Profiles

    /// Every agent defined in the index (problems in their definitions are the index's findings).
    public func profiles() throws -> [AgentProfile] {
        try shared(withBodies: false).profiles
    }

    public func profile(named name: String, in profiles: [AgentProfile]) throws -> AgentProfile {
        if let exact = profiles.first(where: { $0.name == name }) { return exact }
        if let folded = profiles.first(where: { $0.name.lowercased() == name.lowercased() }) { return folded }
        throw PackError.unknownAgent(name: name, known: profiles.map(\.name).sorted())
    }

    // MARK: - Essentials

    /// The essential sections for `profile` (or for a generic pack), each with why, in no order,
    /// and the agent's own definition (the role brief) apart.
    /// - Parameter withBodies: false when only the sections' tokens are wanted (`ctxmem agents`, the audit).
    public func essentials(for profile: AgentProfile?, withBodies: Bool = true) throws -> (sections: [(SectionRecord, String)], role: [SectionRecord]) {
        try store.snapshot { try essentials(for: profile, shared: shared(withBodies: withBodies), withBodies: withBodies) }
    }

    private func essentials(for profile: AgentProfile?, shared: PackingState,
                            withBodies: Bool) throws -> (sections: [(SectionRecord, String)], role: [SectionRecord]) {
        let audience = shared.audiences
        func applies(_ record: SectionRecord) -> Bool {
            if record.kind == .agent { return false }   // other agents' definitions are not this one's
            if let names = audience[record.path] { return profile.map { names.contains($0.name) } ?? false }
            return true
        }
        var chosen: [Int64: (SectionRecord, String)] = [:]
        for record in shared.essentialSections where applies(record) {
            chosen[record.id] = (record, record.tierReason)
        }
        let role = profile.map { own in try? store.sections(inPaths: [own.path], withBody: withBodies) }.flatMap { $0 } ?? []
        if let profile {
            let named = audience.filter { $0.value.contains(profile.name) }.map(\.key).sorted()
            for record in try store.sections(inPaths: named, withBody: withBodies) where chosen[record.id] == nil {
                chosen[record.id] = (record, "frontmatter names \(profile.name)")
            }
        }
        // What the launch-loaded files and the definition import, Claude Code loads with them.
        let seeds = Set(chosen.values.map(\.0.path)).union(profile.map { [$0.path] } ?? [])
        let imported = importClosure(of: seeds, edges: shared.importEdges)
        let importedPaths = imported.keys.sorted()
        for record in try store.sections(inPaths: importedPaths, withBody: withBodies) where chosen[record.id] == nil {
            guard record.tier == .detailed, TierAssigner.isFileDefault(record.tierReason), record.kind != .agent else { continue }
            if let names = audience[record.path], !(profile.map { names.contains($0.name) } ?? false) { continue }
            chosen[record.id] = (record, "imported by \(imported[record.path] ?? "a launch file")")
        }
        return (Array(chosen.values), role)
    }

    /// Paths imported from `seeds` within the import depth, with the seed that pulled each in.
    private func importClosure(of seeds: Set<String>, edges: [String: [String]]) -> [String: String] {
        guard !seeds.isEmpty else { return [:] }
        var reached: [String: String] = [:]
        var frontier = seeds.sorted().map { ($0, $0) }
        for _ in 0..<importDepth where !frontier.isEmpty {
            var next: [(String, String)] = []
            for (path, origin) in frontier {
                for target in edges[path] ?? [] where !seeds.contains(target) && reached[target] == nil {
                    reached[target] = origin
                    next.append((target, origin))
                }
            }
            frontier = next
        }
        return reached
    }

    // MARK: - Building

    public func build(_ request: PackRequest) throws -> Pack {
        try request.validate()
        let task = Self.trimmedTask(request.task)
        // Everything the pack reads from the index, read in one transaction: one committed state,
        // even while the index is refreshed.
        let (profile, budget, essentialPairs, roleRecords, candidates) = try store.snapshot {
            let shared = try shared(withBodies: true)
            let profile = try request.agent.map { try self.profile(named: $0, in: shared.profiles) }
            let budget = request.budget ?? profile?.budget ?? defaultBudget
            guard PackRequest.budgetRange.contains(budget) else { throw PackError.invalidBudget(budget) }
            let (essentialPairs, roleRecords) = try essentials(for: profile, shared: shared, withBodies: true)
            // The role brief carries the agent's whole definition: none of its sections is a candidate again.
            let candidates = try rankCandidates(profile: profile, task: task,
                                                excluding: Set(essentialPairs.map(\.0.id)).union(roleRecords.map(\.id)),
                                                essentialPaths: Set(essentialPairs.map(\.0.path)).union(profile.map { [$0.path] } ?? []))
            return (profile, budget, essentialPairs, roleRecords, candidates)
        }
        let renderer = PackRenderer(format: request.format)

        // 1. Essentials and the role brief.
        let role = profile.map { profile in
            RoleBrief(name: profile.name, description: profile.description, path: profile.path,
                      text: Self.roleText(roleRecords))
        }
        var selection = Selection()
        var decisions: [Int64: PackDecision] = [:]
        // Documents by hierarchy (importer before imported, root before nested), then path;
        // sections in document order. Keys are made once per section, not in every comparison.
        let essentialsSorted = essentialPairs.map { (key: OrderKey($0.0, tier: .essential), pair: $0) }
            .sorted { ($0.key, $0.pair.0.ordinal) < ($1.key, $1.pair.0.ordinal) }.map(\.pair)
        /// The error naming the eight largest essential sections and why each is essential.
        func overBudget(_ tokens: Int) -> PackError {
            let largest = essentialsSorted.sorted { ($0.0.tokens, $1.0.path) > ($1.0.tokens, $0.0.path) }.prefix(8)
            return .essentialsExceedBudget(budget: budget, essentialTokens: tokens,
                                           largest: largest.map { ($0.0.handle, $0.0.tokens, "essential: \($0.1)") })
        }
        for (record, reason) in essentialsSorted {
            selection.add(record, tier: .essential, text: record.body ?? "", trimmed: false, density: .infinity,
                          tokens: bodyTokens(record))
            decisions[record.id] = PackDecision(handle: record.handle, tier: .essential, tokens: record.tokens, score: 1,
                                                outcome: .included, reason: "essential: \(reason)")
        }

        // 2-3. Candidates by relevance: ranked above, with the reads.

        // Fixed cost: wrappers, manifest, role and task; then with the essentials as they render
        // (a document's consecutive sections share one source line, so costing them one by one
        // overstates them by thousands of tokens and leaves room that refills must take back).
        var content = PackContent(manifest: Self.emptyManifest(request: request, agent: profile?.name, task: task,
                                                               budget: budget, counter: counter),
                                  documents: [], pointers: [], unlistedPointers: 0, role: role, task: task)
        let fixed = counter.count(renderer.render(content))
        let slack = 16 + budget / 200
        var committed = fixed
        if !selection.items.isEmpty {
            content.documents = selection.documents()
            committed = counter.count(renderer.render(content))
        }
        /// What opening a document adds: its heading (path) and wrappers, counted once per path.
        var openings: [String: Int] = [:]
        func opening(_ path: String) -> Int {
            if selection.hasDocument(path) { return 0 }
            if let known = openings[path] { return known }
            let cost = counter.count(renderer.documentFragment(path: path))
            openings[path] = cost
            return cost
        }
        if committed + slack > budget {
            if !request.trimEssentials {
                throw overBudget(committed)
            }
            selection = Selection()
            committed = fixed
        }

        // 4. Fill: essentials (when they had to be trimmed, as ordinary candidates), then the rest
        // by value per token; trim what is relevant but too large; point to the rest.
        let pointerReserve = min(budget / 20, 3_000)
        var remaining = budget - committed - slack - pointerReserve
        var queue = candidates
        if selection.items.isEmpty {
            queue = essentialsSorted.map { Candidate(record: $0.0, tier: .essential, score: 1, reason: "essential (trimmed to fit: --trim-essentials)", contentAllowed: true) } + queue
        }
        queue.sort { ($0.density, $1.record.id) > ($1.density, $0.record.id) }
        // The most relevant sections go first, best first, whatever their size (whole, or trimmed
        // when strong); value per token alone let many small, loosely related sections crowd them out.
        let mostRelevant = queue.filter(\.contentAllowed).sorted { ($0.score, $1.record.id) > ($1.score, $0.record.id) }
            .prefix(Self.mostRelevantFirst)
        let first = Set(mostRelevant.map(\.record.id))
        queue = Array(mostRelevant) + queue.filter { !first.contains($0.record.id) }
        var pointerCandidates: [Candidate] = []
        var deferred: [Candidate] = []   // wanted as content, did not fit: retried when the render leaves room
        var trims = 0
        for candidate in queue {
            let record = candidate.record
            if !candidate.contentAllowed {
                pointerCandidates.append(candidate)
                decisions[record.id] = candidate.decision(.pointer, candidate.score > 0 ? "tier \(candidate.tier.rawValue) not called for by the task" : "not relevant")
                continue
            }
            if record.tokens >= Self.duplicateMinimumTokens, let original = selection.hashes[record.contentHash] {
                decisions[record.id] = candidate.decision(.duplicate, "same content as \(original)")
                continue
            }
            let text = record.body ?? ""
            let opening = opening(record.path)
            let joinsRun = storedCountsMatch && selection.extendsRun(record, tier: candidate.tier)
            let bare = joinsRun ? 2 : wrapperCost(record, tier: candidate.tier, trimmed: false, renderer: renderer)
            let sectionCost = joinsRun ? bare + bodyTokens(record) : sectionCost(record, tier: candidate.tier, renderer: renderer, bare: bare)
            let itemCost = sectionCost + opening
            if itemCost <= remaining {
                // The text's own tokens (for the manifest): the section less its source line.
                let refund = selection.add(record, tier: candidate.tier, text: text, trimmed: false, density: candidate.density,
                                           tokens: max(0, sectionCost - bare), wrapper: bare)
                remaining -= itemCost - refund
                decisions[record.id] = candidate.decision(.included, candidate.reason)
                continue
            }
            // Relevant but too large: keep its first blocks when a useful part fits.
            // The wrapper (source line and trim marker) is costed on its own; joins may add a token or two.
            let wrapper = wrapperCost(record, tier: candidate.tier, trimmed: true, renderer: renderer) + 4
            if trims < 8, candidate.score >= Self.strongTaskMatch || candidate.tier == .essential,
               remaining - opening - wrapper >= Self.minimumTrimTokens,
               let part = Trimmer.prefix(of: text, fitting: remaining - opening - wrapper, counter: counter),
               counter.count(part) >= Self.minimumTrimTokens,
               case let trimmedCost = cost(of: PackedSection(record, tier: candidate.tier, text: part, trimmed: true), renderer: renderer) + opening,
               trimmedCost <= remaining {
                selection.add(record, tier: candidate.tier, text: part, trimmed: true, density: candidate.density,
                              tokens: counter.count(part))
                remaining -= trimmedCost
                trims += 1
                decisions[record.id] = candidate.decision(.trimmed, "\(candidate.reason); trimmed to fit")
                continue
            }
            pointerCandidates.append(candidate)
            deferred.append(candidate)
            decisions[record.id] = candidate.decision(.pointer, "did not fit (\(record.tokens) tokens)")
        }

        // Pointers: the most relevant of what is not in, while they fit.
        var pointerBudget = remaining + pointerReserve
        var pointers: [PackPointer] = []
        var pointerCosts: [String: Int] = [:]   // by handle, for the manifest's pointer tokens
        let rankedPointers = pointerCandidates.filter { $0.score > 0 }.sorted { ($0.score, $1.record.id) > ($1.score, $0.record.id) }
        for candidate in rankedPointers {
            let pointer = PackPointer(handle: candidate.record.handle, title: Self.title(candidate.record),
                                      tier: candidate.tier, tokens: candidate.record.tokens)
            let pointerCost = counter.count(renderer.pointerFragment(pointer))
            guard pointerCost <= pointerBudget else { break }
            pointers.append(pointer)
            pointerCosts[pointer.handle] = pointerCost
            pointerBudget -= pointerCost
        }
        let listed = Set(pointers.map(\.handle))
        for candidate in rankedPointers where !listed.contains(candidate.record.handle) {
            decisions[candidate.record.id] = candidate.decision(.leftOut, decisions[candidate.record.id]?.reason ?? "no room for a pointer")
        }

        logger.trace("pack plan", metadata: ["committed": "\(committed)", "slack": "\(slack)", "unspent": "\(pointerBudget)"])
        // 5-8. Render, measure, and give back whatever the measure says is over.
        content.pointers = pointers
        content.unlistedPointers = rankedPointers.count - pointers.count
        var refills = 0
        let roleTokens = role.map { counter.count($0.text) } ?? 0
        while true {
            content.documents = selection.documents()
            content.manifest = manifest(for: content, roleTokens: roleTokens, pointerCosts: &pointerCosts,
                                        request: request, budget: budget,
                                        leftOut: decisions.values.filter { $0.outcome == .leftOut }.map(\.tier),
                                        duplicates: decisions.values.filter { $0.outcome == .duplicate }.count)
            let (text, tokens) = renderMeasured(&content, renderer: renderer)
            // Each render's measure: how many refills a pack takes.
            logger.trace("pack render", metadata: ["tokens": "\(tokens)", "budget": "\(budget)", "refill": "\(refills)",
                                                   "deferred": "\(deferred.count)"])
            // Costs were counted per section with its own source line; runs of a document share
            // one, so the render usually leaves room: fill it with what did not fit, best first.
            if tokens <= budget, refills < 3, budget - tokens > 2 * slack, !deferred.isEmpty {
                refills += 1
                var spare = budget - tokens - slack
                var added = false
                deferred = deferred.filter { candidate in
                    let record = candidate.record
                    let opening = opening(record.path)
                    let joinsRun = storedCountsMatch && selection.extendsRun(record, tier: candidate.tier)
                    let bare = joinsRun ? 2 : wrapperCost(record, tier: candidate.tier, trimmed: false, renderer: renderer)
                    let itemCost = joinsRun ? bodyTokens(record) + bare : sectionCost(record, tier: candidate.tier, renderer: renderer, bare: bare) + opening
                    guard itemCost <= spare else { return true }
                    spare -= itemCost
                    spare += selection.add(record, tier: candidate.tier, text: record.body ?? "", trimmed: false,
                                           density: candidate.density, tokens: bodyTokens(record), wrapper: bare)
                    decisions[record.id] = candidate.decision(.included, candidate.reason)
                    if let index = content.pointers.firstIndex(where: { $0.handle == record.handle }) {
                        content.pointers.remove(at: index)
                    } else {
                        content.unlistedPointers = max(0, content.unlistedPointers - 1)
                    }
                    added = true
                    return false
                }
                if added { continue }
            }
            if tokens <= budget {
                let explanation = decisions.values.sorted { ($0.outcome.order, -$0.score, $0.handle) < ($1.outcome.order, -$1.score, $1.handle) }
                return Pack(text: text, manifest: content.manifest, explanation: explanation)
            }
            // Over (token counts do not add up exactly across joins): drop pointers first when
            // that is enough, else the least valuable section that is not essential.
            let over = tokens - budget
            if !content.pointers.isEmpty, over <= 64 {
                let dropped = content.pointers.removeLast()
                content.unlistedPointers += 1
                if let id = decisions.first(where: { $0.value.handle == dropped.handle })?.key {
                    decisions[id]?.outcome = .leftOut
                }
            } else if let removed = selection.removeLeastValuable(allowEssential: request.trimEssentials) {
                decisions[removed.id]?.outcome = .pointer
                decisions[removed.id]?.reason += "; removed: the rendered pack was over budget"
                content.pointers.append(PackPointer(handle: removed.handle, title: Self.title(removed), tier: removed.tier, tokens: removed.tokens))
            } else if !content.pointers.isEmpty {
                content.pointers.removeAll()
            } else {
                throw overBudget(tokens)
            }
        }
    }

    // MARK: - Ranking

    struct Candidate {
        var record: SectionRecord
        var tier: Tier
        var score: Double
        var reason: String
        var contentAllowed: Bool

        /// Value per token, with the score squared: a must-have usually has the highest score, and
        /// plain score per token let many small, loosely related sections crowd it out (the
        /// labelled cases of Bench/relevance-cases.json: recall at 50k 70% with score, 78% squared).
        var density: Double { score * score / max(Double(record.tokens), PackBuilder.minimumRankingTokens) }

        func decision(_ outcome: PackDecision.Outcome, _ why: String) -> PackDecision {
            PackDecision(handle: record.handle, tier: tier, tokens: record.tokens, score: (score * 1000).rounded() / 1000,
                         outcome: outcome, reason: why)
        }
    }

    private func rankCandidates(profile: AgentProfile?, task: String?, excluding: Set<Int64>,
                                essentialPaths: Set<String>) throws -> [Candidate] {
        let taskScores = try normalizedRanks(task.flatMap { SearchQuery.relevance(from: $0) })
        let roleText = profile.map { ([$0.name.replacingOccurrences(of: "-", with: " "), $0.description] + $0.keywords).joined(separator: " ") }
        let roleScores = try normalizedRanks(roleText.flatMap { SearchQuery.relevance(from: $0) })
        let includeGlobs = (profile?.include ?? []).map(Glob.init)
        let excludeGlobs = (profile?.exclude ?? []).map(Glob.init)
        let linked = Set(try store.referenceEdges(kinds: [.import, .link, .referenceLink], fromPaths: essentialPaths.sorted()).map(\.to))

        var ids = Set(taskScores.keys).union(roleScores.keys)
        if let include = profile?.include, !include.isEmpty {
            ids.formUnion(try store.sections(matchingAny: include, withBody: false, limit: Self.includeLimit).map(\.id))
        }
        var records = try store.sections(ids: ids.subtracting(excluding).sorted())
        // The documents that answer the task best come whole: their other sections are candidates
        // too (the neighbours of an answer are usually part of it, even when their own words are
        // too common to rank), as are the sections of files the essentials link to.
        // Each document's best task match (sections lift each other by it, below).
        var documentTaskScores: [String: Double] = [:]
        for record in records {
            if let score = taskScores[record.id] { documentTaskScores[record.path] = max(documentTaskScores[record.path] ?? 0, score) }
        }
        let answering = documentTaskScores.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(Self.answeringDocuments).map(\.key)
        let known = Set(records.map(\.id))
        records += try store.sections(inPaths: linked.union(answering).subtracting(essentialPaths).sorted())
            .filter { !excluding.contains($0.id) && !known.contains($0.id) }

        let newest = records.map(\.modified).max() ?? 0
        let oldest = records.map(\.modified).min() ?? 0
        let allowed = Set(profile?.tiers ?? AgentProfile.defaultTiers)
        var candidates: [Candidate] = []
        // Globs are matched once per file, not once per section.
        var excludedPaths: [String: Bool] = [:], preferredPaths: [String: Bool] = [:]
        for record in records {
            if excludedPaths[record.path] ?? {
                let excluded = excludeGlobs.contains { $0.matches(record.path) }
                excludedPaths[record.path] = excluded
                return excluded
            }() { continue }
            let taskScore = taskScores[record.id] ?? 0
            let roleScore = roleScores[record.id] ?? 0
            var score = Self.taskWeight * taskScore + (task == nil ? 1.0 : Self.roleWeight) * roleScore
            var reasons: [String] = []
            if taskScore > 0 { reasons.append("task " + Self.twoDecimals(taskScore)) }
            if roleScore > 0 { reasons.append("role " + Self.twoDecimals(roleScore)) }
            // A section of a document that answers the task is worth more than its own words say.
            if let documentScore = documentTaskScores[record.path], documentScore > taskScore {
                score += Self.documentWeight * (documentScore - taskScore)
                reasons.append("its document: task " + Self.twoDecimals(documentScore))
            }
            let preferred = preferredPaths[record.path] ?? {
                let preferred = includeGlobs.contains { $0.matches(record.path) }
                preferredPaths[record.path] = preferred
                return preferred
            }()
            if preferred { score += Self.includeBoost; reasons.append("profile include") }
            if linked.contains(record.path) { score += Self.linkBoost; reasons.append("linked from an essential file") }
            if newest > oldest, score > 0 {
                // In Double: times centuries apart (a file dated 1901 beside one of 2200) overflow Int64.
                score += Self.recencyBoost * (Double(record.modified) - Double(oldest)) / (Double(newest) - Double(oldest))
            }
            // Another agent's definition, or a file addressed to other agents, is detail here.
            let tier: Tier = record.tier == .essential ? .detailed : record.tier
            // A tier the profile does not list comes in for a section the task matches strongly, for
            // the profile's include paths (not operational), and for the documents the essentials
            // link to when the task touches the document: the project points there for this.
            let linkedAnswer = linked.contains(record.path) && (documentTaskScores[record.path] ?? 0) >= Self.linkedDocumentTaskMatch
            let contentAllowed = score >= Self.contentThreshold
                && (allowed.contains(tier) || taskScore >= Self.strongTaskMatch || (preferred && tier != .operational) || linkedAnswer)
            candidates.append(Candidate(record: record, tier: tier, score: score,
                                        reason: reasons.isEmpty ? "weak match" : reasons.joined(separator: ", "),
                                        contentAllowed: contentAllowed))
        }
        return candidates
    }

    /// BM25 scores divided by the best one, so task and role weigh alike whatever their length.
    private func normalizedRanks(_ query: SearchQuery?) throws -> [Int64: Double] {
        guard let query else { return [:] }
        let ranked = try store.rank(query, limit: Self.rankLimit)
        guard let best = ranked.first?.score, best > 0 else { return [:] }
        var result: [Int64: Double] = [:]
        for (id, score) in ranked { result[id] = max(0, score / best) }
        return result
    }

    // MARK: - Rendering and measuring

    private func cost(of section: PackedSection, renderer: PackRenderer) -> Int {
        counter.count(renderer.sectionFragment(section))
    }

    /// What a section's source line and wrappers add to its text's own tokens. Costed around a
    /// one-token stand-in, not around nothing: the whitespace before and after a text are pieces
    /// of their own, which an empty text would merge into one.
    private func wrapperCost(_ record: SectionRecord, tier: Tier, trimmed: Bool, renderer: PackRenderer) -> Int {
        cost(of: PackedSection(record, tier: tier, text: "x", trimmed: trimmed), renderer: renderer) - counter.count("x")
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

    private static func emptyManifest(request: PackRequest, agent: String?, task: String?, budget: Int,
                                      counter: PackTokenCounter) -> PackManifest {
        PackManifest(packId: String(repeating: "0", count: 16), agent: agent, task: task, format: request.format,
                     budget: budget, tokens: 0, counter: counter.identifier, modelFactor: counter.modelFactor,
                     safetyMargin: counter.safetyMargin, tokensByTier: [:], pointerTokens: 0, documents: 0,
                     sections: 0, trimmed: [], leftOut: [:], duplicatesSkipped: 0)
    }

    /// - Parameter pointerCosts: each listed pointer's tokens by handle, filled in for new ones.
    private func manifest(for content: PackContent, roleTokens: Int, pointerCosts: inout [String: Int],
                          request: PackRequest, budget: Int, leftOut: [Tier], duplicates: Int) -> PackManifest {
        var manifest = content.manifest
        var byTier: [String: Int] = [:]
        for tier in Tier.allCases { byTier[tier.rawValue] = 0 }
        var trimmed: [PackManifest.Trim] = []
        var sections = 0
        for document in content.documents {
            for section in document.sections {
                let tokens = section.textTokens
                byTier[section.tier.rawValue, default: 0] += tokens
                sections += section.sectionCount
                if section.trimmed {
                    trimmed.append(.init(handle: section.handle, keptTokens: tokens, fullTokens: section.fullTokens))
                }
            }
        }
        byTier[Tier.essential.rawValue, default: 0] += roleTokens
        var leftOutByTier: [String: Int] = [:]
        for tier in leftOut { leftOutByTier[tier.rawValue, default: 0] += 1 }
        manifest.tokensByTier = byTier
        let renderer = PackRenderer(format: request.format)
        manifest.pointerTokens = content.pointers.reduce(0) { total, pointer in
            let cost = pointerCosts[pointer.handle] ?? counter.count(renderer.pointerFragment(pointer))
            pointerCosts[pointer.handle] = cost
            return total + cost
        }
        manifest.documents = content.documents.count
        manifest.sections = sections
        manifest.trimmed = trimmed
        manifest.leftOut = leftOutByTier
        manifest.duplicatesSkipped = duplicates
        manifest.packId = Self.packID(content: content, request: request, budget: budget, counter: counter.identifier)
        return manifest
    }

    /// A hash of the inputs and of what was chosen (handles, content hashes, trims and pointers).
    static func packID(content: PackContent, request: PackRequest, budget: Int, counter: String) -> String {
        var key = "ctxmem-pack-v1\u{1}\(request.agent ?? "")\u{1}\(content.task ?? "")\u{1}\(budget)\u{1}\(request.format.rawValue)\u{1}\(counter)"
        for document in content.documents {
            for section in document.sections {
                key += "\u{1}\(section.handle)\u{2}\(section.endLine)\u{2}\(ContentHash(value: section.digest).hex)"
            }
        }
        for pointer in content.pointers { key += "\u{1}>\(pointer.handle)" }
        if let role = content.role { key += "\u{1}role\u{2}\(ContentHash(role.text).hex)" }
        return ContentHash(key).hex
    }

    // MARK: - Helpers

    /// The task without surrounding white space; nil when nothing is left.
    static func trimmedTask(_ task: String?) -> String? {
        guard let task else { return nil }
        let trimmed = task.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Where a document goes in a pack: best tier, importer before imported, Claude Code's loading
    /// order of root files, shallower paths, then the path.
    struct OrderKey: Comparable {
        var tier: Tier
        var importDepth: Int
        var launch: Int
        var depth: Int
        var path: String

        init(_ record: SectionRecord, tier: Tier) {
            self.tier = tier
            importDepth = record.importDepth ?? 99
            launch = PackBuilder.launchOrder(record)
            depth = record.path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
            path = record.path
        }

        static func < (a: OrderKey, b: OrderKey) -> Bool {
            (a.tier, a.importDepth, a.launch, a.depth, a.path) < (b.tier, b.importDepth, b.launch, b.depth, b.path)
        }
    }

    /// Claude Code's loading order of the root memory files: project, then local, then rules.
    static func launchOrder(_ record: SectionRecord) -> Int {
        switch record.path {
        case "CLAUDE.md": 0
        case ".claude/CLAUDE.md": 1
        case "CLAUDE.local.md": 2
        default: record.kind == .rule ? 3 : 4
        }
    }

    /// `0.35` for 0.3472: what `String(format: "%.2f")` gives for scores, at a fraction of its cost
    /// (it was a fifth of ranking).
    static func twoDecimals(_ value: Double) -> String {
        let hundredths = Int((max(0, value) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func title(_ record: SectionRecord) -> String {
        record.headingPath.isEmpty ? record.path : record.headingPath.joined(separator: " > ")
    }

    /// The definition's text without its frontmatter (blanked, not cut, by the parser).
    static func roleText(_ records: [SectionRecord]) -> String {
        let text = records.sorted { $0.ordinal < $1.ordinal }.compactMap(\.body).joined(separator: "\n")
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The sections chosen so far, by document.
struct Selection {
    struct Item {
        var record: SectionRecord
        var section: PackedSection
        var density: Double
    }

    private(set) var items: [Item] = []
    private(set) var hashes: [String: String] = [:]
    private var paths: [String: Int] = [:]
    /// Whole (untrimmed) sections by document, ordinal and tier: what a neighbour's run can join.
    private var wholeSections: Set<RunKey> = []
    /// The sections that open a passage (a run of whole sections), with the wrapper each was costed with.
    private var passageWrappers: [RunKey: Int] = [:]

    private struct RunKey: Hashable {
        var path: String
        var ordinal: Int
        var tier: Tier
    }

    /// Whether a whole section of `tier` next to `record` in its document is in: the render merges
    /// them into one passage with one source line, so `record` costs little more than its text.
    func extendsRun(_ record: SectionRecord, tier: Tier) -> Bool {
        wholeSections.contains(RunKey(path: record.path, ordinal: record.ordinal - 1, tier: tier))
            || wholeSections.contains(RunKey(path: record.path, ordinal: record.ordinal + 1, tier: tier))
    }

    var ids: [Int64] { items.map(\.record.id) }
    var documentCount: Int { paths.count }
    func hasDocument(_ path: String) -> Bool { paths[path] != nil }

    /// Adds a section; `wrapper` is what its source line was costed at.
    /// - Returns: the tokens the plan gets back: when the section bridges two passages, the second
    ///   loses its source line (it was costed with one).
    @discardableResult
    mutating func add(_ record: SectionRecord, tier: Tier, text: String, trimmed: Bool, density: Double, tokens: Int,
                      wrapper: Int = 0) -> Int {
        var section = PackedSection(record, tier: tier, text: text, trimmed: trimmed)
        section.textTokens = tokens
        items.append(Item(record: record, section: section, density: density))
        paths[record.path, default: 0] += 1
        var refund = 0
        if !trimmed {
            let key = RunKey(path: record.path, ordinal: record.ordinal, tier: tier)
            let before = RunKey(path: record.path, ordinal: record.ordinal - 1, tier: tier)
            let after = RunKey(path: record.path, ordinal: record.ordinal + 1, tier: tier)
            let joinsBefore = wholeSections.contains(before)
            if let next = passageWrappers.removeValue(forKey: after) {
                // The passage after this one now continues this one's (or the one before's).
                if joinsBefore { refund = max(0, next - wrapper) } else { passageWrappers[key] = next }
            } else if !joinsBefore {
                passageWrappers[key] = wrapper
            }
            wholeSections.insert(key)
        }
        if record.tokens >= PackBuilder.duplicateMinimumTokens, hashes[record.contentHash] == nil {
            hashes[record.contentHash] = record.handle
        }
        return refund
    }

    /// Removes the included section of lowest value per token (never an essential unless allowed).
    mutating func removeLeastValuable(allowEssential: Bool) -> SectionRecord? {
        let removable = items.indices.filter { allowEssential || items[$0].density.isFinite }
        guard let index = removable.min(by: { (items[$0].density, items[$1].record.id) < (items[$1].density, items[$0].record.id) })
        else { return nil }
        let item = items.remove(at: index)
        wholeSections.remove(RunKey(path: item.record.path, ordinal: item.record.ordinal, tier: item.section.tier))
        passageWrappers[RunKey(path: item.record.path, ordinal: item.record.ordinal, tier: item.section.tier)] = nil
        paths[item.record.path, default: 1] -= 1
        if paths[item.record.path] == 0 { paths[item.record.path] = nil }
        return item.record
    }

    /// Documents in pack order (by best tier, then hierarchy), sections in document order.
    func documents() -> [PackedDocument] {
        // Item indices by document: records are large, so they are not copied to group them.
        var byPath: [String: (first: Int, tier: Tier, items: [Int])] = [:]
        for (index, item) in items.enumerated() {
            var entry = byPath[item.record.path] ?? (index, item.section.tier, [])
            entry.tier = min(entry.tier, item.section.tier)
            entry.items.append(index)
            byPath[item.record.path] = entry
        }
        // Sort keys made once per document, not in every comparison.
        let keyed = byPath.values.map { entry in (key: PackBuilder.OrderKey(items[entry.first].record, tier: entry.tier), entry: entry) }
        return keyed.sorted { $0.key < $1.key }.map { document in
            let first = items[document.entry.first].record
            let ordered = document.entry.items.sorted { items[$0].record.ordinal < items[$1].record.ordinal }
            return PackedDocument(path: first.path, kind: first.kind,
                                  sections: Self.mergingRuns(ordered.map { (items[$0].record.ordinal, items[$0].section) }))
        }
    }

    /// Consecutive sections of one tier become one passage with one source line: its first
    /// section's handle and heading path, the lines of the run. A pack of whole documents then
    /// spends its tokens on content, not on a source line per heading (each section's own heading
    /// line is in its text). Trimmed sections stay apart, so their marker names their own handle.
    static func mergingRuns(_ sections: [(ordinal: Int, section: PackedSection)]) -> [PackedSection] {
        var result: [PackedSection] = []
        var runTexts: [String] = []   // the open run's texts, joined once when it closes
        func closeRun() {
            guard runTexts.count > 1 else { return }
            result[result.count - 1].text = runTexts.joined(separator: "\n")
        }
        var lastOrdinal = Int.min
        for (ordinal, section) in sections {
            if var last = result.last, ordinal == lastOrdinal + 1, last.tier == section.tier, !last.trimmed, !section.trimmed {
                runTexts[runTexts.count - 1] = runTexts[runTexts.count - 1].trimmingTrailingNewlines()
                runTexts.append(section.text)
                last.endLine = section.endLine
                last.fullTokens += section.fullTokens
                last.sectionCount += section.sectionCount
                last.textTokens += section.textTokens
                last.digest = (last.digest ^ section.digest) &* 0x0000_0100_0000_01b3
                result[result.count - 1] = last
            } else {
                closeRun()
                result.append(section)
                runTexts = [section.text]
            }
            lastOrdinal = ordinal
        }
        closeRun()
        return result
    }
}

extension PackedSection {
    init(_ record: SectionRecord, tier: Tier, text: String, trimmed: Bool) {
        self.init(handle: record.handle, path: record.path, startLine: record.startLine, endLine: record.endLine,
                  headingPath: record.headingPath, tier: tier, text: text, trimmed: trimmed, fullTokens: record.tokens,
                  sectionCount: 1, textTokens: 0)
        // A whole section's text is the indexed one, whose hash the index holds.
        digest = (trimmed ? nil : ContentHash(hex: record.contentHash)?.value) ?? ContentHash(text).value
    }
}

extension PackDecision.Outcome {
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

/// What every pack of one index generation reads alike: the agents, the documents addressed to
/// agents, the import edges and the essential sections.
public struct PackingState: Sendable {
    var profiles: [AgentProfile]
    /// Documents whose frontmatter names their agents (`agents: [a, b]` or `agent: a`).
    var audiences: [String: Set<String>]
    var importEdges: [String: [String]]
    var essentialSections: [SectionRecord]

    init(store: any MemoryReader, withBodies: Bool) throws {
        profiles = try store.documents(kind: .agent).compactMap {
            AgentProfile.parse(path: $0.path, frontmatter: $0.frontmatter).profile
        }
        audiences = [:]
        for document in try store.documents(withFrontmatterKeys: ["agents", "agent"]) where document.kind != .agent {
            guard let frontmatter = document.frontmatter, let value = frontmatter["agents"] ?? frontmatter["agent"] else { continue }
            let names = (value.arrayValue ?? [value]).compactMap(\.stringValue)
            if !names.isEmpty { audiences[document.path] = Set(names) }
        }
        importEdges = [:]
        for edge in try store.referenceEdges(kinds: [.import], fromPaths: nil) { importEdges[edge.from, default: []].append(edge.to) }
        essentialSections = try store.sections(tier: .essential, withBody: withBodies)
    }
}

/// Keeps the ``PackingState`` of the newest index generation between builds: a server's packs
/// then read only what depends on their agent and task (agents' frontmatter alone was a tenth of
/// a pack). Shared by the copies of a ``MemoryService``.
public final class PackingCache: Sendable {
    private let entry = Mutex<(key: String, state: PackingState)?>(nil)

    public init() {}

    /// The state for index generation `key`, loaded once per generation (two builds that miss at
    /// once may both load it).
    ///
    /// `load` runs outside the lock: it reads the index, and a build holds its connection while it
    /// asks for the state; loading under the lock let one build wait for the lock inside a read
    /// while another, holding the lock, waited for that read's connection (a deadlock seen in
    /// the tests, which share one connection, and possible in a server whose requests share one).
    func state(for key: String, load: () throws -> PackingState) throws -> PackingState {
        if let cached = entry.withLock({ $0 }), cached.key == key { return cached.state }
        let state = try load()
        entry.withLock { $0 = (key, state) }
        return state
    }
}
