import Foundation
import Testing

@testable import ContextMemory

/// Credentials in memory files never reach an agent: redacted before indexing, so every output
/// (packs in every format, search, read) shows `[REDACTED:rule-id]`, and the audit reports them.
@Suite("Secrets never leave the index")
struct SecretRedactionTests {
    // Real-shaped fakes, assembled at run time so this file holds no literal a scanner would flag.
    static let github = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    static let aws = "AKIA" + "QWERTYUIOPASDFGH"
    static let slack = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
    static let keyBody =
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK"
    static let secrets = [github, aws, slack, "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"]

    /// A hostile runbook: credentials, control bytes, HTML and script, an import of a JSON file holding a key.
    static func hostileTree() throws -> FixtureTree {
        let tree = try FixtureTree()
        try tree.write("CLAUDE.md", "# Root\n\nSee @project_management/ops.md and @project_management/settings.json\n")
        try tree.write(
            "project_management/ops.md",
            """
            # Ops runbook

            Deploy with the token \(github) against the kiwifruit cluster.

            ```
            export AWS_ACCESS_KEY_ID=\(aws)
            ```

            <script>alert('x')</script> <img src=x onerror=alert(1)> \u{1B}[31mred\u{1B}[0m \u{07}

            -----BEGIN RSA PRIVATE KEY-----
            \(keyBody)
            -----END RSA PRIVATE KEY-----

            ## After the key

            Line numbers stay the file's: kiwifruit epilogue.

            """)
        try tree.write(
            "project_management/settings.json", "{\"slack\": \"\(slack)\", \"note\": \"kiwifruit settings\"}\n")
        return tree
    }

    static func expectNoSecret(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets {
            #expect(!text.contains(secret), "\(what) leaks \(secret.prefix(8))…", sourceLocation: sourceLocation)
        }
    }

