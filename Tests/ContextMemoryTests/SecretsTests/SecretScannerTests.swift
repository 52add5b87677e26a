import Testing

@testable import ContextMemory

/// Fake credentials are assembled at run time from a prefix and a repeated pattern, so that this
/// file holds no literal that a secret scanner or push protection would take for a real token.
enum Fake {
    static func repeated(_ pattern: String, _ count: Int) -> String {
        String(String(repeating: pattern, count: count / pattern.count + 1).prefix(count))
    }

    static let awsKeyID = "AK" + "IA" + repeated("Q7R2", 16)
    static let awsSecret = repeated("wJ9r/K7mP+", 40)
    static let github = "gh" + "p_" + repeated("a1B2", 36)
    static let githubFineGrained = "github" + "_pat_" + repeated("11AbC_9xYz", 82)
    static let gitlab = "gl" + "pat-" + repeated("Xy7_k2-P", 20)
    static let slack = "xo" + "xb-" + "123456789012-1234567890123-" + repeated("q3W7e9R1", 24)
    static let slackWebhookPath =
        "T0" + repeated("H4J8", 8) + "/B0" + repeated("K5L9", 8) + "/" + repeated("z8Y2x6W4", 24)
    static let stripeLive = "sk" + "_live_" + repeated("4eC9Hq2L", 24)
    static let stripeTest = "sk" + "_test_" + repeated("4eC9Hq2L", 24)
    static let google = "AI" + "za" + repeated("Sy9-Kq_3", 35)
    static let openAI = "sk" + "-proj-" + repeated("Ab3_Xy9-Qr", 60)
    static let anthropic = "sk" + "-ant-api03-" + repeated("Zq8_R2-mT5", 93) + "AA"
    static let huggingFace = "hf" + "_" + repeated("aBcDwXyZ", 34)
    static let npm = "np" + "m_" + repeated("n7M3p2Q9", 36)
    static let pypi = "py" + "pi-AgEIcHlwaS5vcmc" + repeated("Cj3_kL9-", 64)
    static let sendGrid = "SG" + "." + repeated("aB3_cD9-", 22) + "." + repeated("eF5-gH7_", 43)
    static let twilio = "SK" + repeated("a1b2c3d4e5f6", 32)
    static let jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiJmYWtlIn0" + "." + repeated("Sf3K_x9-Q", 43)
    static let urlPassword = repeated("Zr8q2L-m", 14)
    static let generic = repeated("Kq8z2Wm5Rt", 16)
    static func pemBody(lines: Int) -> String {
        (0..<lines).map { repeated("MIIEv\($0)QIBA+DAN/Bgkq", 64) }.joined(separator: "\n")
    }
    static let rsaBlock =
        "-----BEGIN RSA PRIVATE " + "KEY-----\n" + pemBody(lines: 4) + "\n-----END RSA PRIVATE KEY-----"
}

/// One labelled case: `text` holds `value` (once), which `rule` must find.
struct SecretCase: CustomTestStringConvertible, Sendable {
    let rule: SecretRule
    let text: String
    let value: String
    var testDescription: String { rule.rawValue + ": " + String(text.prefix(48)) }
}

