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
        let depth = try configuration().importDepth
        let reader = try storage.reader()
        return try reader.snapshot {
            let documents = try reader.documents(kind: nil)
            let seeds = documents.filter { document in
                switch document.kind {
                case .claudeMD: DocumentKind.rootMemoryPaths.contains(document.path)
                case .rule: document.path.hasPrefix(".claude/rules/") && document.frontmatter?["paths"] == nil
                default: false
                }
            }.map(\.path)
            var imports: [String: [String]] = [:]
            for edge in try reader.referenceEdges(kinds: [.import], fromPaths: nil) {
                imports[edge.from, default: []].append(edge.to)
            }
            let loaded = Set(seeds).union(ImportGraph(imports: imports).closure(from: Set(seeds), limit: depth).keys)
            let files = documents.filter { loaded.contains($0.path) }.map {
                LaunchMemory.File(path: $0.path, tokens: $0.tokens)
            }
            return LaunchMemory(files: files, tokens: files.reduce(0) { $0 + $1.tokens })
        }
    }
}
