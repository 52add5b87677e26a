/// The sections chosen so far, by document.
struct Selection {
    struct Item {
        var record: SectionRecord
        var section: PackedSection
        var density: Double
    }

    /// Sections at least this long have their content hash kept, to skip duplicates of them.
    let duplicateMinimumTokens: Int
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

    init(duplicateMinimumTokens: Int = PackingPolicy.default.duplicateMinimumTokens) {
        self.duplicateMinimumTokens = duplicateMinimumTokens
    }

    var ids: [Int64] { items.map(\.record.id) }
    var documentCount: Int { paths.count }
    func hasDocument(_ path: String) -> Bool { paths[path] != nil }

    /// Adds a section; `wrapper` is what its source line was costed at.
    /// - Returns: the tokens the plan gets back: when the section bridges two passages, the second
    ///   loses its source line (it was costed with one).
    @discardableResult
    mutating func add(
        _ record: SectionRecord, tier: Tier, text: String, trimmed: Bool, density: Double, tokens: Int,
        wrapper: Int = 0
    ) -> Int {
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
        if record.tokens >= duplicateMinimumTokens, hashes[record.contentHash] == nil {
            hashes[record.contentHash] = record.handle
        }
        return refund
    }

    /// Removes the included section of lowest value per token (never an essential unless allowed).
    mutating func removeLeastValuable(allowEssential: Bool) -> SectionRecord? {
        let removable = items.indices.filter { allowEssential || items[$0].density.isFinite }
        let leastValuable = removable.min {
            (items[$0].density, items[$1].record.id) < (items[$1].density, items[$0].record.id)
        }
        guard let index = leastValuable else { return nil }
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
        let keyed = byPath.values.map { entry in
            (key: PackBuilder.OrderKey(items[entry.first].record, tier: entry.tier), entry: entry)
        }
        return keyed.sorted { $0.key < $1.key }.map { document in
            let first = items[document.entry.first].record
            let ordered = document.entry.items.sorted { items[$0].record.ordinal < items[$1].record.ordinal }
            let sections = Self.mergingRuns(ordered.map { (items[$0].record.ordinal, items[$0].section) })
            return PackedDocument(path: first.path, kind: first.kind, sections: sections)
        }
    }

    /// Consecutive sections of one tier become one passage with one source line: its first
    /// section's handle and heading path, the lines of the run. A pack of whole documents then
    /// spends its tokens on content, not on a source line per heading (each section's own heading
    /// line is in its text). Trimmed sections stay apart, so their marker names their own handle.
    static func mergingRuns(_ sections: [(ordinal: Int, section: PackedSection)]) -> [PackedSection] {
        var result: [PackedSection] = []
        var runTexts: [String] = []  // the open run's texts, joined once when it closes
        func closeRun() {
            guard runTexts.count > 1 else { return }
            result[result.count - 1].text = runTexts.joined(separator: "\n")
        }
        var lastOrdinal = Int.min
        for (ordinal, section) in sections {
            if var last = result.last, ordinal == lastOrdinal + 1, last.tier == section.tier,
                !last.trimmed, !section.trimmed
            {
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
        self.init(
            handle: record.handle, path: record.path, startLine: record.startLine, endLine: record.endLine,
            headingPath: record.headingPath, tier: tier, text: text, trimmed: trimmed, fullTokens: record.tokens,
            sectionCount: 1, textTokens: record.tokens)
        // (`textTokens` is set again when the section is chosen: until then the whole section's
        // count, so a JSON fragment costed before the choice carries a number of the right width.)
        // A whole section's text is the indexed one, whose hash the index holds.
        digest = (trimmed ? nil : ContentHash(hex: record.contentHash)?.value) ?? ContentHash(text).value
    }
}