    @Test("packs in every format, search, read and the stored text hold markers, never the values")
    func everyOutput() async throws {
        let tree = try Self.hostileTree()
        _ = try await tree.service.index()
        for format in PackFormat.allCases {
            let pack = try await tree.service.pack(
                PackRequest(task: "kiwifruit cluster deploy", budget: 20_000, format: format, mode: .replace))
            Self.expectNoSecret(pack.text, "the \(format) pack")
            #expect(pack.text.contains("[REDACTED:github-token]"), "\(format)")
            #expect(pack.text.contains("[REDACTED:private-key]"), "\(format)")
        }
        let hits = try await tree.service.search("kiwifruit")
        #expect(hits.count >= 2)
        for hit in hits { Self.expectNoSecret(hit.snippet, "a snippet") }
        for handle in [
            "memory://project_management/ops.md", "memory://project_management/settings.json",
            "memory://project_management/ops.md#ops-runbook",
        ] {
            let read = try await tree.service.read(handle: handle)
            Self.expectNoSecret(read.text, "read \(handle)")
        }
        // Nothing searchable holds a value, not even a piece of one.
        await #expect(try tree.service.search("ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5").isEmpty)
        await #expect(try tree.service.search("AKIAQWERTYUIOPASDFGH").isEmpty)
        // The private key's lines are kept as lines: the next heading is where the file has it.
        let after = try await tree.service.read(handle: "memory://project_management/ops.md#after-the-key")
        #expect(after.startLine == 16)
        // The person at the terminal can still see the file as written.
        #expect(
            try tree.service.readUnredacted(handle: "memory://project_management/ops.md").text.contains(Self.github))
    }

    @Test("each credential is a secret-in-memory error at its line and column, in the audit and SARIF")
    func findings() async throws {
        let tree = try Self.hostileTree()
        _ = try await tree.service.index()
        let report = try await tree.service.audit(AuditOptions(rules: [.secretInMemory], useGit: false))
        let found = report.findings.map { "\($0.path):\($0.line ?? 0):\($0.column ?? 0)" }
        #expect(
            found == [
                "project_management/ops.md:3:23", "project_management/ops.md:6:26",
                "project_management/ops.md:11:1", "project_management/settings.json:1:12",
            ])
        #expect(report.findings.map { $0.message.contains("[REDACTED:") } == [true, true, true, true])
        #expect(report.findings.last?.message.contains("[REDACTED:slack-token]") == true)
        #expect(report.findings.allSatisfy { $0.severity == .error && $0.rule == .secretInMemory })
        for finding in report.findings { Self.expectNoSecret("\(finding) \(finding.suggestion ?? "")", "a finding") }
        let sarif = try AuditRenderer.render(report, as: .sarif)
        #expect(sarif.contains("\"ruleId\" : \"secret-in-memory\""))
        Self.expectNoSecret(sarif, "SARIF")
    }

    @Test("a ctxmem-ignore comment or secrets.allow_values keeps a value; disable_rules turns a rule off")
    func exceptions() async throws {
        let tree = try FixtureTree()
        let example = "AKIA" + "IOSFODNN7EXAMPLE"
        try tree.write(
            "project_management/notes.md",
            """
            # Notes

            <!-- ctxmem-ignore secret-in-memory -->
            AWS's documented example: \(example)

            Ours: \(Self.aws) and \(Self.github).

            """)
        _ = try await tree.service.index()
        var text = try await tree.service.read(handle: "memory://project_management/notes.md").text
        #expect(text.contains(example))
        #expect(!text.contains(Self.aws) && !text.contains(Self.github))

        try tree.write(".ctxmem.yaml", "secrets:\n  allow_values: [\(Self.aws)]\n  disable_rules: [github-token]\n")
        _ = try await tree.service.index()
        text = try await tree.service.read(handle: "memory://project_management/notes.md").text
        #expect(text.contains(Self.aws) && text.contains(Self.github))
        #expect(try tree.service.findings().filter { $0.rule == .secretInMemory }.isEmpty)
    }

    @Test("an unknown rule in disable_rules is a configuration error with a suggestion")
    func unknownRule() {
        #expect(throws: ConfigurationError.self) {
            _ = try Configuration.parse("secrets:\n  disable_rules: [github-tokens]\n")
        }
        do { _ = try Configuration.parse("secrets:\n  disable_rules: [github-tokens]\n") } catch {
            #expect("\(error)".contains("did you mean 'github-token'"))
        }
    }
}

@Suite("Credential files are never read")
struct CredentialFileTests {
    @Test("imports and links that reach credential files read nothing and are errors")
    func neverRead() async throws {
        let tree = try FixtureTree()
        let password = "Zq8Kp2Lm" + "9Xr4Tv7W"
        for name in [".env", ".env.production", "id_rsa", "deploy/server.pem", "ci.token.b64", ".npmrc"] {
            try tree.write(name, "PASSWORD=\(password)\nhoneybadger\n")
        }
        try tree.write(".env.example", "PASSWORD=\nhoneybadger example\n")
        try tree.write(
            "CLAUDE.md",
            "# Root\n\n@.env\n@.env.production\n@id_rsa\n@deploy/server.pem\n@ci.token.b64\n@.npmrc\n@.env.example\n")
        _ = try await tree.service.index()
        await #expect(try tree.service.search("honeybadger").map(\.path) == [".env.example"])
        let errors = try tree.service.findings().filter { $0.rule == .secretInMemory && $0.severity == .error }
        #expect(
            Set(errors.map(\.path)) == [
                ".env", ".env.production", "id_rsa", "deploy/server.pem", "ci.token.b64", ".npmrc",
            ])
    }

    @Test(
        "which names count",
        arguments: [
            (".env", true), ("config/.env.local", true), (".env.example", false), ("keys/id_ed25519", true),
            ("tls/server.key", true),
            ("a/b/api.token.b64", true), ("docs/secrets-policy.md", false),
            ("project_management/password-rotation.md", false),
            ("client_secret.json", true), ("notes.txt", false), ("credentials", true),
            ("infra/terraform.tfstate", true),
        ])
    func names(path: String, matches: Bool) {
        #expect(CredentialFiles.matches(path) == matches)
    }
}
