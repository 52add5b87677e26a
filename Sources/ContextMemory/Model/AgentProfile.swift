/// A sub-agent as `.claude/agents/NAME.md` defines it (Claude Code's format: frontmatter `name`,
/// `description`, `tools`, `model`; the body is the role's system prompt), plus ctxmem's optional
/// `context:` block, which Claude Code ignores:
///
/// ```yaml
/// context:
///   budget: 40000                      # tokens; default 200,000
///   include: ["project_management/backend/**"]   # preferred paths (a boost)
///   exclude: ["project_management/archive/**"]   # never packed
///   keywords: [django, api]             # added to the role when ranking
///   tiers: [essential, detailed]        # tiers packed by relevance; others only when the task calls for them
///   essential_share: 0.2                # most of the budget the essential tier may take (default 0.2)
/// ```
///
/// Claude Code's own `omitClaudeMd: true` (v2.1.271 or later) is read too: such an agent starts
/// without the CLAUDE.md hierarchy, so its pack replaces it (docs/claude-code.md).
public struct AgentProfile: Sendable, Equatable, Codable {
    public var name: String
    public var description: String
    /// The definition file, relative to the root.
    public var path: String
    public var model: String?
    public var budget: Int?
    public var include: [String]
    public var exclude: [String]
    public var keywords: [String]
    public var tiers: [Tier]
    /// The most of the budget the essential tier may take (0...1); nil: `.ctxmem.yaml`'s default.
    public var essentialShare: Double?
    /// Claude Code starts this agent without the CLAUDE.md hierarchy (frontmatter `omitClaudeMd: true`).
    public var omitClaudeMd: Bool = false

    public static let defaultTiers: [Tier] = [.essential, .detailed]

    /// `Backend Manager` -> `backend-manager`.
    static func suggestedName(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) }).joined(
            separator: "-")
    }

    /// Reads a profile from a definition's frontmatter. Problems become `invalid-agent` findings at
    /// the line of the key (`lineOf` maps a frontmatter key path to its line); a profile is still
    /// returned whenever the file names an agent, with the faulty setting left at its default.
    public static func parse(
        path: String,
        frontmatter: [String: JSONValue]?,
        lineOf: (String) -> Int? = { _ in nil }
    ) -> (profile: AgentProfile?, findings: [Finding]) {
        var findings: [Finding] = []
        func problem(_ key: String, _ message: String, severity: Finding.Severity = .error) {
            findings.append(
                Finding(
                    rule: RuleID.invalidAgent, severity: severity, path: path,
                    line: lineOf(key) ?? 1, message: message))
        }
        let stem = path.split(separator: "/").last.map { String($0.dropLast(".md".count)) } ?? path
        guard let frontmatter else {
            problem(
                "name",
                "agent definition has no usable frontmatter; Claude Code needs `name` and `description` between `---` lines"
            )
            return (nil, findings)
        }
        var name = stem
        if let value = frontmatter["name"]?.stringValue?.trimmingSpaces(), !value.isEmpty {
            name = value
            if value.wholeMatch(of: /[a-z0-9]+(-[a-z0-9]+)*/) == nil {
                problem(
                    "name",
                    "agent name '\(value)' should be lowercase letters, digits and hyphens, as Claude Code documents (e.g. '\(Self.suggestedName(value))')",
                    severity: .warning)
            }
        } else {
            problem(
                "name",
                "agent definition has no `name`; Claude Code will not load it (ctxmem uses the file name '\(stem)')")
        }
        let description = frontmatter["description"]?.stringValue ?? ""
        if description.isEmpty {
            problem(
                "description",
                "agent '\(name)' has no `description`; Claude Code needs it to decide when to use the agent")
        }
        var profile = AgentProfile(
            name: name, description: description, path: path,
            model: frontmatter["model"]?.stringValue, budget: nil,
            include: [], exclude: [], keywords: [], tiers: defaultTiers)
        if let omit = frontmatter["omitClaudeMd"], omit != .null {
            if case .bool(let value) = omit {
                profile.omitClaudeMd = value
            } else {
                problem("omitClaudeMd", "`omitClaudeMd` must be true or false")
            }
        }
        guard let context = frontmatter["context"], context != .null else { return (profile, findings) }
        guard case .object(let settings) = context else {
            problem("context", "`context` must be a mapping (budget, include, exclude, keywords, tiers)")
            return (profile, findings)
        }
        let known: Set<String> = ["budget", "include", "exclude", "keywords", "tiers", "essential_share"]
        for key in settings.keys.sorted() where !known.contains(key) {
            problem("context.\(key)", "unknown key `context.\(key)` (known: \(known.sorted().joined(separator: ", ")))")
        }
        if let budget = settings["budget"] {
            if let value = budget.wholeNumber(in: PackRequest.budgetRange) {
                profile.budget = value
            } else {
                problem(
                    "context.budget",
                    "`context.budget` must be a whole number of tokens between \(PackRequest.budgetRange.lowerBound) and \(PackRequest.budgetRange.upperBound)"
                )
            }
        }
        if let share = settings["essential_share"] {
            if let value = share.numberValue, (0...1).contains(value) {
                profile.essentialShare = value
            } else {
                problem(
                    "context.essential_share", "`context.essential_share` must be a number between 0 and 1 (0.2 is 20%)"
                )
            }
        }
        func strings(_ key: String) -> [String] {
            guard let value = settings[key] else { return [] }
            if let text = value.stringValue { return [text] }
            if case .array(let items) = value {
                let texts = items.compactMap(\.stringValue)
                if texts.count == items.count { return texts }
            }
            problem("context.\(key)", "`context.\(key)` must be a list of strings")
            return []
        }
        profile.include = strings("include")
        profile.exclude = strings("exclude")
        profile.keywords = strings("keywords")
        if settings["tiers"] != nil {
            var tiers: [Tier] = []
            for text in strings("tiers") {
                if let tier = Tier(rawValue: text.lowercased()) {
                    tiers.append(tier)
                } else {
                    problem("context.tiers", "`context.tiers` has '\(text)'; use \(Tier.choices)")
                }
            }
            if !tiers.isEmpty { profile.tiers = tiers }
        }
        return (profile, findings)
    }

    /// The line of `key` (`a.b` for nested keys) in a file's frontmatter: the first line, after the
    /// previous part's line, that starts a mapping entry with that name.
    public static func frontmatterLine(of key: String, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.trimmingTrailingWhitespace() == "---" else { return nil }
        var from = 1
        var found: Int?
        for part in key.split(separator: ".") {
            found = nil
            var index = from
            while index < lines.count {
                let line = lines[index]
                if line.trimmingTrailingWhitespace() == "---" { break }
                let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
                if trimmed.hasPrefix(part + ":") || trimmed.hasPrefix("\"\(part)\":") {
                    found = index + 1
                    from = index + 1
                    break
                }
                index += 1
            }
            if found == nil { return nil }
        }
        return found
    }
}
