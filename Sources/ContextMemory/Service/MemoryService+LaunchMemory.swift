import Foundation

/// What Claude Code loads from a project at launch, before any task: every session and, unless
/// its definition says `omitClaudeMd: true`, every sub-agent starts with it.
public struct LaunchMemory: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        public var path: String
        /// Stored tokens of the whole file.
        public var tokens: Int
    }

    /// The root CLAUDE.md files, the rules without `paths:`, and what they import, in path order.
    public var files: [File]
    public var tokens: Int
}

extension MemoryService {
    /// The project's launch load from the index: the root memory files
    /// (``DocumentKind/rootMemoryPaths``), the `.claude/rules` without `paths:` frontmatter (those
    /// load at launch; the others when a matching file is read), and every file they `@import`
    /// within the configuration's import depth (Claude Code expands imports in what it loads).
    /// Nested CLAUDE.md files are left out: Claude Code loads them on demand.
    ///
    /// `ctxmem init` compares it with each agent's budget: an agent whose pack holds what it needs
    /// gains the most from `omitClaudeMd: true` when this load is large.
    /// - Throws: ``IndexError`` (no index), ``ConfigurationError``.
    public func launchMemory() throws -> LaunchMemory {
        let parts = try packBuilderParts()
        let loaded = try parts.builder(reading: storage.reader()).essentials(for: nil, withBodies: false)
            .loadedByClaudeCode
        let files = loaded.files.map { LaunchMemory.File(path: $0, tokens: loaded.tokensByFile[$0] ?? 0) }
        return LaunchMemory(files: files, tokens: loaded.tokens)
    }
}
