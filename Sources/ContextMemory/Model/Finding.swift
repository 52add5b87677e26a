/// A problem that did not stop the run, with where it is: invalid UTF-8, a binary or oversized file,
/// malformed frontmatter, a symlink loop, a broken link. Findings are values, never thrown: the
/// index records those of parsing (shown by `ctxmem index`), the audit adds those of its rules.
public struct Finding: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable, Comparable {
        case error, warning, info

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .info: 2
            }
        }
    }

    /// What kind of problem it is: `invalid-utf8`, `broken-link`.
    public var rule: RuleID
    public var severity: Severity
    /// Path relative to the root ("." for the root itself).
    public var path: String
    public var line: Int?
    public var column: Int?
    public var message: String
    /// What the finding is about: a reference's target as written, or the other file involved.
    public var target: String?
    /// The likely fix, when there is one ("did you mean ..."): an existing path, heading or rule.
    public var suggestion: String?

    public init(
        rule: RuleID, severity: Severity, path: String, line: Int? = nil, column: Int? = nil, message: String,
        target: String? = nil, suggestion: String? = nil
    ) {
        self.rule = rule
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.target = target
        self.suggestion = suggestion
    }

    /// Names the finding across edits that move it: rule, file and target, not the line. Without a
    /// target, the message stands in, digits dropped ("has 201 lines" and "has 230 lines" match).
    /// A baseline matches findings by it (as SARIF's `partialFingerprints` do).
    public var fingerprint: String {
        Self.fingerprint(rule: rule.rawValue, path: path, target: target, message: message)
    }

    /// The fingerprint of a finding given by its rule id as text: a baseline file may name a rule
    /// this build does not know (renamed, or added by a later version).
    static func fingerprint(rule: String, path: String, target: String?, message: String) -> String {
        ContentHash([rule, path, target ?? message.filter { !$0.isNumber }].joined(separator: "\u{0}")).hex
    }

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): \(severity.rawValue): \(message) [\(rule.rawValue)]"
    }
}
