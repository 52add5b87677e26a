import Foundation

/// The audit's rules: each has a stable id, a default severity and an entry in docs/audit-rules.md.
public enum AuditRule: String, CaseIterable, Codable, Sendable, Comparable {
    case brokenImport = "broken-import"
    case importDirectory = "import-directory"
    case importCycle = "import-cycle"
    case importTooDeep = "import-too-deep"
    case importOutsideRoot = "import-outside-root"
    case brokenLink = "broken-link"
    case brokenAnchor = "broken-anchor"
    case caseMismatch = "case-mismatch"
    case missingPath = "missing-path"
    case staleReference = "stale-reference"
    case orphanDocument = "orphan-document"
    case duplicateContent = "duplicate-content"
    case oversizedMemory = "oversized-memory"
    case invalidFrontmatter = "invalid-frontmatter"
    case invalidAgent = "invalid-agent"
    case secretInMemory = "secret-in-memory"

    public static func < (lhs: AuditRule, rhs: AuditRule) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Errors mislead an agent for certain (it loads or follows nothing); warnings probably do;
    /// infos are worth a look. Findings recorded while indexing (invalid-frontmatter, invalid-agent)
    /// keep the severity the parser gave them: a misspelt agent name is only a warning.
    public var defaultSeverity: Finding.Severity {
        switch self {
        case .brokenImport, .importDirectory, .brokenLink, .caseMismatch, .invalidAgent, .secretInMemory: .error
        case .importCycle, .importTooDeep, .importOutsideRoot, .brokenAnchor, .missingPath, .oversizedMemory,
             .invalidFrontmatter: .warning
        case .staleReference, .orphanDocument, .duplicateContent: .info
        }
    }

    /// One line for `--help`, SARIF's `shortDescription` and the text report's legend.
    public var summary: String {
        switch self {
        case .brokenImport: "An @import names a file that does not exist: Claude Code drops it without a word."
        case .importDirectory: "An @import names a folder: Claude Code imports files only, so it loads nothing."
        case .importCycle: "Imports lead back to a file already being imported."
        case .importTooDeep: "An @import lies past the import depth limit (4 hops by default): Claude Code stops before it."
        case .importOutsideRoot: "An @import resolves outside the memory root: Claude Code asks for approval, ctxmem cannot check it."
        case .brokenLink: "A relative link or image points at a path that does not exist."
        case .brokenAnchor: "A link's #fragment names no heading, {#id} or HTML id of its target."
        case .caseMismatch: "A link or import resolves only when letter case is ignored: broken on Linux."
        case .missingPath: "A path in a code span exists nowhere in the root."
        case .staleReference: "The target changed after the document that refers to it was last changed."
        case .orphanDocument: "A project_management document that no memory entry point reaches."
        case .duplicateContent: "The same non-trivial section appears in several files."
        case .oversizedMemory: "A CLAUDE.md over 200 lines, or an agent whose essential tier exceeds its budget."
        case .invalidFrontmatter: "Frontmatter that is not valid YAML (the file is indexed without it)."
        case .invalidAgent: "An agent definition that Claude Code or ctxmem cannot use as written."
        case .secretInMemory: "A credential in a memory file: redacted in every output, and to be removed and revoked."
        }
    }

    /// Where docs/audit-rules.md explains the rule.
    public var documentationAnchor: String { "docs/audit-rules.md#\(rawValue)" }

    /// The rule an id names; nil for an unknown id.
    public init?(id: String) {
        self.init(rawValue: id.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
