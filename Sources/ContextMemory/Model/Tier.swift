/// How readily a section is given to a new agent (progressive disclosure).
public enum Tier: String, Codable, Sendable, CaseIterable, Comparable {
    /// In every relevant pack.
    case essential
    /// Included by relevance to the agent's role and task.
    case detailed
    /// Runbooks, commands, logs, history: included when the task calls for it, otherwise pointed to.
    case operational

    public static func < (lhs: Tier, rhs: Tier) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .essential: 0
        case .detailed: 1
        case .operational: 2
        }
    }

    /// The spellings accepted on input, for messages.
    public static let choices = allCases.map(\.rawValue).joined(separator: "|")
}
