public import Foundation

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
