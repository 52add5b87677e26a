/// What pieces of a pack cost in tokens of the counter in force, as the fill and the fit estimate
/// them before a render measures the whole.
extension PackBuilder {
    /// What a whole section adds to the pack: its source line and wrappers, counted, and its body
    /// from the stored count when the index counted with this counter (a token more for the join);
    /// otherwise the whole fragment counted. The finished render is measured exactly.
    func sectionCost(_ record: SectionRecord, tier: Tier, renderer: PackRenderer, bare: Int? = nil) -> Int {
        guard storedCountsMatch else {
            let whole = PackedSection(record, tier: tier, text: record.body ?? "", trimmed: false)
            return cost(of: whole, renderer: renderer)
        }
        let wrapper = bare ?? wrapperCost(record, tier: tier, trimmed: false, renderer: renderer)
        return wrapper + bodyTokens(record) + 1
    }

    /// Including `record` whole now: `bare`, what its source line costs (a join of two tokens when
    /// it extends a passage already in, whose line it shares), and `section`, that with its text.
    func wholeCost(of record: SectionRecord, tier: Tier, in plan: PackPlan) -> (bare: Int, section: Int) {
        let joinsRun = storedCountsMatch && plan.selection.extendsRun(record, tier: tier)
        let bare = joinsRun ? 2 : wrapperCost(record, tier: tier, trimmed: false, renderer: plan.renderer)
        let section =
            joinsRun
            ? bare + bodyTokens(record)
            : sectionCost(record, tier: tier, renderer: plan.renderer, bare: bare)
        return (bare, section)
    }

    /// What opening a document adds: its heading (path) and wrappers, counted once per path; nothing
    /// when the document is already in.
    func opening(_ path: String, in plan: inout PackPlan) -> Int {
        if plan.selection.hasDocument(path) { return 0 }
        if let known = plan.openings[path] { return known }
        let cost = counter.count(plan.renderer.documentFragment(path: path))
        plan.openings[path] = cost
        return cost
    }

    /// The pack counter's tokens for a section's whole body.
    func bodyTokens(_ record: SectionRecord) -> Int {
        storedCountsMatch ? counter.scaled(record.tokens) : counter.count(record.body ?? "")
    }

    func cost(of section: PackedSection, renderer: PackRenderer) -> Int {
        counter.count(renderer.sectionFragment(section))
    }

    /// What a section's source line and wrappers add to its text's own tokens. Costed around a
    /// one-token stand-in, not around nothing: the whitespace before and after a text are pieces
    /// of their own, which an empty text would merge into one.
    func wrapperCost(_ record: SectionRecord, tier: Tier, trimmed: Bool, renderer: PackRenderer) -> Int {
        let standIn = PackedSection(record, tier: tier, text: "x", trimmed: trimmed)
        return cost(of: standIn, renderer: renderer) - counter.count("x")
    }
}
