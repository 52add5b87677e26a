/// Why a file is memory: the kinds of ARCHITECTURE.md's "Memory files", decided from its path.
public enum DocumentKind: String, Codable, Sendable, CaseIterable {
    /// `CLAUDE.md`, `CLAUDE.local.md` or `.claude/CLAUDE.md`, at any depth.
    case claudeMD = "claude-md"
    /// `AGENTS.md` at any depth (Claude Code reads it only when imported).
    case agentsMD = "agents-md"
    /// `.claude/rules/**/*.md`.
    case rule
    /// `.claude/agents/**/*.md`: a sub-agent definition.
    case agent
    /// `.claude/skills/**/SKILL.md`.
    case skill
    /// Anything under `project_management/`.
    case projectManagement = "project-management"
    /// Matched by an `include` glob of `.ctxmem.yaml` or `--include`.
    case included
    /// Reached from a memory file by an `@import` or a relative link.
    case referenced

    /// The memory files Claude Code loads at launch from the project root itself (nested
    /// CLAUDE.md files load on demand, when Claude reads a file in their folder).
    public static let rootMemoryPaths: Set<String> = ["CLAUDE.md", "CLAUDE.local.md", ".claude/CLAUDE.md"]

    /// The spellings accepted on input, for messages.
    public static let choices = allCases.map(\.rawValue).joined(separator: "|")

    /// The kind a path has by itself, or nil when only an include glob or a reference makes it memory.
    public static func classify(_ path: String) -> DocumentKind? {
        // Runs for every file of the tree on every index run: look at the name first, split only
        // paths that go through a `.claude` folder.
        let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
        if name == "CLAUDE.md" || name == "CLAUDE.local.md" { return .claudeMD }
        if name == "AGENTS.md" { return .agentsMD }
        let isMarkdown = name.hasSuffix(".md")
        if path.hasPrefix(".claude/") || path.utf8Contains("/.claude/") {
            let parts = path.split(separator: "/")
            if let dot = parts.lastIndex(of: ".claude"), dot + 1 < parts.count - 1 {
                switch parts[dot + 1] {
                case "rules" where isMarkdown: return .rule
                case "agents" where isMarkdown: return .agent
                case "skills" where name == "SKILL.md": return .skill
                default: break
                }
            }
        }
        if path.hasPrefix("project_management/"), isMarkdown || MemoryFormats.isText(path) { return .projectManagement }
        return nil
    }

    /// Why Claude Code loads a file at launch by itself, or nil: the root memory files and the
    /// project's rules without `paths:` (what they import comes with them, within the depth limit).
    public static func launchReason(path: String, kind: DocumentKind, frontmatter: [String: JSONValue]?) -> String? {
        switch kind {
        case .claudeMD where rootMemoryPaths.contains(path): "root memory file"
        case .rule where path.hasPrefix(".claude/rules/") && frontmatter?["paths"] == nil: "rule loaded at launch"
        default: nil
        }
    }

    /// Whether Claude Code expands `@imports` in this kind of file when it loads it.
    var evaluatesImports: Bool {
        self == .claudeMD || self == .rule
    }
}

/// Which files are read as text, and how.
enum MemoryFormats {
    static let markdown: Set<String> = ["md", "markdown", "mdx", "mdc"]
    static let html: Set<String> = ["html", "htm", "xhtml"]
    static let xml: Set<String> = ["xml"]
    static let plain: Set<String> = ["txt", "text", "rst", "adoc"]

    static func isText(_ path: String) -> Bool {
        let ext = RelativePath.fileExtension(path)
        return markdown.contains(ext) || html.contains(ext) || xml.contains(ext) || plain.contains(ext)
    }

    static func format(of path: String) -> DocumentFormat {
        let ext = RelativePath.fileExtension(path)
        if html.contains(ext) { return .html }
        if xml.contains(ext) { return .xml }
        if plain.contains(ext) { return .text }
        return .markdown
    }
}

/// How a memory file is written, which decides its parser.
public enum DocumentFormat: String, Codable, Sendable {
    case markdown, html, xml, text
}
