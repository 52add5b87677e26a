import Foundation

/// Names a kind of ``Finding``: the index's (`invalid-utf8`) and the audit's (`broken-link`) in
/// one catalogue, each declared once with its severity and summary. The raw value is the id that
/// JSON, SARIF, the text report, the index's `findings` table, `--rule` and
/// `<!-- ctxmem-ignore RULE -->` comments carry.
///
/// An enum rather than an open string, because every id is known when ctxmem is built: a misspelt
/// id does not compile, and an id read back from the index that this build does not know is an
/// error (`StoredValue`), never a finding of no rule. Ids a user writes (`--rule`, ignore
/// comments, a baseline file) stay strings until matched against ``rawValue``, so an unknown one
/// is refused with a suggestion (`--rule`) or matches nothing (comments, baselines).
///
/// Not `Comparable`: reports list rules in catalogue order (``auditRules``) but sort findings by
/// id text, and an order on the type would hide which of the two a comparison meant.
public enum RuleID: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    // The audit's rules, in the order it lists them (`--list-rules`, JSON and SARIF reports).
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
    case handoffFolderSize = "handoff-folder-size"
    case handoffCut = "handoff-cut"
    case invalidFrontmatter = "invalid-frontmatter"
    case invalidAgent = "invalid-agent"
    case secretInMemory = "secret-in-memory"

    // Recorded while indexing and shown by `ctxmem index` only.
    case invalidUTF8 = "invalid-utf8"
    case invalidUTF16 = "invalid-utf16"
    case binaryFile = "binary-file"
    case fileTooLarge = "file-too-large"
    case unreadable = "unreadable"
    case notRegularFile = "not-a-regular-file"
    case brokenSymlink = "broken-symlink"
    case symlinkLoop = "symlink-loop"
    case symlinkOutsideRoot = "symlink-outside-root"
    case invalidMarker = "invalid-marker"

    /// The id: a rule is interpolated into messages as users write it.
    public var description: String { rawValue }

    /// What the catalogue says of a rule; one switch, so a new rule cannot miss any of it.
    private var entry: (audited: Bool, severity: Finding.Severity, summary: String) {
        switch self {
        case .brokenImport:
            (true, .error, "An @import names a file that does not exist: Claude Code drops it without a word.")
        case .importDirectory:
            (true, .error, "An @import names a folder: Claude Code imports files only, so it loads nothing.")
        case .importCycle:
            (true, .warning, "Imports lead back to a file already being imported.")
        case .importTooDeep:
            (
                true, .warning,
                "An @import lies past the import depth limit (4 hops by default): Claude Code stops before it."
            )
        case .importOutsideRoot:
            (
                true, .warning,
                "An @import resolves outside the memory root: Claude Code asks for approval, ctxmem cannot check it."
            )
        case .brokenLink:
            (true, .error, "A relative link or image points at a path that does not exist.")
        case .brokenAnchor:
            (true, .warning, "A link's #fragment names no heading, {#id} or HTML id of its target.")
        case .caseMismatch:
            (true, .error, "A link or import resolves only when letter case is ignored: broken on Linux.")
        case .missingPath:
            (true, .warning, "A path in a code span exists nowhere in the root.")
        case .staleReference:
            (true, .info, "The target changed after the document that refers to it was last changed.")
        case .orphanDocument:
            (true, .info, "A project_management document that no memory entry point reaches.")
        case .duplicateContent:
            (true, .info, "The same non-trivial section appears in several files.")
        case .oversizedMemory:
            (true, .warning, "A CLAUDE.md over 200 lines, or an agent whose essential tier exceeds its budget.")
        case .handoffFolderSize:
            (
                true, .warning,
                "The handoff folder has grown past handoffs.max_folder_bytes: prune old reports (ctxmem handoffs prune)."
            )
        case .handoffCut:
            (true, .info, "A sub-agent's report was cut to handoffs.max_report_bytes when it was kept.")
        // Recorded while indexing and reported by the audit with the severity the parser gave
        // them: a misspelt agent name is only a warning.
        case .invalidFrontmatter:
            (true, .warning, "Frontmatter that is not valid YAML (the file is indexed without it).")
        case .invalidAgent:
            (true, .error, "An agent definition that Claude Code or ctxmem cannot use as written.")
        case .secretInMemory:
            (
                true, .error,
                "A credential in a memory file: redacted in every output, and to be removed and revoked."
            )
        case .invalidUTF8:
            (false, .warning, "A file that is not valid UTF-8: indexed, decoded with U+FFFD.")
        case .invalidUTF16:
            (
                false, .warning,
                "A UTF-16 file with an unpaired surrogate or an odd last byte: indexed, decoded with U+FFFD."
            )
        case .binaryFile:
            (false, .warning, "A file with NUL bytes near its start: not indexed.")
        case .fileTooLarge:
            (false, .warning, "A file over max_file_size: not read, not indexed.")
        case .unreadable:
            (false, .warning, "A file or folder that cannot be opened.")
        case .notRegularFile:
            (false, .warning, "A FIFO, socket or device that memory reaches: never opened, not indexed.")
        case .brokenSymlink:
            (false, .warning, "A symlink to nothing.")
        case .symlinkLoop:
            (false, .warning, "A symlink whose chain loops, or a folder reached a second time: not followed.")
        case .symlinkOutsideRoot:
            (false, .warning, "A symlink that leaves the memory root: never read.")
        case .invalidMarker:
            (false, .warning, "A tier marker with an unknown tier, or not right before a heading.")
        }
    }

    /// Whether `ctxmem audit` reports the rule (and `--rule` may name it).
    public var isAuditRule: Bool { entry.audited }

    /// The audit's rules, in catalogue order.
    public static let auditRules: [RuleID] = allCases.filter(\.isAuditRule)

    /// Errors mislead an agent for certain (it loads or follows nothing); warnings probably do;
    /// infos are worth a look. Findings recorded while indexing carry the severity their source
    /// gave them; this is the one they usually have.
    public var defaultSeverity: Finding.Severity { entry.severity }

    /// One line for `--list-rules`, SARIF's `shortDescription` and the text report's legend.
    public var summary: String { entry.summary }

    /// Where the documentation explains the rule.
    public var documentationAnchor: String {
        isAuditRule ? "docs/audit-rules.md#\(rawValue)" : "docs/indexing.md#findings"
    }

    /// The audit rule an id names (as typed: surrounding spaces and letter case do not matter);
    /// nil for an unknown id or one the audit does not report.
    public init?(auditRule id: String) {
        guard let rule = RuleID(rawValue: id.trimmingCharacters(in: .whitespaces).lowercased()), rule.isAuditRule
        else { return nil }
        self = rule
    }
}
