public import Foundation
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

public enum ReadError: Error, CustomStringConvertible, Equatable {
    case invalidHandle(String, reason: String)
    case notFound(handle: String, suggestion: String?)

    public var description: String {
        switch self {
        case let .invalidHandle(handle, reason):
            "invalid handle '\(handle)': \(reason) (a handle looks like memory://path/to/file.md#heading-slug)"
        case let .notFound(handle, suggestion):
            "nothing in the index at \(handle)" + (suggestion.map { "; did you mean \($0)?" } ?? "")
                + " (`ctxmem search` finds handles; re-run `ctxmem index` if the file is new)"
        }
    }
}

extension MemoryHandle {
    public static let maxLength = 2_048

    /// Splits a handle into its normalised root-relative path and its slug. Anything that is not a
    /// plain path inside the root (`..`, an absolute path, NUL) is rejected before any lookup.
    public static func parse(_ handle: String) throws -> (path: String, slug: String?) {
        guard handle.utf8.count <= maxLength else { throw ReadError.invalidHandle(String(handle.prefix(80)) + "…", reason: "longer than \(maxLength) bytes") }
        guard handle.hasPrefix(scheme) else { throw ReadError.invalidHandle(handle, reason: "it does not start with \(scheme)") }
        let rest = handle.dropFirst(scheme.count)
        let hash = rest.firstIndex(of: "#")
        let rawPath = String(hash.map { rest[..<$0] } ?? rest)
        let slug = hash.map { String(rest[rest.index(after: $0)...]) }
        guard let decoded = rawPath.removingPercentEncoding else { throw ReadError.invalidHandle(handle, reason: "bad percent-encoding") }
        guard !decoded.isEmpty else { throw ReadError.invalidHandle(handle, reason: "no path") }
        guard !decoded.hasPrefix("/"), !decoded.hasPrefix("~"), !decoded.contains("\0") else {
            throw ReadError.invalidHandle(handle, reason: "the path must be relative to the memory root")
        }
        guard let path = RelativePath.normalize(decoded), !path.isEmpty, path.split(separator: "/").allSatisfy({ $0 != ".." }) else {
            throw ReadError.invalidHandle(handle, reason: "the path leaves the memory root")
        }
        let cleanSlug = slug.flatMap { $0.removingPercentEncoding ?? $0 }
        return (path, cleanSlug?.isEmpty == true ? nil : cleanSlug)
    }
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
