import Foundation
import Synchronization

/// `ctxmem agents`: one agent with what it would start with.
public struct AgentSummary: Sendable, Codable, Equatable {
    public var profile: AgentProfile
    /// The profile's budget, or the default.
    public var budget: Int
    /// Tokens of the essential sections and the definition (what every pack for it starts with).
    public var essentialTokens: Int
    public var essentialSections: Int
    /// Problems in its definition (`invalid-agent`).
    public var findings: [Finding]
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