@Suite("SecretScanner")
struct SecretScannerTests {
    static let positives: [SecretCase] = [
        SecretCase(rule: .awsAccessKey, text: "export AWS_ACCESS_KEY_ID=\(Fake.awsKeyID)", value: Fake.awsKeyID),
        SecretCase(rule: .awsSecretKey, text: "aws_secret_access_key = \(Fake.awsSecret)", value: Fake.awsSecret),
        SecretCase(rule: .awsSecretKey, text: "    \"SecretAccessKey\": \"\(Fake.awsSecret)\",", value: Fake.awsSecret),
        SecretCase(rule: .githubToken, text: "GITHUB_TOKEN=\(Fake.github)", value: Fake.github),
        SecretCase(
            rule: .githubToken, text: "git clone https://x-access-token:\(Fake.github)@github.com/o/r.git",
            value: Fake.github),
        SecretCase(
            rule: .githubFineGrainedToken, text: "Use \(Fake.githubFineGrained) for releases.",
            value: Fake.githubFineGrained),
        SecretCase(
            rule: .gitlabToken, text: "curl --header \"PRIVATE-TOKEN: \(Fake.gitlab)\" https://gitlab.example/api",
            value: Fake.gitlab),
        SecretCase(rule: .slackToken, text: "SLACK_BOT_TOKEN=\(Fake.slack)", value: Fake.slack),
        SecretCase(
            rule: .slackWebhook, text: "url: https://hooks.slack.com/services/\(Fake.slackWebhookPath)",
            value: Fake.slackWebhookPath),
        SecretCase(rule: .stripeSecretKey, text: "stripe.api_key = \"\(Fake.stripeLive)\"", value: Fake.stripeLive),
        SecretCase(rule: .stripeTestKey, text: "STRIPE_KEY=\(Fake.stripeTest)", value: Fake.stripeTest),
        SecretCase(rule: .googleAPIKey, text: "  \"apiKey\": \"\(Fake.google)\",", value: Fake.google),
        SecretCase(rule: .openAIKey, text: "OPENAI_API_KEY=\(Fake.openAI)", value: Fake.openAI),
        SecretCase(rule: .anthropicKey, text: "x-api-key: \(Fake.anthropic)", value: Fake.anthropic),
        SecretCase(
            rule: .huggingFaceToken, text: "huggingface-cli login --token \(Fake.huggingFace)",
            value: Fake.huggingFace),
        SecretCase(rule: .npmToken, text: "//registry.npmjs.org/:_authToken=\(Fake.npm)", value: Fake.npm),
        SecretCase(rule: .pypiToken, text: "TWINE_PASSWORD=\(Fake.pypi)", value: Fake.pypi),
        SecretCase(rule: .sendGridKey, text: "Mail relay key: \(Fake.sendGrid)", value: Fake.sendGrid),
        SecretCase(rule: .twilioAPIKey, text: "TWILIO_API_KEY=\(Fake.twilio)", value: Fake.twilio),
        SecretCase(rule: .privateKey, text: "```\n\(Fake.rsaBlock)\n```", value: Fake.rsaBlock),
        SecretCase(rule: .jwt, text: "Authorization: Bearer \(Fake.jwt)", value: Fake.jwt),
        SecretCase(
            rule: .connectionStringPassword,
            text: "DATABASE_URL=postgres://app:\(Fake.urlPassword)@db.internal:5432/app", value: Fake.urlPassword),
        SecretCase(
            rule: .connectionStringPassword, text: "redis://:\(Fake.urlPassword)@cache:6379/0",
            value: Fake.urlPassword),
        SecretCase(rule: .genericSecret, text: "DB_PASSWORD=\(Fake.generic)", value: Fake.generic),
        SecretCase(rule: .genericSecret, text: "  password: '\(Fake.generic)'", value: Fake.generic),
        SecretCase(rule: .genericSecret, text: "{\"client_secret\": \"\(Fake.generic)\"}", value: Fake.generic),
        SecretCase(rule: .genericSecret, text: "Authorization: Bearer \(Fake.generic)", value: Fake.generic),
        SecretCase(rule: .genericSecret, text: "| Staging DB password | \(Fake.generic) |", value: Fake.generic),
        SecretCase(
            rule: .genericSecret, text: "The admin password is `\(Fake.generic)` until Friday.", value: Fake.generic),
    ]

    @Test("finds each rule's fake, exactly the value", arguments: positives)
    func positive(_ c: SecretCase) throws {
        let matches = SecretScanner().scan(c.text)
        #expect(matches.map(\.rule) == [c.rule])
        let match = try #require(matches.first)
        #expect(Self.slice(c.text, match.range) == c.value)
        #expect(SecretScanner.mightContainSecret(c.text))
        // Redaction replaces exactly the value.
        let expected = c.text.replacingFirst(c.value, with: "[REDACTED:\(c.rule.rawValue)]")
        #expect(SecretScanner().redact(c.text).text == expected)
    }

