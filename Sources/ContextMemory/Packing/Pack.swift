/// A pack: the text to hand to a new agent, and what went into it.
public struct Pack: Sendable {
    /// The rendered pack, exactly `manifest.tokens` tokens by the counter in force.
    public var text: String
    public var manifest: PackManifest
    /// Every candidate considered and what became of it (for `--explain`).
    public var explanation: [PackDecision]
}

/// The pack's own account of itself; rendered inside the pack and counted against the budget.
public struct PackManifest: Sendable, Codable, Equatable {
    /// A hash of the inputs and of every included section's content: same index state and inputs,
    /// same id.
    public var packId: String
    public var agent: String?
    public var task: String?
    public var format: PackFormat
    /// `replace` (the pack is the agent's whole project memory) or `supplement` (Claude Code loads
    /// its launch memory itself and the pack leaves it out).
    public var mode: PackMode
    public var budget: Int
    /// Tokens of the whole rendered pack, manifest included.
    public var tokens: Int
    public var counter: String
    public var modelFactor: Double
    public var safetyMargin: Double
    /// Tokens of included content by tier (the section text, trimmed where trimmed).
    public var tokensByTier: [String: Int]
    public var pointerTokens: Int
    public var documents: Int
    public var sections: Int
    /// Sections included partially, with what was kept.
    public var trimmed: [Trim]
    /// Relevant sections left out, by tier (the best of them are in the pointers).
    public var leftOut: [String: Int]
    public var duplicatesSkipped: Int
    /// What the pack spends on coordination rather than on the task.
    public var overhead: Overhead
    /// Files left out because Claude Code loads them itself (supplement mode), sorted by path.
    public var loadedByClaudeCode: LoadedByClaudeCode

    /// Coordination overhead: the essential sections, the role brief and the manifest (with the
    /// pack's wrappers) and, when the pack supplements Claude Code, the launch memory Claude Code
    /// loads itself (the agent carries it too), against the budget.
    public struct Overhead: Sendable, Codable, Equatable {
        public var tokens: Int
        /// `tokens` over the budget, to three decimals.
        public var share: Double
        /// The share the essential tier may fill (`context.essential_share`, else `.ctxmem.yaml`, else 0.2).
        public var limit: Double
        /// Of `tokens`: the essential sections' text.
        public var essentialTokens: Int
        /// Of `tokens`: the role brief, the manifest and the wrappers around them.
        public var fixedTokens: Int
        /// Of `tokens`: what Claude Code loads itself (supplement mode), as indexed.
        public var claudeCodeTokens: Int

        public init(essentialTokens: Int, fixedTokens: Int, claudeCodeTokens: Int, budget: Int, limit: Double) {
            tokens = essentialTokens + fixedTokens + claudeCodeTokens
            share = Self.share(tokens, of: budget)
            self.limit = limit
            self.essentialTokens = essentialTokens
            self.fixedTokens = fixedTokens
            self.claudeCodeTokens = claudeCodeTokens
        }

        /// `tokens` over `budget`, to three decimals.
        public static func share(_ tokens: Int, of budget: Int) -> Double {
            (Double(tokens) / Double(max(1, budget)) * 1000).rounded() / 1000
        }
    }

    /// What Claude Code loads at launch by itself and a supplementing pack therefore leaves out.
    public struct LoadedByClaudeCode: Sendable, Codable, Equatable {
        public var files: [String]
        /// The files' tokens as indexed: what the agent has before the pack.
        public var tokens: Int
        /// Each file's share of `tokens` (not in the manifest's JSON: the files and the total say enough).
        public var tokensByFile: [String: Int] = [:]

        enum CodingKeys: String, CodingKey { case files, tokens }

        public static let none = LoadedByClaudeCode(files: [], tokens: 0)
    }

    public struct Trim: Sendable, Codable, Equatable {
        public var handle: String
        public var keptTokens: Int
        public var fullTokens: Int
    }
}

/// One section in the pack, or a run of consecutive sections of one document and tier (then the
/// handle and heading path are the first section's and the lines span the run).
public struct PackedSection: Sendable, Equatable {
    public var handle: String
    public var path: String
    public var startLine: Int
    public var endLine: Int
    public var headingPath: [String]
    public var tier: Tier
    /// The text emitted: the section's, or its first blocks when trimmed (the marker is added by the renderer).
    public var text: String
    public var trimmed: Bool
    public var fullTokens: Int
    /// How many index sections this passage holds.
    public var sectionCount: Int
    /// Tokens of `text` by the pack's counter (for the manifest).
    public var textTokens: Int
    /// What the pack id hashes for this passage's content: its sections' indexed content hashes,
    /// combined in order, or its text's hash when trimmed (cheaper than hashing every render's text).
    var digest: UInt64 = 0
}

/// The sections of one file, in document order.
public struct PackedDocument: Sendable, Equatable {
    public var path: String
    public var kind: DocumentKind
    public var sections: [PackedSection]
}

/// A section that is relevant but not included: the agent can read it through its handle.
public struct PackPointer: Sendable, Equatable, Codable {
    public var handle: String
    public var title: String
    public var tier: Tier
    public var tokens: Int
}

/// The agent's own definition, emitted last with the task.
public struct RoleBrief: Sendable, Equatable {
    public var name: String
    public var description: String
    public var path: String
    public var text: String
}

/// Everything a renderer needs.
public struct PackContent: Sendable {
    public var manifest: PackManifest
    public var documents: [PackedDocument]
    public var pointers: [PackPointer]
    /// Relevant sections beyond the listed pointers.
    public var unlistedPointers: Int
    public var role: RoleBrief?
    public var task: String?
}

/// What happened to one candidate, for `--explain`.
public struct PackDecision: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case included, trimmed, pointer
        case leftOut = "left-out"
        case duplicate, excluded
    }

    public var handle: String
    public var tier: Tier
    public var tokens: Int
    public var score: Double
    public var outcome: Outcome
    public var reason: String
}
