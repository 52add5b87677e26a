/// Files that hold credentials by convention. They are never read, whatever reaches them: an
/// `@import`, a link, an `include` glob. An import of one would put its secrets into every
/// Claude Code session, so reaching one is a `secret-in-memory` error.
///
/// The list (docs/security.md shows it): `.env` and `.env.*` (but `.env.example`, `.env.sample`
/// and `.env.template` are read), SSH keys (`id_rsa`, `id_dsa`, `id_ecdsa`, `id_ed25519`, with
/// or without `.pub`'s private twin), `*.pem`, `*.key`, `*.p12`, `*.pfx`, `*.jks`, `*.keystore`,
/// `*.kdbx`, `.netrc`, `.npmrc`, `.pypirc`, `.pgpass`, `.git-credentials`, `.htpasswd`,
/// `credentials` and `credentials.json`, `*.tfstate`, and any name containing `.token`,
/// `secret` or `password` as a word of the file name.
enum CredentialFiles {
    static let exactNames: Set<String> = [
        ".env", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".netrc", "_netrc", ".npmrc", ".pypirc", ".pgpass",
        ".git-credentials", ".htpasswd", "credentials", "credentials.json", ".dockercfg",
    ]
    static let extensions: Set<String> = [
        "pem", "key", "p12", "pfx", "jks", "keystore", "kdbx", "tfstate", "ppk", "gpg", "asc",
    ]
    static let harmlessEnvSuffixes: Set<String> = ["example", "sample", "template", "dist", "defaults"]
    static let nameWords: [String] = [".token", "secret", "password", "passwd"]

    /// Whether `path` (root-relative) names a credential file.
    static func matches(_ path: String) -> Bool {
        let name = String(path.split(separator: "/").last ?? "").lowercased()
        if exactNames.contains(name) { return true }
        if name.hasPrefix(".env.") {
            return !harmlessEnvSuffixes.contains(String(name.dropFirst(".env.".count)))
        }
        if let dot = name.lastIndex(of: "."), extensions.contains(String(name[name.index(after: dot)...])) {
            return true
        }
        // Memory about secrets is fine (`secrets-policy.md`); a file named for holding one is not.
        let isProse = ["md", "markdown", "mdx", "txt", "rst", "adoc", "html", "htm"].contains {
            name.hasSuffix("." + $0)
        }
        return !isProse && nameWords.contains { name.contains($0) }
    }
}