    @Test("every rule has a positive case here")
    func coverage() {
        #expect(Set(Self.positives.map(\.rule)) == Set(SecretRule.allCases))
        for rule in SecretRule.allCases { #expect(!rule.summary.isEmpty) }
    }

    @Test(
        "near misses are not reported",
        arguments: [
            // Prose and configuration that only talk about secrets.
            "token budget: 40000",
            "max_tokens: 4096",
            "secret: see the vault",
            "password: <your password>",
            "API_KEY=${API_KEY}",
            "token: YOUR_TOKEN_HERE",
            "export GITHUB_TOKEN=$(gh auth token)",
            "tokenizer: cl100k_base",
            "author: Jane Smith <jane@fabrikon.example>",
            "secretRef: {name: fabric-gitops-ro}",
            "password_file: /run/secrets/db_password",
            "DB_PASSWORD=MySecretPassword",
            "SECRET_KEY=django-insecure-change-me-in-production",
            "JWT_SECRET=supersecretjwtkey",
            "password = os.getenv('DB_PASSWORD')",
            "token = request.headers.get(\"Authorization\")",
            "apiKey: process.env.OPENAI_API_KEY",
            "token: ${{ secrets.GITHUB_TOKEN }}",
            "  password: cGFzc3dvcmQ=",
            "Authorization: Bearer eyJhbGciOiJIUzI1NiIs...",
            // Ids, hashes, colours, paths, URLs without credentials.
            "request_id: 550e8400-e29b-41d4-a716-446655440000",
            "The fix landed in 3f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a098 and refreshed the token cache.",
            "| Release token rotation | 3f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a098 |",
            "Use `#1f2937` for the sidebar; the `--hh-status-saved` token maps to it.",
            "See https://docs.fabrikon.example/auth/tokens for how tokens are issued.",
            "private_key: ./certs/server.key",
            "checksum: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "[Meeting](https://zoom.us/j/91234567890?pwd=" + Fake.repeated("Zq8r2LmT5v", 30) + ".1)",
            // Connection strings with placeholder or default passwords.
            "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
            "postgres://user:password@localhost/db",
            "MONGO_URI=mongodb://${MONGO_USER}:${MONGO_PASS}@mongo:27017/app",
            "amqp://guest:guest@localhost:5672/",
            "mongodb://admin:admin123@localhost:27017",
            "git+ssh://git@github.com:org/repo.git",
            // Provider shapes that are placeholders, too short, embedded, or public.
            "AWS_ACCESS_KEY_ID=AKIA" + String(repeating: "X", count: 16),
            "GITHUB_TOKEN=ghp_" + String(repeating: "x", count: 36),
            "ghp_" + Fake.repeated("a1B2", 35),
            "X" + Fake.awsKeyID,
            "STRIPE_PUBLISHABLE_KEY=pk_live_" + Fake.repeated("4eC9Hq2L", 24),
            "https://hooks.slack.com/services/T00000000/B00000000/" + String(repeating: "X", count: 24),
            "SLACK_BOT_TOKEN=xoxb-your-bot-token",
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\n" + Fake.pemBody(lines: 3) + "\n-----END PUBLIC KEY-----",
            "A JWT starts with eyJhbGciOiJIUzI1NiJ9 and has three parts.",
            "Regex for AWS keys: `(AKIA|ASIA)[A-Z0-9]{16}`",
        ])
    func nearMiss(_ text: String) {
        #expect(SecretScanner().scan(text) == [])
        #expect(!SecretScanner.mightContainSecret(text))
        #expect(SecretScanner().redact(text).text == text)
    }

    @Test("redaction output, exactly")
    func redactionOutput() {
        let text =
            "AWS_ACCESS_KEY_ID=\(Fake.awsKeyID)\nDB_PASSWORD=\"\(Fake.generic)\"\nurl: postgres://app:\(Fake.urlPassword)@db/app\n"
        let (redacted, matches) = SecretScanner().redact(text)
        #expect(
            redacted == """
                AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key]
                DB_PASSWORD="[REDACTED:generic-secret]"
                url: postgres://app:[REDACTED:connection-string-password]@db/app

                """)
        #expect(matches.map(\.rule) == [.awsAccessKey, .genericSecret, .connectionStringPassword])
    }

    @Test("adjacent secrets are separate matches, sorted and not overlapping")
    func adjacent() {
        let text = Fake.awsKeyID + "," + Fake.github + " " + Fake.npm
        let matches = SecretScanner().scan(text)
        #expect(matches.map(\.rule) == [.awsAccessKey, .githubToken, .npmToken])
        #expect(
            SecretScanner().redact(text).text
                == "[REDACTED:aws-access-key],[REDACTED:github-token] [REDACTED:npm-token]")
        for (a, b) in zip(matches, matches.dropFirst()) { #expect(a.range.upperBound <= b.range.lowerBound) }
    }

    @Test("a specific rule wins over the generic one it overlaps")
    func specificWins() {
        #expect(SecretScanner().scan("token: \(Fake.jwt)").map(\.rule) == [.jwt])
        #expect(SecretScanner().scan("password = \"\(Fake.stripeLive)\"").map(\.rule) == [.stripeSecretKey])
        #expect(
            SecretScanner().scan("https://oauth2:\(Fake.gitlab)@gitlab.example/x.git").map(\.rule) == [.gitlabToken])
        #expect(SecretScanner().scan("aws_secret_access_key: \(Fake.awsSecret)").map(\.rule) == [.awsSecretKey])
    }

