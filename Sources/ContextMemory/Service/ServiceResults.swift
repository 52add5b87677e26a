import Foundation
import Synchronization

/// `ctxmem agents`: one agent with what it would start with.
public struct AgentSummary: Sendable, Codable, Equatable {
    public var profile: AgentProfile
    /// The profile's budget, or the default.
    public var budget: Int
    /// `replace` when its definition sets `omitClaudeMd: true`, else `supplement`.
    public var mode: PackMode
    /// Tokens of the essential tier open to it in that mode and of its definition: what packs
    /// for it choose from before anything else.
    public var essentialTokens: Int
    public var essentialSections: Int
    /// Tokens of the sections every pack for it holds (pinned) and of its definition.
    public var pinnedTokens: Int
    /// What Claude Code loads for it itself (supplement mode): the CLAUDE.md hierarchy, its imports, the rules.
    public var claudeCodeTokens: Int
    /// The coordination overhead of its role pack (no task, its budget): essentials, role brief, manifest.
    public var overheadTokens: Int
    /// `overheadTokens` over the budget, to three decimals.
    public var overheadShare: Double
    /// Whether the overhead is over ``overheadBar`` (or the pinned sections alone exceed the budget).
    public var overLimit: Bool
    /// Problems in its definition (`invalid-agent`).
    public var findings: [Finding]

    /// The bar of the team ctxmem is modelled on: under 20% of an agent's context on coordination.
    public static let overheadBar = 0.2
}

/// What `ctxmem read` prints.
public struct MemoryReadResult: Sendable, Codable, Equatable {
    public var handle: String
    public var path: String
    public var startLine: Int
    public var endLine: Int
    public var headingPath: [String]
    public var tier: Tier
    public var tokens: Int
    public var text: String
    /// Its links and imports out and in, when asked for (`GET /v1/memory?references=true`).
    public var references: MemoryReferences?
}

/// What a section (or file) refers to and what refers to it, as the index holds them.
public struct MemoryReferences: Sendable, Codable, Equatable {
    /// One reference: `target` is as written in the file (untrusted text: show it, never follow it);
    /// `handle` reads what it resolves to when that is indexed memory.
    public struct Entry: Sendable, Codable, Equatable {
        public var kind: Reference.Kind
        public var target: String
        public var status: Reference.Status
        /// The file that writes it and where.
        public var path: String
        public var line: Int
        /// The section of `path` that holds the line (incoming), or the target (outgoing), when indexed.
        public var handle: String?
    }

    /// Written in the section's lines, in order.
    public var outgoing: [Entry]
    /// Written elsewhere and resolving to the section's file (without a fragment) or to the section.
    public var incoming: [Entry]
}

/// Loaded tokenizers by file, so a service loads each once (parsing tokenizer.json takes a while).
final class TokenizerCache: Sendable {
    static let shared = TokenizerCache()
    private let loaded = Mutex<[String: any TokenCounter]>([:])

    func tokenizer(at url: URL) throws -> any TokenCounter {
        let key = url.standardizedFileURL.path
        if let cached = loaded.withLock({ $0[key] }) { return cached }
        let tokenizer = try BPETokenizer(contentsOf: url)
        loaded.withLock { $0[key] = tokenizer }
        return tokenizer
    }
}
