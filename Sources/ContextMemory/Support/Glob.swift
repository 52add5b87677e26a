/// A path glob as used in `.ctxmem.yaml`, `--path` filters and agent profiles.
///
/// Matching is on `/`-separated paths relative to the memory root:
/// - `*` matches any run of characters except `/`;
/// - `**` as a whole segment matches zero or more segments (`docs/**/*.md` matches `docs/a.md`);
/// - `?` matches one character except `/`;
/// - `[abc]`, `[a-z]` and `[!abc]` match one character of (or not of) a set;
/// - a pattern without `/` matches the last path component anywhere (`*.md`, `CLAUDE.md`);
/// - a pattern ending in `/` matches everything below that folder (`archive/`).
/// Matching is case-sensitive, as on Linux file systems.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    public let pattern: String
    private let segments: [Substring]
    private let matchesBasename: Bool

    public init(_ pattern: String) {
        var text = pattern
        if text.hasPrefix("./") { text.removeFirst(2) }
        if text.hasSuffix("/") { text += "**" }
        self.pattern = pattern
        matchesBasename = !text.contains("/")
        segments = text.split(separator: "/", omittingEmptySubsequences: true)
    }

    public var description: String { pattern }

    /// Whether `path` (relative to the root, `/`-separated) matches.
    public func matches(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        if matchesBasename {
            guard let last = parts.last, let only = segments.first else { return false }
            return only == "**" || Glob.matchSegment(Array(only.utf8), Array(last.utf8))
        }
        return Glob.match(segments[...], parts[...])
    }

    private static func match(_ pattern: ArraySlice<Substring>, _ path: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return path.isEmpty }
        if head == "**" {
            let rest = pattern.dropFirst()
            if rest.isEmpty { return true }
            var index = path.startIndex
            while index <= path.endIndex {
                if match(rest, path[index...]) { return true }
                index += 1
            }
            return false
        }
        guard let first = path.first, matchSegment(Array(head.utf8), Array(first.utf8)) else { return false }
        return match(pattern.dropFirst(), path.dropFirst())
    }

    /// Matches one path segment with `*`, `?` and `[...]`, iteratively with backtracking on `*`.
    static func matchSegment(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    starP = p; starT = t; p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1; t += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchClass(pattern, p, text[t]) {
                        if matched { p = next; t += 1; continue }
                    } else if text[t] == pattern[p] {
                        p += 1; t += 1; continue
                    }
                default:
                    if pattern[p] == text[t] { p += 1; t += 1; continue }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Returns whether `byte` is in the class starting at `start`, and the index after the class;
    /// nil when the bracket is not closed (then `[` is literal).
    private static func matchClass(_ pattern: [UInt8], _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.count, pattern[i] == UInt8(ascii: "!") || pattern[i] == UInt8(ascii: "^") {
            negate = true; i += 1
        }
        var matched = false
        var first = true
        while i < pattern.count {
            let c = pattern[i]
            if c == UInt8(ascii: "]") && !first { return (matched != negate, i + 1) }
            first = false
            if i + 2 < pattern.count, pattern[i + 1] == UInt8(ascii: "-"), pattern[i + 2] != UInt8(ascii: "]") {
                if byte >= c && byte <= pattern[i + 2] { matched = true }
                i += 3
            } else {
                if byte == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}
