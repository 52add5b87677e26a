import Foundation

/// Turns a target as written into a reference status and a path relative to the root, by the
/// rules of the syntax that wrote it. Pure string work: existence is checked by the indexer.
struct ReferenceResolver: Sendable {
    /// Path of the referencing file, relative to the root.
    let documentPath: String
    /// Absolute path of the root, without a trailing slash, to recognise absolute paths inside it.
    let rootPath: String

    private var directory: String { RelativePath.directory(of: documentPath) }

    /// An `@import` target as Claude Code reads it: fragment dropped, `\ ` unescaped, `~/` is home,
    /// `/...` absolute, anything else relative to the importing file's folder.
    func resolveImport(_ written: String) -> (path: String?, fragment: String?, status: Reference.Status) {
        var target = written
        var fragment: String?
        if let hash = target.firstIndex(of: "#") {
            fragment = String(target[target.index(after: hash)...])
            target = String(target[..<hash])
        }
        if target.utf8.contains(UInt8(ascii: "\\")) { target = target.replacingOccurrences(of: "\\ ", with: " ") }
        if target.hasPrefix("~/") || target == "~" { return (nil, fragment, .home) }
        if target.hasPrefix("/") {
            return (absoluteInsideRoot(target), fragment, absoluteInsideRoot(target) == nil ? .outsideRoot : .inRoot)
        }
        guard let resolved = RelativePath.resolve(target, against: directory) else {
            return (nil, fragment, .outsideRoot)
        }
        return (resolved, fragment, .inRoot)
    }

    /// A Markdown link destination: URLs with a scheme are external, `#x` is an anchor in this
    /// file, `/x` is relative to the root (as GitHub renders it), the rest relative to this file.
    func resolveLink(_ written: String) -> (path: String?, fragment: String?, status: Reference.Status, isAnchor: Bool)
    {
        if Self.hasScheme(written) || written.hasPrefix("//") { return (nil, nil, .external, false) }
        var target = written
        var fragment: String?
        if let hash = target.firstIndex(of: "#") {
            fragment = Self.percentDecoded(String(target[target.index(after: hash)...]))
            target = String(target[..<hash])
        }
        if let query = target.firstIndex(of: "?") { target = String(target[..<query]) }
        target = Self.percentDecoded(target)
        if target.isEmpty { return (documentPath, fragment, .inRoot, true) }
        if target.hasPrefix("~/") { return (nil, fragment, .home, false) }
        let resolved =
            target.hasPrefix("/")
            ? RelativePath.normalize(target)
            : RelativePath.resolve(target, against: directory)
        guard let resolved else { return (nil, fragment, .outsideRoot, false) }
        return (resolved, fragment, .inRoot, false)
    }

    /// A path written in a code span: `./x` and `../x` relative to this file, others relative to
    /// the root (how people write repository paths); absolute and home paths are not followed.
    func resolveMention(_ written: String) -> String? {
        if written.hasPrefix("./") || written.hasPrefix("../") {
            return RelativePath.resolve(written, against: directory)
        }
        return RelativePath.normalize(written)
    }

    private func absoluteInsideRoot(_ path: String) -> String? {
        guard let normalized = RelativePath.normalize(path) else { return nil }
        let root = RelativePath.normalize(rootPath) ?? ""
        if normalized == root { return "" }
        guard normalized.hasPrefix(root + "/") else { return nil }
        return String(normalized.dropFirst(root.count + 1))
    }

    /// `%20` and friends decoded; Foundation is called only when there is a `%`.
    static func percentDecoded(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        return text.removingPercentEncoding ?? text
    }

    /// `https:`, `mailto:`, `vscode:` ... (RFC 3986 scheme followed by a colon).
    static func hasScheme(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter, scheme.count >= 2 else { return false }
        return scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
    }
}
