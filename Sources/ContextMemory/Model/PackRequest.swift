import Foundation

/// What to pack: for whom, for which task, within how many tokens, in which format.
public struct PackRequest: Sendable, Equatable {
    /// The agent's `name` (from `.claude/agents/`), or nil for a generic pack.
    public var agent: String?
    public var task: String?
    /// Tokens; nil means the profile's `context.budget`, else ``defaultBudget``.
    public var budget: Int?
    public var format: PackFormat
    /// Lets pinned essentials be trimmed instead of failing when they alone exceed the budget.
    public var trimEssentials: Bool
    /// Whether the pack replaces what Claude Code loads at launch or supplements it.
    public var mode: PackMode
    /// A document to hand over, or the context a Claude Code hook injects.
    public var delivery: PackDelivery = .document

    public static let defaultBudget = 200_000
    public static let budgetRange = 500...2_000_000
    public static let maxTaskLength = 4_000

    public init(
        agent: String? = nil, task: String? = nil, budget: Int? = nil, format: PackFormat = .markdown,
        trimEssentials: Bool = false, mode: PackMode = .auto
    ) {
        self.agent = agent
        self.task = task
        self.budget = budget
        self.format = format
        self.trimEssentials = trimEssentials
        self.mode = mode
    }

    /// What a caller may ask, checked before any work, in one place for the CLI, HTTP, MCP and the
    /// builder: a budget in ``budgetRange``, a task of at most ``maxTaskLength`` characters (Unicode
    /// code points, as the JSON Schemas of the HTTP and MCP faces count them).
    /// - Throws: ``PackError/invalidBudget(_:)``, ``PackError/invalidTask(_:)``.
    public func validate() throws {
        if let budget, !Self.budgetRange.contains(budget) { throw PackError.invalidBudget(budget) }
        if let task, task.unicodeScalars.count > Self.maxTaskLength {
            throw PackError.invalidTask(
                "the task is \(task.unicodeScalars.count) characters long; the limit is \(Self.maxTaskLength)")
        }
    }
}

/// Where a pack goes.
public enum PackDelivery: String, Sendable, Codable {
    /// A document handed to an agent: manifest, sections, pointers, the role brief and the task.
    case document
    /// What `ctxmem hook` injects into an agent Claude Code starts, which already has its
    /// definition and its prompt: Markdown without the role brief and the task, stated as facts.
    case hookContext = "hook-context"
}

/// How a pack relates to the memory Claude Code loads at launch by itself (the CLAUDE.md
/// hierarchy, what it imports and the rules without `paths:`).
public enum PackMode: String, Sendable, CaseIterable, Codable {
    /// Replace when the agent's definition sets `omitClaudeMd: true`, supplement otherwise.
    case auto
    /// The pack is the agent's whole project memory: it starts without CLAUDE.md.
    case replace
    /// Claude Code loads its launch memory anyway: the pack leaves it out and spends its budget on the rest.
    case supplement

    public static let choices = allCases.map(\.rawValue).joined(separator: "|")

    /// `auto` settled for an agent (or for a generic pack, which has no definition to omit CLAUDE.md).
    public func resolved(for profile: AgentProfile?) -> PackMode {
        guard self == .auto else { return self }
        return profile?.omitClaudeMd == true ? .replace : .supplement
    }
}

public enum PackFormat: String, Sendable, CaseIterable, Codable {
    case markdown, xml, json

    public static let choices = allCases.map(\.rawValue).joined(separator: "|")
}

/// Why a pack cannot be made.
public enum PackError: Error, CustomStringConvertible, Equatable {
    case unknownAgent(name: String, known: [String])
    case invalidBudget(Int)
    case invalidTask(String)
    case essentialsExceedBudget(
        budget: Int, essentialTokens: Int, largest: [(handle: String, tokens: Int, reason: String)])

    public static func == (lhs: PackError, rhs: PackError) -> Bool { lhs.description == rhs.description }

    public var description: String {
        switch self {
        case .unknownAgent(let name, let known):
            let suggestion = Suggest.nearest(to: name, in: known).map { " Did you mean '\($0)'?" } ?? ""
            let list =
                known.isEmpty
                ? "no agents are defined (.claude/agents/*.md)" : "known agents: \(known.joined(separator: ", "))"
            return "no agent named '\(name)'.\(suggestion) (\(list); `ctxmem agents` lists them)"
        case .invalidBudget(let value):
            return
                "budget \(value) is out of range: use \(PackRequest.budgetRange.lowerBound)...\(PackRequest.budgetRange.upperBound) tokens"
        case .invalidTask(let detail):
            return "invalid task: \(detail)"
        case .essentialsExceedBudget(let budget, let essential, let largest):
            let lines = largest.map { "  \($0.tokens) tokens  \($0.handle)  (\($0.reason))" }.joined(separator: "\n")
            return """
                the pinned essentials alone need \(essential) tokens, over the budget of \(budget). Largest pinned sections:
                \(lines)
                Re-tier some of them: put `<!-- ctxmem: tier=detailed -->` before a heading (or at the top of a file), \
                set `tier: detailed` in a file's frontmatter, or add a `tier_rules` entry to .ctxmem.yaml; \
                or raise the budget (--budget), or pass --trim-essentials to cut essentials to fit.
                """
        }
    }
}
