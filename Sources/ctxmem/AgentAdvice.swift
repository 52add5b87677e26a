import ContextMemory
import Foundation

/// What `ctxmem init` suggests for one agent definition. ctxmem never edits a definition: these
/// are printed for a person to apply.
///
/// - `omitClaudeMd: true` when Claude Code's launch load (the CLAUDE.md hierarchy, its imports and
///   the unconditional rules) is at least ``largeLoadShare`` of the agent's budget: such an agent
///   starts with that load outside its pack, where the pack already holds what of it the role
///   needs. With the flag the pack replaces the hierarchy, trimmed to the role.
/// - A `context:` block when the definition has none of `budget`, `include` and `keywords`: a
///   budget that leaves the essentials their share, the `project_management/<area>/` folders its
///   name names, and words of its description as keywords. A start to adjust, not a verdict.
struct AgentAdvice: Sendable, Codable, Equatable {
    /// A `context:` block to paste into the definition's frontmatter.
    struct ContextBlock: Sendable, Codable, Equatable {
        var budget: Int
        var include: [String]
        var keywords: [String]

        /// The block as YAML, two-space indented under `context:`.
        var yaml: String {
            var lines = ["context:", "  budget: \(budget)"]
            if !include.isEmpty { lines.append("  include: [\(include.map(Self.quoted).joined(separator: ", "))]") }
            if !keywords.isEmpty { lines.append("  keywords: [\(keywords.map(Self.plain).joined(separator: ", "))]") }
            return lines.joined(separator: "\n")
        }

        static func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }

        /// A keyword as a plain YAML scalar unless YAML would read it as something else.
        static func plain(_ word: String) -> String {
            let reserved: Set<String> = ["yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"]
            let safe = word.wholeMatch(of: /[a-z][a-z0-9_-]*/) != nil && !reserved.contains(word)
            return safe ? word : quoted(word)
        }
    }

    /// The share of an agent's budget from which the launch load is worth replacing.
    static let largeLoadShare = 0.1
    /// A suggested budget is at least this many tokens and a multiple of ``budgetStep``.
    static let minimumSuggestedBudget = 30_000
    static let budgetStep = 5_000
    /// Keywords taken from a description.
    static let maxKeywords = 8

    var name: String
    /// The definition, relative to the root.
    var path: String
    var budget: Int
    var essentialTokens: Int
    var omitClaudeMd: Bool
    /// Why `omitClaudeMd: true` would help; nil when it would not.
    var omitClaudeMdAdvice: String?
    /// A `context:` block to start from; nil when the definition has one.
    var suggestedContext: ContextBlock?
    /// Anything else worth knowing (an `omitClaudeMd` the installed Claude Code ignores).
    var notes: [String]

    var isEmpty: Bool { omitClaudeMdAdvice == nil && suggestedContext == nil && notes.isEmpty }

    /// - Parameters:
    ///   - launchTokens: Claude Code's launch load (``LaunchMemory/tokens``).
    ///   - areas: the folder names directly under `project_management/`.
    ///   - essentialShare: the share of a budget the essential tier may take (`.ctxmem.yaml`'s).
    static func advise(
        _ agent: AgentSummary, launchTokens: Int, areas: [String], essentialShare: Double,
        claudeCode: ClaudeCodeVersion
    ) -> AgentAdvice {
        let profile = agent.profile
        var advice = AgentAdvice(
            name: profile.name, path: profile.path, budget: agent.budget, essentialTokens: agent.essentialTokens,
            omitClaudeMd: profile.omitClaudeMd, omitClaudeMdAdvice: nil, suggestedContext: nil, notes: [])
        if profile.budget == nil && profile.include.isEmpty && profile.keywords.isEmpty {
            advice.suggestedContext = ContextBlock(
                budget: suggestedBudget(essentialTokens: agent.essentialTokens, essentialShare: essentialShare),
                include: areas.filter(nameWords(profile.name).contains).sorted().map { "project_management/\($0)/**" },
                keywords: keywords(in: profile.description))
        }
        // Judged against the budget the agent will have once the suggestion is taken.
        let budget = advice.suggestedContext?.budget ?? agent.budget
        let share = Double(launchTokens) / Double(max(1, budget))
        let required = ClaudeCodeVersion.omitClaudeMdReleaseText
        if profile.omitClaudeMd {
            if claudeCode.omitClaudeMdSupported == false, let version = claudeCode.version {
                advice.notes.append(
                    "sets omitClaudeMd: true, which Claude Code \(version) ignores: it still loads the CLAUDE.md hierarchy (\(required) or later reads it)"
                )
            }
        } else if launchTokens > 0, share >= largeLoadShare {
            let version =
                switch claudeCode.omitClaudeMdSupported {
                case true?: ""
                case false?: " (needs Claude Code \(required) or later; \(claudeCode.version ?? "this one") ignores it)"
                case nil: " (needs Claude Code \(required) or later)"
                }
            advice.omitClaudeMdAdvice =
                "starts with the CLAUDE.md hierarchy, \(launchTokens) tokens (\(Int((share * 100).rounded()))% of a budget of \(budget)), outside its pack; with `omitClaudeMd: true` its pack replaces it, trimmed to its role\(version)"
        }
        return advice
    }

    /// The essentials' tokens over their share, at least ``minimumSuggestedBudget``, rounded up
    /// to ``budgetStep`` and kept within the budgets a pack accepts.
    static func suggestedBudget(essentialTokens: Int, essentialShare: Double) -> Int {
        let needed = Double(essentialTokens) / max(0.05, essentialShare)
        let rounded = Int((max(Double(minimumSuggestedBudget), needed) / Double(budgetStep)).rounded(.up)) * budgetStep
        return min(max(rounded, PackRequest.budgetRange.lowerBound), PackRequest.budgetRange.upperBound)
    }

    /// `Backend Manager`, `backend-manager` -> `["backend", "manager"]`.
    static func nameWords(_ name: String) -> Set<String> {
        Set(name.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init))
    }

    /// The description's first ``maxKeywords`` distinct words that say something: lower-cased,
    /// three characters or more, not all digits, not common English or words every agent has.
    static func keywords(in description: String) -> [String] {
        var seen: Set<String> = []
        var words: [String] = []
        for raw in description.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
            let word = String(raw).trimmingCharacters(in: CharacterSet(charactersIn: "_"))
            guard word.count >= 3, !word.allSatisfy(\.isNumber), !stopWords.contains(word), seen.insert(word).inserted
            else { continue }
            words.append(word)
            if words.count == maxKeywords { break }
        }
        return words
    }

    static let stopWords: Set<String> = [
        "about", "after", "all", "also", "and", "any", "are", "based", "before", "between", "both", "but", "can",
        "does", "each", "for", "from", "has", "have", "how", "into", "its", "may", "more", "most", "must", "not",
        "one", "only", "other", "our", "over", "own", "per", "should", "such", "than", "that", "the", "their",
        "them", "then", "there", "these", "they", "this", "those", "through", "two", "under", "use", "used", "uses",
        "using", "via", "was", "what", "when", "where", "which", "while", "who", "will", "with", "without", "you",
        "your",
        // Words of every agent description.
        "agent", "agents", "assistant", "delegates", "expert", "handles", "helps", "manager", "narrow", "owns",
        "proactively", "responsible", "specialist", "spawned", "subagent", "task", "tasks", "work",
    ]
}
