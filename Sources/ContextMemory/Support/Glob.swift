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
    /// The pattern's `/`-separated segments as bytes, split once (matching runs per file and per
    /// section, so it allocates nothing per segment).
    private let segments: [[UInt8]]
    private let matchesBasename: Bool
    private static let anySegments: [UInt8] = Array("**".utf8)
    private let hasAnySegments: Bool

    public init(_ pattern: String) {
        var text = pattern
        if text.hasPrefix("./") { text.removeFirst(2) }
        if text.hasSuffix("/") { text += "**" }
        self.pattern = pattern
        matchesBasename = !text.contains("/")
        segments = text.split(separator: "/", omittingEmptySubsequences: true).map { Array($0.utf8) }
        hasAnySegments = segments.contains(Self.anySegments)
    }

    public var description: String { pattern }

    /// Whether `path` (relative to the root, `/`-separated) matches.
    public func matches(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { bytes in
            // The path's segments as ranges of its bytes (empty segments dropped, as `split` does).
            var parts: [Range<Int>] = []
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                if index > start { parts.append(start..<index) }
                start = index + 1
            }
            if matchesBasename {
                guard let last = parts.last, let only = segments.first else { return false }
                return only == Self.anySegments || Self.matchSegment(only, UnsafeBufferPointer(rebasing: bytes[last]))
            }
            return match(parts, in: bytes)
        }
    }

    /// Matches the path's parts against the segments as a set of reachable positions, one part at
    /// a time: linear in parts times segments. (Trying every split for every `**` was exponential
    /// in their number: `**/**/**/...zz` from a search's `path` filter never finished.)
    private func match(_ parts: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard hasAnySegments else {
            guard parts.count == segments.count else { return false }
            for (segment, part) in zip(segments, parts)
            where !Self.matchSegment(segment, UnsafeBufferPointer(rebasing: bytes[part])) { return false }
            return true
        }
        // reachable[s]: the parts read so far are matched by segments[..<s].
        var reachable = [Bool](repeating: false, count: segments.count + 1)
        var next = reachable
        reachable[0] = true
        skipAnySegments(&reachable)
        for part in parts {
            for index in next.indices { next[index] = false }
            var any = false
            for segment in segments.indices where reachable[segment] {
                if segments[segment] == Self.anySegments {
                    next[segment] = true  // `**` takes this part too
                    any = true
                } else if Self.matchSegment(segments[segment], UnsafeBufferPointer(rebasing: bytes[part])) {
                    next[segment + 1] = true
                    any = true
                }
            }
            guard any else { return false }
            skipAnySegments(&next)
            swap(&reachable, &next)
        }
        return reachable[segments.count]
    }

    /// `**` also matches no part at all: what reaches it reaches the segment after it.
    private func skipAnySegments(_ reachable: inout [Bool]) {
        for segment in segments.indices where reachable[segment] && segments[segment] == Self.anySegments {
            reachable[segment + 1] = true
        }
    }

    static func matchSegment(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        text.withUnsafeBufferPointer { matchSegment(pattern, $0) }
    }

    /// Matches one path segment with `*`, `?` and `[...]`, iteratively with backtracking on `*`.
    static func matchSegment(_ pattern: [UInt8], _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    starP = p
                    starT = t
                    p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    t += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, next) = matchClass(pattern, p, text[t]) {
                        if matched {
                            p = next
                            t += 1
                            continue
                        }
                    } else if text[t] == pattern[p] {
                        p += 1
                        t += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] {
                        p += 1
                        t += 1
                        continue
                    }
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
            negate = true
            i += 1
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
