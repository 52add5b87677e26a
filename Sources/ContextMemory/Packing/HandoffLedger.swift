import Foundation

/// The handoff records of one index generation (``Handoff``), as ranking needs them: the latest of
/// each agent type, and how many newer records of its agent type each one has (a newer report
/// supersedes an older one on the same work, so the older ranks lower).
struct HandoffLedger: Sendable {
    var byPath: [String: Handoff] = [:]
    /// Agent type to the path of its newest record.
    var latest: [String: String] = [:]
    /// Path to the number of newer records of the same agent type.
    var newer: [String: Int] = [:]

    init(_ handoffs: [Handoff] = []) {
        var byAgent: [String: [Handoff]] = [:]
        for handoff in handoffs {
            byPath[handoff.path] = handoff
            byAgent[handoff.agentType, default: []].append(handoff)
        }
        for (agent, records) in byAgent {
            let newestFirst = records.sorted { ($0.time, $0.path) > ($1.time, $1.path) }
            latest[agent] = newestFirst.first?.path
            for (rank, record) in newestFirst.enumerated() { newer[record.path] = rank }
        }
    }

    init(store: any MemoryReader) throws {
        self.init(
            try store.documents(withFrontmatterKeys: ["ctxmem"]).compactMap {
                Handoff.parse(path: $0.path, frontmatter: $0.frontmatter)
            })
    }

    /// How much of `task`'s words the record's own task has (0...1): a report on a related task
    /// shares most of its words even when the index ranks other documents above it.
    static func overlap(of recorded: String?, with task: String?) -> Double {
        guard let recorded, let task else { return 0 }
        let wanted = words(task)
        guard !wanted.isEmpty else { return 0 }
        return Double(wanted.intersection(words(recorded)).count) / Double(wanted.count)
    }

    /// Lowercased words of three letters or more, without the commonest English ones.
    private static func words(_ text: String) -> Set<String> {
        Set(
            text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
                .filter { $0.count >= 3 && !stopWords.contains($0) })
    }

    private static let stopWords: Set<String> = [
        "the", "and", "for", "with", "that", "this", "from", "into", "add", "all", "are", "new", "use", "not",
        "its", "our", "you", "your", "then", "when", "what", "which", "make", "sure", "please",
    ]
}