    @Test("a value found once is redacted wherever else it appears")
    func repeats() {
        let text = "DB_PASSWORD=\(Fake.generic)\nthen run: psql --pw\(Fake.generic)x"
        let (redacted, matches) = SecretScanner().redact(text)
        #expect(matches.count == 2)
        #expect(!redacted.containsBytes(Fake.generic))
        #expect(redacted == "DB_PASSWORD=[REDACTED:generic-secret]\nthen run: psql --pw[REDACTED:generic-secret]x")
    }

    @Test("multi-line private keys: the whole block, with or without the END line, in JSON too")
    func privateKeys() throws {
        let crlf = Fake.rsaBlock.replacing("\n", with: "\r\n")
        for block in [Fake.rsaBlock, crlf] {
            let text = "key:\n" + block + "\nafter"
            let match = try #require(SecretScanner().scan(text).first)
            #expect(match.rule == .privateKey)
            #expect(Self.slice(text, match.range) == block)
        }
        let json = "{\"private_key\": \"" + Fake.rsaBlock.replacing("\n", with: "\\n") + "\\n\"}"
        let inJSON = try #require(SecretScanner().scan(json).first)
        #expect(inJSON.rule == .privateKey)
        #expect(Self.slice(json, inJSON.range).hasSuffix("-----END RSA PRIVATE KEY-----"))
        // Cut off before its END line: the base64 body still goes.
        let truncated = "-----BEGIN OPENSSH PRIVATE " + "KEY-----\n" + Fake.pemBody(lines: 3) + "\n\nSee the vault."
        let cut = try #require(SecretScanner().scan(truncated).first)
        #expect(
            Self.slice(truncated, cut.range) == "-----BEGIN OPENSSH PRIVATE " + "KEY-----\n" + Fake.pemBody(lines: 3))
    }

    @Test("a value in JSON: only the string's content")
    func json() throws {
        let text = "{\n  \"name\": \"svc\",\n  \"api_key\": \"\(Fake.generic)\",\n  \"token\": \"\(Fake.github)\"\n}"
        let matches = SecretScanner().scan(text)
        #expect(matches.map(\.rule) == [.genericSecret, .githubToken])
        #expect(matches.map { Self.slice(text, $0.range) } == [Fake.generic, Fake.github])
    }

    @Test("CRLF line ends are not part of a value")
    func crlf() {
        let text = "DB_PASSWORD=\(Fake.generic)\r\nGITHUB_TOKEN=\(Fake.github)\r\n"
        let matches = SecretScanner().scan(text)
        #expect(matches.map { Self.slice(text, $0.range) } == [Fake.generic, Fake.github])
        #expect(
            SecretScanner().redact(text).text
                == "DB_PASSWORD=[REDACTED:generic-secret]\r\nGITHUB_TOKEN=[REDACTED:github-token]\r\n")
    }

    @Test("byte offsets stay right around non-ASCII text")
    func nonASCII() throws {
        let text = "東京の鍵 — 🔑 token: \(Fake.github) ✅ ünd \(Fake.awsKeyID)。"
        let matches = SecretScanner().scan(text)
        #expect(matches.map(\.rule) == [.githubToken, .awsAccessKey])
        #expect(matches.map { Self.slice(text, $0.range) } == [Fake.github, Fake.awsKeyID])
        let first = try #require(matches.first)
        #expect(first.range.lowerBound == Array("東京の鍵 — 🔑 token: ".utf8).count)
        #expect(
            SecretScanner().redact(text).text
                == "東京の鍵 — 🔑 token: [REDACTED:github-token] ✅ ünd [REDACTED:aws-access-key]。")
    }

    @Test("the allow-list and the rule set")
    func settings() {
        let text = "key: \(Fake.awsKeyID)\nSTRIPE=\(Fake.stripeTest)"
        #expect(SecretScanner(allowedValues: [Fake.awsKeyID]).scan(text).map(\.rule) == [.stripeTestKey])
        var rules = Set(SecretRule.allCases)
        rules.remove(.stripeTestKey)
        #expect(SecretScanner(rules: rules).scan(text).map(\.rule) == [.awsAccessKey])
        #expect(SecretScanner(allowedValues: [Fake.awsKeyID], rules: rules).scan(text) == [])
    }

    @Test("rule ids are stable")
    func ids() {
        #expect(
            SecretRule.allCases.map(\.rawValue) == [
                "aws-access-key", "aws-secret-key", "github-token", "github-fine-grained-token", "gitlab-token",
                "slack-token", "slack-webhook", "stripe-secret-key", "stripe-test-key", "google-api-key",
                "openai-api-key",
                "anthropic-api-key", "huggingface-token", "npm-token", "pypi-token", "sendgrid-api-key",
                "twilio-api-key",
                "private-key", "jwt", "connection-string-password", "generic-secret",
            ])
    }

    @Test("never traps, and redaction leaves no matched value, on random and mutated input")
    func fuzz() {
        var rng = SplitMix64(seed: 0x5EC2E7)
        let seeds = Self.positives.map { Array($0.text.utf8) }
        let alphabet = Array(
            "AKIAghp_xoxb-sk-eyJ.://@:=|`\"' \n\r\t-----BEGIN PRIVATE KEY-----END\\n0123456789abcXYZ+/é".utf8)
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 0...5, using: &rng) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: at)
                    }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let (redacted, matches) = SecretScanner().redact(text)
            var last = 0
            for match in matches {
                #expect(match.range.lowerBound >= last && match.range.upperBound <= text.utf8.count)
                last = match.range.upperBound
                #expect(!redacted.containsBytes(Self.slice(text, match.range)))
            }
            #expect(SecretScanner.mightContainSecret(text) == !matches.isEmpty)
        }
    }

    /// The text at UTF-8 byte offsets `range`.
    static func slice(_ text: String, _ range: Range<Int>) -> String {
        String(decoding: Array(text.utf8)[range], as: UTF8.self)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let found = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(found, with: replacement)
        return copy
    }

    /// Whether `needle`'s UTF-8 bytes occur in this string's (not Character-wise).
    fileprivate func containsBytes(_ needle: String) -> Bool {
        let haystack = Array(utf8)
        let bytes = Array(needle.utf8)
        guard !bytes.isEmpty else { return true }
        guard haystack.count >= bytes.count else { return false }
        return (0...(haystack.count - bytes.count)).contains { haystack[$0..<($0 + bytes.count)].elementsEqual(bytes) }
    }
}
