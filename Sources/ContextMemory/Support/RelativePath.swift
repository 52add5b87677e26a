/// Lexical path arithmetic on `/`-separated paths relative to the memory root.
///
/// Nothing here touches the file system: resolving `../x.md` against `docs/a.md` is pure string
/// work, and a result that climbs above the root is reported as `nil` so callers can record it as
/// outside the root instead of reading it.
public enum RelativePath {
    /// The folder part of `path` ("" for a file at the root).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// The last component of `path`.
    public static func basename(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// Joins `relative` onto `base` and normalises `.` and `..`; nil when the result leaves the root.
    public static func resolve(_ relative: String, against base: String) -> String? {
        let joined = base.isEmpty ? relative : base + "/" + relative
        return normalize(joined)
    }

    /// Removes `.`, empty components and `..`; nil when `..` climbs above the start.
    public static func normalize(_ path: String) -> String? {
        if isNormal(path) { return path }  // the common case, without allocating
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Whether no component is empty, `.` or `..` (so `normalize` would return it unchanged).
    static func isNormal(_ path: String) -> Bool {
        var length = 0  // bytes in the current component
        var dots = 0  // of which leading dots
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") {
                if length == 0 || (length == dots && dots <= 2) { return false }
                length = 0
                dots = 0
            } else {
                if byte == UInt8(ascii: "."), dots == length { dots += 1 }
                length += 1
            }
        }
        return length > 0 && !(length == dots && dots <= 2)
    }

    /// How a file in `directory` writes a relative path to `path` (`../b/c.md`); both relative to the root.
    public static func relative(_ path: String, from directory: String) -> String {
        let from = directory.split(separator: "/")
        let to = path.split(separator: "/")
        var common = 0
        while common < from.count, common < to.count - 1, from[common] == to[common] { common += 1 }
        let up = Array(repeating: "..", count: from.count - common)
        return (up + to[common...].map(String.init)).joined(separator: "/")
    }

    /// The lowercased extension of the last component, without the dot ("" when none).
    public static func fileExtension(_ path: String) -> String {
        let name = basename(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return name[name.index(after: dot)...].lowercased()
    }
}
