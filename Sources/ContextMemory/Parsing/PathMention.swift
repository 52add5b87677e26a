import Foundation

/// Decides whether code-span text names a file or folder (`netbox_hedgehog/models.py`, `docs/`).
enum PathMention {
    static let fileExtensions: Set<String> = [
        "md", "markdown", "mdx", "txt", "rst", "adoc", "html", "htm", "xml", "json", "yaml", "yml", "toml", "ini",
        "cfg", "conf", "env", "py", "pyi", "ts", "tsx", "js", "jsx", "mjs", "cjs", "swift", "go", "rs", "rb", "java",
        "kt", "c", "h", "cc", "cpp", "hpp", "cs", "php", "sh", "bash", "zsh", "ps1", "sql", "proto", "graphql",
        "css", "scss", "vue", "svelte", "lock", "csv", "tf", "hcl", "dockerfile", "gradle", "xsd", "ipynb",
    ]

    static func looksLikePath(_ text: String) -> Bool {
        // Most code spans are code, not paths: a quick byte test before the Unicode checks.
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "/")) || utf8.contains(UInt8(ascii: ".")),
            !utf8.contains(UInt8(ascii: " ")), !utf8.contains(UInt8(ascii: ":"))
        else { return false }
        guard (2...200).contains(text.count), !text.hasPrefix("/"), !text.hasPrefix("~"), !text.hasPrefix("-"),
            !text.hasPrefix("."), text != "..", !text.contains("//")
        else {
            if text.hasPrefix("./") || text.hasPrefix("../") { return looksLikeRelative(text) }
            return false
        }
        return looksLikeRelative(text)
    }

    private static func looksLikeRelative(_ text: String) -> Bool {
        let allowed = text.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || $0.properties.numericType != nil || "._-/@+".unicodeScalars.contains($0))
        }
        guard allowed, text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) else { return false }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        let hasFolder = segments.count > 1 && segments.dropLast().allSatisfy { !$0.isEmpty }
        let ext = RelativePath.fileExtension(text)
        if hasFolder {
            // `a/b` alone is often prose ("and/or"); want an extension or a trailing slash or depth.
            return fileExtensions.contains(ext) || text.hasSuffix("/") || segments.count > 2
        }
        return fileExtensions.contains(ext) && !text.hasSuffix(".") && ext != text.lowercased()
    }
}
