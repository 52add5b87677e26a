/// A pack being made, handed from stage to stage: the essentials start it, the fill and the
/// pointers add to it, the fit renders it until it is within the budget.
struct PackPlan {
    let request: PackRequest
    let budget: Int
    /// The essentials in pack order with why each is essential: the over-budget error names the
    /// largest, and the fill takes them as candidates when they had to be trimmed.
    let essentials: [(record: SectionRecord, reason: String)]
    let renderer: PackRenderer
    /// Kept back from the fill for what costing section by section misses.
    let slack: Int
    /// What the manifest, the role brief and the wrappers take (the fixed cost less the task):
    /// with the essential sections, the pack's coordination overhead.
    let fixedOverhead: Int
    /// The most of the budget the overhead may take with the essentials that fill the share.
    let essentialShare: Double

    var selection: Selection
    /// What became of each candidate, by section id (for `--explain` and the manifest).
    var decisions: [Int64: PackDecision]
    /// The pack as it renders: manifest, documents, pointers, role brief and task.
    var content: PackContent
    /// The rendered tokens the fill starts from: the fixed cost, with the essentials when they fit.
    var committed: Int
    /// What the fill may still spend; the pointers then get it with the reserve.
    var remaining = 0
    /// Kept back from the fill for the pointers.
    var pointerReserve = 0
    /// Relevant candidates that are not content, for the pointer stage.
    var pointerCandidates: [PackBuilder.Candidate] = []
    /// Wanted as content but did not fit: the fit retries them, best first, when a render leaves room.
    var deferred: [PackBuilder.Candidate] = []
    /// Each listed pointer's tokens by handle (for the manifest's pointer tokens).
    var pointerCosts: [String: Int] = [:]
    /// What opening a document costs (its heading and wrappers), by path: counted once each.
    var openings: [String: Int] = [:]

    init(
        request: PackRequest, budget: Int, essentials: [(record: SectionRecord, reason: String)],
        renderer: PackRenderer, slack: Int, selection: Selection, decisions: [Int64: PackDecision],
        content: PackContent, committed: Int, fixedOverhead: Int, essentialShare: Double
    ) {
        self.request = request
        self.budget = budget
        self.essentials = essentials
        self.renderer = renderer
        self.slack = slack
        self.selection = selection
        self.decisions = decisions
        self.content = content
        self.committed = committed
        self.fixedOverhead = fixedOverhead
        self.essentialShare = essentialShare
    }

    /// The error naming the eight largest pinned sections and why each is pinned.
    func overBudget(_ tokens: Int) -> PackError {
        let largest = essentials.sorted { ($0.record.tokens, $1.record.path) > ($1.record.tokens, $0.record.path) }
            .prefix(8).map { ($0.record.handle, $0.record.tokens, "pinned: \($0.reason)") }
        return .essentialsExceedBudget(budget: budget, essentialTokens: tokens, largest: largest)
    }
}
