import Foundation

/// `memory://PATH#slug`: a stable name for a file or a section of it.
public enum MemoryHandle {
    public static let scheme = "memory://"

    public static func make(path: String, slug: String) -> String {
        // Most paths are plain ASCII that needs no escaping: skip Foundation for them.
        let plain = path.utf8.allSatisfy { $0 < 0x80 && plainASCII[Int($0)] }
        let encodedPath = plain ? path : path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return scheme + encodedPath + (slug.isEmpty ? "" : "#" + slug)
    }

    /// ASCII bytes `allowed` keeps as they are (letters, digits, `-._~/` and the like).
    private static let plainASCII: [Bool] = (0..<128).map { code in
        let scalar = Unicode.Scalar(UInt8(code))
        return allowed.contains(scalar) && scalar != " "
    }

    private static let allowed: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.remove(charactersIn: "#?%")
        return set
    }()
}

public enum ReadError: Error, CustomStringConvertible, Equatable {
    case invalidHandle(String, reason: String)
    case notFound(handle: String, suggestion: String?)

    public var description: String {
        switch self {
        case .invalidHandle(let handle, let reason):
            "invalid handle '\(handle)': \(reason) (a handle looks like memory://path/to/file.md#heading-slug)"
        case .notFound(let handle, let suggestion):
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
        guard handle.utf8.count <= maxLength else {
            throw ReadError.invalidHandle(String(handle.prefix(80)) + "…", reason: "longer than \(maxLength) bytes")
        }
        guard handle.hasPrefix(scheme) else {
            throw ReadError.invalidHandle(handle, reason: "it does not start with \(scheme)")
        }
        let rest = handle.dropFirst(scheme.count)
        let hash = rest.firstIndex(of: "#")
        let rawPath = String(hash.map { rest[..<$0] } ?? rest)
        let slug = hash.map { String(rest[rest.index(after: $0)...]) }
        guard let decoded = rawPath.removingPercentEncoding else {
            throw ReadError.invalidHandle(handle, reason: "bad percent-encoding")
        }
        guard !decoded.isEmpty else { throw ReadError.invalidHandle(handle, reason: "no path") }
        guard !decoded.hasPrefix("/"), !decoded.hasPrefix("~"), !decoded.contains("\0") else {
            throw ReadError.invalidHandle(handle, reason: "the path must be relative to the memory root")
        }
        guard let path = RelativePath.normalize(decoded), !path.isEmpty,
            path.split(separator: "/").allSatisfy({ $0 != ".." })
        else {
            throw ReadError.invalidHandle(handle, reason: "the path leaves the memory root")
        }
        let cleanSlug = slug.flatMap { $0.removingPercentEncoding ?? $0 }
        return (path, cleanSlug?.isEmpty == true ? nil : cleanSlug)
    }
}
