import Foundation
public import Logging

/// Assembles a pack (ARCHITECTURE.md, "Packing"): pinned essentials first, the rest of the
/// essential tier by relevance within its share of the budget; then detailed sections by
/// relevance to the task and role, best value per token first while they fit; operational ones
/// only when the task calls for them; a section that does not fit is trimmed at a block boundary
/// or pointed to; identical content once; the whole rendered pack within the budget, measured by
/// the counter in force; the same inputs and index state give the same bytes.
///
/// ``build(_:)`` runs seven stages, each in its own file under `Stages/` (docs/packing.md, "How a
/// pack is made"): essentials, candidates, ranking, share, fill, pointers, fit. Their tuning is ``policy``.
public struct PackBuilder: Sendable {
    public let store: any MemoryReader
    public let counter: PackTokenCounter
    /// How many `@import` hops are followed from launch-loaded files (Claude Code's limit).
    public let importDepth: Int
    /// The budget of a pack whose request and profile name none.
    public let defaultBudget: Int
    /// The share of the budget the essential tier may fill when the profile names none.
    public let defaultEssentialShare: Double
    /// The weights, thresholds and limits of every stage.
    public let policy: PackingPolicy

    /// Whether the index counted its sections with this pack's base counter (then a section's
    /// stored count is its count, and its body need not be counted again).
    let storedCountsMatch: Bool
    /// What packs of one index generation share, kept between builds (a server's requests).
    let cache: PackingCache?
    /// Each plan and render at trace level.
    let logger: Logger

    /// - Parameters:
    ///   - cache: keeps what every pack of an index generation reads alike (agents, essential
    ///     sections, import edges) between builds; nil reads it for each build.
    ///   - policy: the stages' tuning; tests and the benchmark vary it, everything else ships the default.
    public init(
        store: any MemoryReader, counter: PackTokenCounter, importDepth: Int = Configuration.defaultImportDepth,
        defaultBudget: Int = PackRequest.defaultBudget,
        defaultEssentialShare: Double = Configuration.defaultEssentialShare, cache: PackingCache? = nil,
        policy: PackingPolicy = .default, logger: Logger = Logger(label: "ctxmem.pack")
    ) {
        self.logger = logger
        self.store = store
        self.counter = counter
        self.importDepth = importDepth
        self.defaultBudget = defaultBudget
        self.defaultEssentialShare = defaultEssentialShare
        self.cache = cache
        self.policy = policy
        let fingerprint = (try? store.metadata("fingerprint")) ?? nil
        storedCountsMatch = fingerprint?.hasSuffix("/" + counter.base.identifier) ?? false
    }

    /// The generation's shared reads: from the cache when it holds this generation's.
    func shared(withBodies: Bool) throws -> PackingState {
        guard let cache else {
            return try PackingState(store: store, withBodies: withBodies, importDepth: importDepth)
        }
        // The index file's id as well as its generation: a rebuilt index starts its generations again.
        let key = "\(try store.metadata("index_id") ?? "")@\(try store.metadata("generation") ?? "")"
        return try cache.state(for: key) {
            try PackingState(store: store, withBodies: true, importDepth: importDepth)
        }
    }

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

    // MARK: - Building

    /// The pack for `request`: the stages in order.
    /// - Throws: ``PackError`` (unknown agent, budget, essentials over budget), the store's errors.
    public func build(_ request: PackRequest) throws -> Pack {
        try request.validate()
        let task = Self.trimmedTask(request.task)
        // Everything the pack reads from the index, read in one transaction: one committed state,
        // even while the index is refreshed.
        let (inputs, candidates) = try store.snapshot {
            let inputs = try essentialInputs(for: request, task: task)
            let pool = try candidatePool(for: inputs)
            return (inputs, rank(pool, for: inputs))
        }
        var plan = try startPlan(with: inputs, request: request)
        let rest = fillShare(&plan, with: candidates, inputs: inputs)
        fill(&plan, with: rest)
        listPointers(&plan)
        return try fit(&plan)
    }

    /// The task without surrounding white space; nil when nothing is left.
    static func trimmedTask(_ task: String?) -> String? {
        guard let task else { return nil }
        let trimmed = task.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
