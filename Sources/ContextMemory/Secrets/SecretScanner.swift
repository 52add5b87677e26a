// A credential detector for memory text: nothing that looks like a live secret may reach an agent.
//
// One forward pass over the UTF-8 bytes, no regular expressions (Swift `Regex` and
// NSRegularExpression are one to two orders of magnitude slower than this on Markdown). The pass
// skips whole words and stops only at
//   - the first byte of a word that can start a provider prefix (`A` of AKIA/AIza, `g` of ghp_, …),
//   - `-` (a PEM `-----BEGIN` line),
//   - `:` and `=` (`scheme://user:password@host`, and `NAME=value` / `name: value` assignments),
//   - `|` and `` ` `` (a runbook's credential table, ``the password is `…` ``).
// Each stop then checks the exact documented shape of the candidate. Values that look like
// placeholders (`xxxx`, `${VAR}`, `<password>`, `YOUR_TOKEN_HERE`, runs and sequences) are not
// reported. Every value that was reported is also redacted wherever else it occurs in the text.
//
// Context: a match never needs more than its own line, except a PEM block (its lines) and the
// repeats (the whole text). Scan whole files, not sections, then map offsets to sections.

/// One credential found in a text: which rule, and where (UTF-8 byte offsets into the text given).
public struct SecretMatch: Sendable, Equatable, Hashable {
    /// The rule that recognised the value.
    public var rule: SecretRule
    /// UTF-8 byte offsets of the secret value only: not the key name, not the quotes around it.
    /// Both ends fall next to ASCII bytes, so they are always on Unicode scalar boundaries.
    public var range: Range<Int>

    /// A match of `rule` over the UTF-8 byte offsets `range`.
    public init(rule: SecretRule, range: Range<Int>) {
        self.rule = rule
        self.range = range
    }
}

/// The kinds of credential `SecretScanner` recognises. Raw values are stable ids: they appear to
/// users as `[REDACTED:<id>]` and in reports, so never rename one.
public enum SecretRule: String, CaseIterable, Sendable, Codable {
    /// AWS access key id: `AKIA` (long-term) or `ASIA` (STS temporary) and 16 upper-case letters or
    /// digits (AWS IAM "Understanding unique ID prefixes").
    case awsAccessKey = "aws-access-key"
    /// AWS secret access key: 40 base64 characters, reported only when assigned to a name such as
    /// `aws_secret_access_key` or `SecretAccessKey` (alone the shape is too common to report).
    case awsSecretKey = "aws-secret-key"
    /// GitHub classic token: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_`
    /// (server-to-server), `ghr_` (refresh) and 36 letters or digits (GitHub "token formats").
    case githubToken = "github-token"
    /// GitHub fine-grained personal access token: `github_pat_` and 82 characters of [A-Za-z0-9_].
    case githubFineGrainedToken = "github-fine-grained-token"
    /// GitLab token: `glpat-` (personal), `gldt-` (deploy), `glrt-` (runner), `glptt-` (trigger),
    /// `glft-`, `glsoat-`, `glcbt-`, `gloas-` and at least 20 of [A-Za-z0-9_-] (GitLab "token
    /// prefixes"), with the optional `.`-separated parts of the newer routable format.
    case gitlabToken = "gitlab-token"
    /// Slack token: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxo-`, `xoxe-`, `xoxe.xoxp-`,
    /// `xapp-`, then dash-separated parts whose first is a number (Slack "token types").
    case slackToken = "slack-token"
    /// Slack incoming webhook: `hooks.slack.com/services/T…/B…/<24 characters>` (also `/workflows/`
    /// and `/triggers/`); the path after the kind is the secret.
    case slackWebhook = "slack-webhook"
    /// Stripe live secret or restricted key: `sk_live_` / `rk_live_` and 24 or more letters or digits.
    case stripeSecretKey = "stripe-secret-key"
    /// Stripe test-mode secret or restricted key: `sk_test_` / `rk_test_` and 24 or more letters or
    /// digits. Reported on its own because it moves no money but still reads and writes the
    /// account's test data and webhooks; drop it from `SecretScanner.rules` to let test keys through.
    case stripeTestKey = "stripe-test-key"
    /// Google API key: `AIza` and 35 of [A-Za-z0-9_-] (Google Cloud "API keys").
    case googleAPIKey = "google-api-key"
    /// OpenAI API key: `sk-proj-`, `sk-svcacct-` or `sk-admin-` and 40 or more of [A-Za-z0-9_-], or the
    /// older `sk-` and 32 or more letters or digits (48 for OpenAI; OpenAI-compatible providers too).
    case openAIKey = "openai-api-key"
    /// Anthropic key: `sk-ant-`, a kind and version (`api03`, `admin01`, `oat01`, …), `-`, then 32
    /// or more of [A-Za-z0-9_-].
    case anthropicKey = "anthropic-api-key"
    /// Hugging Face user access token: `hf_` and 34 letters.
    case huggingFaceToken = "huggingface-token"
    /// npm access token: `npm_` and 36 letters or digits (npm "About access tokens").
    case npmToken = "npm-token"
    /// PyPI API token: `pypi-` and a macaroon whose base64 starts `AgEIcHlwaS5vcmc` (pypi.org) or
    /// `AgENdGVzdC5weXBpLm9yZw` (test.pypi.org), then 50 or more of [A-Za-z0-9_-].
    case pypiToken = "pypi-token"
    /// SendGrid API key: `SG.`, 22 of [A-Za-z0-9_-], `.`, 43 of [A-Za-z0-9_-].
    case sendGridKey = "sendgrid-api-key"
    /// Twilio API key SID: `SK` and 32 lower-case hex digits; it names the key whose secret is
    /// usually a few characters away, so the pair is redacted together.
    case twilioAPIKey = "twilio-api-key"
    /// A PEM private key: the whole block from `-----BEGIN … PRIVATE KEY-----` (RSA, EC, DSA,
    /// OPENSSH, ENCRYPTED, PGP … BLOCK) to its `-----END …-----` line, or to the end of its base64
    /// body when the END line is missing. Real newlines and JSON `\n` escapes are both understood.
    case privateKey = "private-key"
    /// JSON Web Token (RFC 7519): three base64url parts `eyJ….eyJ….<signature>`, the header
    /// decoding to JSON with an `"alg"` member and a signature of 16 or more characters.
    case jwt = "jwt"
    /// The password in a URL's user information, `scheme://user:password@host` (postgres, mysql,
    /// mongodb+srv, redis, amqp, https, …). Placeholders and dictionary-word passwords are not reported.
    case connectionStringPassword = "connection-string-password"
    /// A random-looking value (12 to 256 characters, no spaces, high Shannon entropy, not a word,
    /// path, URL, number or UUID) assigned to a name such as password, passwd, pwd, secret, token,
    /// api_key, access_key, private_key, auth or credential: `NAME=value`, `name: value`,
    /// `"name": "value"`, `name = 'value'`, `Authorization: Bearer value`; and, with hex values
    /// excluded, in a runbook's words on one line: `Staging DB password: value`,
    /// `| DB password | value |`, ``the admin password is `value` ``.
    case genericSecret = "generic-secret"

    /// One line for docs, `--help` and SARIF's `shortDescription`.
    public var summary: String {
        switch self {
        case .awsAccessKey: "AWS access key id (AKIA/ASIA and 16 upper-case letters or digits)."
        case .awsSecretKey:
            "AWS secret access key (40 base64 characters assigned to an aws_secret_access_key-like name)."
        case .githubToken: "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ and 36 letters or digits)."
        case .githubFineGrainedToken: "GitHub fine-grained personal access token (github_pat_ and 82 characters)."
        case .gitlabToken: "GitLab token (glpat-, gldt-, glrt-, glptt-, … and 20 or more characters)."
        case .slackToken: "Slack token (xoxb-, xoxp-, xoxa-, xoxr-, xoxs-, xoxe-, xapp- …)."
        case .slackWebhook: "Slack incoming webhook URL (hooks.slack.com/services/T…/B…/…)."
        case .stripeSecretKey: "Stripe live secret or restricted key (sk_live_, rk_live_)."
        case .stripeTestKey: "Stripe test-mode secret or restricted key (sk_test_, rk_test_)."
        case .googleAPIKey: "Google API key (AIza and 35 characters)."
        case .openAIKey: "OpenAI API key (sk-proj-, sk-svcacct-, sk-admin-, or sk- and 32 or more letters or digits)."
        case .anthropicKey: "Anthropic API or OAuth key (sk-ant-api03-, sk-ant-oat01-, …)."
        case .huggingFaceToken: "Hugging Face access token (hf_ and 34 letters)."
        case .npmToken: "npm access token (npm_ and 36 letters or digits)."
        case .pypiToken: "PyPI API token (pypi- and a pypi.org macaroon)."
        case .sendGridKey: "SendGrid API key (SG.<22>.<43>)."
        case .twilioAPIKey: "Twilio API key SID (SK and 32 hex digits)."
        case .privateKey: "PEM private key block (-----BEGIN … PRIVATE KEY----- to its END line)."
        case .jwt: "JSON Web Token (eyJ….eyJ….signature with an alg header)."
        case .connectionStringPassword: "Password in a URL or connection string (scheme://user:password@host)."
        case .genericSecret: "High-entropy value assigned to a password, secret, token, API key or auth name."
        }
    }

    /// The text that replaces a value of this rule in redacted output.
    public var redactionMarker: String { "[REDACTED:\(rawValue)]" }
}

/// Finds credentials in text, so that memory files can be indexed and packed without handing a
/// secret to an agent. A value type with no state beyond its settings: safe to share across tasks.
///
/// Cost: one pass over the bytes (several hundred MB/s on Markdown); checks that allocate run only
/// at candidates. Never traps on any input: all offsets are bounds-checked against the buffer.
public struct SecretScanner: Sendable {
    /// Values that are never reported (a false-positive allow-list), compared byte for byte with
    /// the whole candidate value, such as a documented example key the team keeps in its notes.
    public let allowedValues: Set<String>
    /// The rules that report; by default all of them.
    public let rules: Set<SecretRule>

    let allowedBytes: Set<[UInt8]>
    let allRules: Bool

    /// A scanner that reports `rules` (all by default) except the exact values in `allowedValues`.
    public init(allowedValues: Set<String> = [], rules: Set<SecretRule> = Set(SecretRule.allCases)) {
        self.allowedValues = allowedValues
        self.rules = rules
        allowedBytes = Set(allowedValues.map { Array($0.utf8) })
        allRules = rules.count == SecretRule.allCases.count
    }

    /// The credentials in `text`, sorted by offset and never overlapping. A value found once is
    /// reported wherever else it occurs too (even inside a longer word), so redacting every match
    /// leaves no copy of it.
    public func scan(_ text: String) -> [SecretMatch] {
        if let found = text.utf8.withContiguousStorageIfAvailable({ scan(utf8: $0) }) { return found }
        return Array(text.utf8).withUnsafeBufferPointer { scan(utf8: $0) }
    }

    /// `scan(_:)` over UTF-8 bytes already in memory (a file's contents), without making a String.
    /// Bytes that are not valid UTF-8 are tolerated: they end candidates like any non-ASCII byte.
    public func scan(utf8 bytes: UnsafeBufferPointer<UInt8>) -> [SecretMatch] {
        SecretBytes.table.withUnsafeBufferPointer { table in
            let engine = SecretEngine(bytes: bytes, table: table)
            return engine.withRepeats(engine.run(self, firstOnly: false))
        }
    }

    /// `text` with every matched value replaced by `[REDACTED:<rule-id>]`, and the matches (offsets
    /// into the original text).
    public func redact(_ text: String) -> (text: String, matches: [SecretMatch]) {
        let bytes = Array(text.utf8)
        let matches = bytes.withUnsafeBufferPointer { scan(utf8: $0) }
        guard !matches.isEmpty else { return (text, []) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16 * matches.count)
        var last = 0
        for match in matches {
            out.append(contentsOf: bytes[last..<match.range.lowerBound])
            out.append(contentsOf: match.rule.redactionMarker.utf8)
            last = match.range.upperBound
        }
        out.append(contentsOf: bytes[last...])
        return (String(decoding: out, as: UTF8.self), matches)
    }

    /// Whether `SecretScanner()` (all rules, no allow-list) finds anything in `text`: the same
    /// answer as `!scan(text).isEmpty`, but it stops at the first finding. Use it to skip the
    /// redaction copy for the vast majority of files, which hold no secret.
    public static func mightContainSecret(_ text: String) -> Bool {
        let scanner = SecretScanner()
        func first(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            SecretBytes.table.withUnsafeBufferPointer { table in
                !SecretEngine(bytes: bytes, table: table).run(scanner, firstOnly: true).isEmpty
            }
        }
        if let found = text.utf8.withContiguousStorageIfAvailable(first) { return found }
        return Array(text.utf8).withUnsafeBufferPointer(first)
    }
}

// MARK: - Byte classes

/// Character classes of ASCII bytes as bit sets, one table lookup per byte in the hot loop.
enum SecretBytes {
    static let upper: UInt16 = 1 << 0
    static let lower: UInt16 = 1 << 1
    static let digit: UInt16 = 1 << 2
    static let underscore: UInt16 = 1 << 3
    static let dash: UInt16 = 1 << 4
    static let plus: UInt16 = 1 << 5
    static let slash: UInt16 = 1 << 6
    static let dot: UInt16 = 1 << 7
    static let hexLower: UInt16 = 1 << 8
    static let blank: UInt16 = 1 << 9  // space, tab
    /// The first byte of a word that can begin a provider prefix.
    static let start: UInt16 = 1 << 10
    /// `-`, `:`, `=`, `|`, `` ` ``: a PEM line, a URL's user information, an assignment, a table
    /// cell, an inline code span after "is".
    static let trigger: UInt16 = 1 << 11
    /// Ends an unquoted value: control bytes, space, quotes, brackets, `,;|&<>` (`&` for URL query
    /// strings), and every non-ASCII byte.
    static let valueStop: UInt16 = 1 << 12
    /// Ends a URL's authority: `/?#`, space, quotes, brackets, `<>\\`, control and non-ASCII bytes.
    static let authorityStop: UInt16 = 1 << 13

    static let letter = upper | lower
    static let alnum = upper | lower | digit
    static let word = alnum | underscore
    static let base64url = word | dash
    static let base64 = alnum | plus | slash
    static let name = word | dash | dot

    static let table: [UInt16] = {
        var t = [UInt16](repeating: 0, count: 256)
        for b in 0..<256 {
            let c = UInt8(b)
            var f: UInt16 = 0
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): f |= upper
            case UInt8(ascii: "a")...UInt8(ascii: "z"): f |= lower
            case UInt8(ascii: "0")...UInt8(ascii: "9"): f |= digit | hexLower
            case UInt8(ascii: "_"): f |= underscore
            case UInt8(ascii: "-"): f |= dash | trigger
            case UInt8(ascii: "+"): f |= plus
            case UInt8(ascii: "/"): f |= slash | authorityStop
            case UInt8(ascii: "."): f |= dot
            case UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "|"), UInt8(ascii: "`"): f |= trigger
            case UInt8(ascii: " "), UInt8(ascii: "\t"): f |= blank | valueStop | authorityStop
            default: break
            }
            if (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c) { f |= hexLower }
            if "AgxsrnpSeh".utf8.contains(c) { f |= start }
            if c < 0x20 || c >= 0x7F || "\"'`,;|&<>()[]{}".utf8.contains(c) { f |= valueStop }
            if c < 0x20 || c >= 0x7F || "?#\"'`<>\\[]{}()".utf8.contains(c) { f |= authorityStop }
            t[b] = f
        }
        return t
    }()
}

/// The words of `SecretEngine.secretName`, built once.
enum SecretNames {
    /// A name part ending with one of these is a keyword (`PGPASSWORD`, `APIKEY`, `authToken` parts).
    static let endings: [[UInt8]] = [
        "password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
        "privatekey", "secretkey",
    ].map { Array($0.utf8) }
    /// Keywords only as the whole last part (`DB_PASS`, `basic_auth`; not `bypass`, `oauth`,
    /// `authInterceptor`).
    static let whole: [[UInt8]] = ["pwd", "pass", "auth", "authorization", "credential", "bearer"].map {
        Array($0.utf8)
    }
    static let key = Array("key".utf8), secret = Array("secret".utf8), access = Array("access".utf8)
    static let aws = Array("aws".utf8), secretAccessKey = Array("secretaccesskey".utf8)
    /// Keywords as words of prose or a table cell.
    static let proseWords: Set<[UInt8]> = Set(
        [
            "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey",
            "credential", "passcode",
        ].map { Array($0.utf8) })
    /// After a keyword in prose, words that say the text is about the secret, not the secret.
    static let proseDeny: Set<[UInt8]> = Set(
        [
            "s", "is", "was", "are", "will", "must", "should", "can", "in",
            "from", "of", "with", "rotated", "expired", "generation", "authentication",
            "exchange", "refresh", "flow", "lookup", "used", "issued", "hashing", "hashed",
            "hashes", "reset", "change", "manager", "storage", "handling", "validation",
        ]
        .map { Array($0.utf8) })
    /// Parts that make the next part `key` a keyword (`api_key`, `signingKey`).
    static let keyOwners: [[UInt8]] = [
        "api", "access", "private", "secret", "signing", "encryption", "master",
        "client", "app", "auth",
    ].map { Array($0.utf8) }
    /// After a keyword, or last, these say the value describes the secret: `token_budget`,
    /// `password_file`, `secretKeyRef`, `token_url`.
    static let deny: Set<[UInt8]> = Set(
        [
            "count", "counts", "limit", "limits", "budget", "budgets", "type", "types", "url", "uri", "urls",
            "endpoint",
            "file", "files", "path", "paths", "dir", "name", "names", "ref", "refs", "id", "ids", "length", "len",
            "size", "max", "min", "usage", "env", "var", "header", "field", "policy", "hint", "prompt", "label",
            "placeholder", "format", "regex", "pattern", "expiry", "expires", "expiration", "expire", "ttl", "mode",
            "method", "provider", "scope", "scopes", "store", "manager", "helper", "source", "location", "rotation",
            "required", "enabled", "reset", "hash", "salt", "kind", "template", "version", "prefix", "suffix",
            "param", "parameter", "arn", "selector", "mount", "volume", "estimate", "estimator", "cost", "price",
            "rate", "window", "server", "service", "host", "port", "user", "username", "login", "email",
            "number", "index", "position", "lifetime", "timeout", "generator", "validator", "strength", "command",
            "cmd", "script", "description", "desc", "example", "sample",
        ].map { Array($0.utf8) })
}

// MARK: - The pass

/// One scan over one buffer. Every read goes through `byte(_:)`/`cls(_:)` or a loop bounded by
/// `n`, so no input can read out of bounds; arithmetic on offsets stays below `n` plus small constants.
struct SecretEngine {
    typealias B = SecretBytes

    // Three words only: the matchers are called per candidate and must not copy more.
    let p: UnsafeBufferPointer<UInt8>
    let table: UnsafeBufferPointer<UInt16>
    let n: Int

    init(bytes: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt16>) {
        p = bytes
        self.table = table
        n = bytes.count
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { i >= 0 && i < n ? p[i] : 0 }
    @inline(__always) func cls(_ i: Int) -> UInt16 { i >= 0 && i < n ? table[Int(p[i])] : 0 }
    @inline(__always) func isClass(_ i: Int, _ mask: UInt16) -> Bool { cls(i) & mask != 0 }

    /// Whether the bytes at `i` are exactly `literal`.
    func starts(_ i: Int, _ literal: StaticString) -> Bool {
        let k = literal.utf8CodeUnitCount
        guard i >= 0, k <= n - i else { return false }
        let q = literal.utf8Start
        for j in 0..<k where p[i + j] != q[j] { return false }
        return true
    }

    /// Like `starts`, ignoring ASCII case; `literal` must be lower-case.
    func startsFolded(_ i: Int, _ literal: StaticString) -> Bool {
        let k = literal.utf8CodeUnitCount
        guard i >= 0, k <= n - i else { return false }
        let q = literal.utf8Start
        for j in 0..<k where SecretEngine.fold(p[i + j]) != q[j] { return false }
        return true
    }

    @inline(__always) static func fold(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
    }

    /// The end of the run of `mask` bytes starting at `i`, looking at no more than `limit` bytes.
    func run(_ i: Int, _ mask: UInt16, limit: Int) -> Int {
        guard i >= 0, i < n else { return max(0, min(i, n)) }
        let end = limit >= n - i ? n : i + limit
        var j = i
        while j < end, table[Int(p[j])] & mask != 0 { j += 1 }
        return j
    }

    // MARK: Driver

    /// The matches of the first pass, kept by `scanner`'s rules and allow-list; only the first one
    /// when `firstOnly`.
    func run(_ scanner: SecretScanner, firstOnly: Bool) -> [SecretMatch] {
        var matches: [SecretMatch] = []
        /// Keeps `found` unless its rule is off or its value is allowed; true when the pass should stop.
        func record(_ found: SecretMatch) -> Bool {
            if !scanner.allRules, !scanner.rules.contains(found.rule) { return false }
            if !scanner.allowedBytes.isEmpty,
                scanner.allowedBytes.contains(Array(UnsafeBufferPointer(rebasing: p[found.range])))
            {
                return false
            }
            if let last = matches.last, last.range.upperBound > found.range.lowerBound { return false }
            matches.append(found)
            return firstOnly
        }
        var i = 0
        while i < n {
            let c = table[Int(p[i])]
            if c & B.word != 0 {
                // The first byte of a word (the loop always skips whole words).
                if c & B.start != 0, let found = prefixRules(i) {
                    if record(found) { return matches }
                    i = max(i + 1, found.range.upperBound)
                    continue
                }
                i += 1
                while i < n, table[Int(p[i])] & B.word != 0 { i += 1 }
                continue
            }
            if c & B.trigger != 0 {
                let found: SecretMatch?
                switch p[i] {
                case UInt8(ascii: "-"): found = privateKey(i)
                case UInt8(ascii: ":") where byte(i + 1) == UInt8(ascii: "/") && byte(i + 2) == UInt8(ascii: "/"):
                    found = urlPassword(i)
                default: found = assignment(i)
                }
                if let found {
                    if record(found) { return matches }
                    i = max(i + 1, found.range.upperBound)
                    continue
                }
            }
            i += 1
        }
        return matches
    }

    // MARK: Prefix rules

    /// The provider-prefixed shapes that can start at word start `i`.
    func prefixRules(_ i: Int) -> SecretMatch? {
        if isClass(i - 1, B.word) { return nil }
        // Tokens whose alphabet has `-` or `.` must not continue one (`foo-AIza…`, `x.eyJ…`).
        let afterJoiner = byte(i - 1) == UInt8(ascii: "-") || byte(i - 1) == UInt8(ascii: ".")
        switch p[i] {
        case UInt8(ascii: "A"):
            if starts(i, "AKIA") || starts(i, "ASIA") { return awsAccessKey(i) }
            if starts(i, "AIza"), !afterJoiner {
                return fixed(i, prefix: 4, count: 35, B.base64url, end: B.base64url, .googleAPIKey)
            }
        case UInt8(ascii: "g"):
            if byte(i + 1) == UInt8(ascii: "h") || byte(i + 1) == UInt8(ascii: "i") { return github(i) }
            if byte(i + 1) == UInt8(ascii: "l"), !afterJoiner { return gitlab(i) }
        case UInt8(ascii: "x"):
            if !afterJoiner { return slackToken(i) }
        case UInt8(ascii: "s"):
            if starts(i, "sk_live_") {
                return variable(i, prefix: 8, min: 24, max: 247, B.alnum, end: B.word, .stripeSecretKey)
            }
            if starts(i, "sk_test_") {
                return variable(i, prefix: 8, min: 24, max: 247, B.alnum, end: B.word, .stripeTestKey)
            }
            if starts(i, "sk-"), !afterJoiner { return dashKey(i) }
        case UInt8(ascii: "r"):
            if starts(i, "rk_live_") {
                return variable(i, prefix: 8, min: 24, max: 247, B.alnum, end: B.word, .stripeSecretKey)
            }
            if starts(i, "rk_test_") {
                return variable(i, prefix: 8, min: 24, max: 247, B.alnum, end: B.word, .stripeTestKey)
            }
        case UInt8(ascii: "n"):
            if starts(i, "npm_") { return fixed(i, prefix: 4, count: 36, B.alnum, end: B.word, .npmToken) }
        case UInt8(ascii: "p"):
            if !afterJoiner, starts(i, "pypi-Ag") {
                let prefix: Int
                if starts(i, "pypi-AgEIcHlwaS5vcmc") {
                    prefix = 20
                } else if starts(i, "pypi-AgENdGVzdC5weXBpLm9yZw") {
                    prefix = 27
                } else {
                    return nil
                }
                return variable(i, prefix: prefix, min: 50, max: 2000, B.base64url, end: B.base64url, .pypiToken)
            }
        case UInt8(ascii: "S"):
            if starts(i, "SG."), !afterJoiner { return sendGrid(i) }
            if starts(i, "SK") { return fixed(i, prefix: 2, count: 32, B.hexLower, end: B.word, .twilioAPIKey) }
        case UInt8(ascii: "e"):
            if starts(i, "eyJ"), !afterJoiner { return jwt(i) }
        case UInt8(ascii: "h"):
            if starts(i, "hooks.slack.com/"), !afterJoiner { return slackWebhook(i) }
            if starts(i, "hf_") {
                guard let m = fixed(i, prefix: 3, count: 34, B.letter, end: B.word, .huggingFaceToken),
                    hasClasses(i + 3, m.range.upperBound, B.upper, B.lower)
                else { return nil }
                return m
            }
        default: break
        }
        return nil
    }

    /// Exactly `count` bytes of `body` after a `prefix`-byte prefix, then a byte outside `end`.
    /// The whole token is the value.
    func fixed(_ i: Int, prefix: Int, count: Int, _ body: UInt16, end: UInt16, _ rule: SecretRule) -> SecretMatch? {
        let s = i + prefix
        let e = run(s, body, limit: count + 1)
        guard e - s == count, !isClass(e, end), looksRandom(s, e) else { return nil }
        return SecretMatch(rule: rule, range: i..<e)
    }

    /// `min` to `max` bytes of `body` after the prefix, then a byte outside `end`.
    func variable(
        _ i: Int, prefix: Int, min: Int, max: Int, _ body: UInt16, end: UInt16,
        _ rule: SecretRule
    ) -> SecretMatch? {
        let s = i + prefix
        let e = run(s, body, limit: max + 1)
        guard e - s >= min, e - s <= max, !isClass(e, end), looksRandom(s, e) else { return nil }
        return SecretMatch(rule: rule, range: i..<e)
    }

    func awsAccessKey(_ i: Int) -> SecretMatch? {
        guard let m = fixed(i, prefix: 4, count: 16, B.upper | B.digit, end: B.word, .awsAccessKey) else { return nil }
        // `ASIA` is also a word: an all-letter "ASIA…" run is a shouted identifier, not an STS key.
        if p[i + 1] == UInt8(ascii: "S"), !hasClasses(i + 4, m.range.upperBound, B.digit) { return nil }
        return m
    }

    func github(_ i: Int) -> SecretMatch? {
        if starts(i, "github_pat_") {
            return variable(i, prefix: 11, min: 80, max: 251, B.word, end: B.word, .githubFineGrainedToken)
        }
        guard "pousr".utf8.contains(byte(i + 2)), byte(i + 3) == UInt8(ascii: "_") else { return nil }
        return variable(i, prefix: 4, min: 36, max: 251, B.alnum, end: B.word, .githubToken)
    }

    func gitlab(_ i: Int) -> SecretMatch? {
        let prefixes: [StaticString] = ["glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-"]
        guard let prefix = prefixes.first(where: { starts(i, $0) }) else { return nil }
        let s = i + prefix.utf8CodeUnitCount
        var e = run(s, B.base64url, limit: 256)
        guard e - s >= 20, e - s <= 255, looksRandom(s, e) else { return nil }
        // Routable tokens append `.version.checksum` parts.
        var parts = 0
        while parts < 2, byte(e) == UInt8(ascii: "."), isClass(e + 1, B.alnum) {
            e = run(e + 1, B.base64url, limit: 64)
            parts += 1
        }
        guard !isClass(e, B.base64url) else { return nil }
        return SecretMatch(rule: .gitlabToken, range: i..<e)
    }

    func slackToken(_ i: Int) -> SecretMatch? {
        var s: Int
        if starts(i, "xoxe.xoxp-") || starts(i, "xoxe.xoxb-") {
            s = i + 10
        } else if starts(i, "xapp-") {
            s = i + 5
        } else if starts(i, "xox"), "abposre".utf8.contains(byte(i + 3)), byte(i + 4) == UInt8(ascii: "-") {
            s = i + 5
        } else {
            return nil
        }
        let bodyStart = s
        var parts = 0
        var lastStart = s
        var e = s
        while parts < 8 {
            let partEnd = run(s, B.alnum, limit: 128)
            guard partEnd > s else { return nil }
            if parts == 0, run(s, B.digit, limit: 128) != partEnd { return nil }  // team/app number first
            parts += 1
            lastStart = s
            e = partEnd
            guard byte(e) == UInt8(ascii: "-"), isClass(e + 1, B.alnum) else { break }
            s = e + 1
        }
        guard parts >= 3, e - lastStart >= 8, e - bodyStart >= 20, !isClass(e, B.base64url),
            looksRandom(lastStart, e)
        else { return nil }
        return SecretMatch(rule: .slackToken, range: i..<e)
    }

    func slackWebhook(_ i: Int) -> SecretMatch? {
        var s = i + 16
        if starts(s, "services/") {
            s += 9
        } else if starts(s, "workflows/") {
            s += 10
        } else if starts(s, "triggers/") {
            s += 9
        } else {
            return nil
        }
        let e = run(s, B.base64url | B.slash, limit: 257)
        guard e - s >= 20, e - s <= 256 else { return nil }
        var slashes = 0
        var lastPart = s
        for j in s..<e where p[j] == UInt8(ascii: "/") {
            slashes += 1
            lastPart = j + 1
        }
        // Slack's own documentation uses T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX.
        guard slashes >= 2, e - lastPart >= 8, looksRandom(lastPart, e), looksRandom(s, e) else { return nil }
        return SecretMatch(rule: .slackWebhook, range: s..<e)
    }

    /// `sk-` keys: Anthropic's `sk-ant-<kind><version>-`, OpenAI's `sk-proj-` family, older `sk-<alnum>`.
    func dashKey(_ i: Int) -> SecretMatch? {
        if starts(i, "sk-ant-") {
            let kindEnd = run(i + 7, B.lower, limit: 12)
            let versionEnd = run(kindEnd, B.digit, limit: 4)
            guard kindEnd - (i + 7) >= 2, versionEnd > kindEnd, byte(versionEnd) == UInt8(ascii: "-") else {
                return nil
            }
            return variable(
                i, prefix: versionEnd + 1 - i, min: 32, max: 400, B.base64url, end: B.base64url,
                .anthropicKey)
        }
        for prefix: StaticString in ["sk-proj-", "sk-svcacct-", "sk-admin-"] where starts(i, prefix) {
            guard
                let m = variable(
                    i, prefix: prefix.utf8CodeUnitCount, min: 40, max: 400, B.base64url,
                    end: B.base64url, .openAIKey),
                mixedClasses(i + prefix.utf8CodeUnitCount, m.range.upperBound)
            else { return nil }
            return m
        }
        guard let m = variable(i, prefix: 3, min: 32, max: 250, B.alnum, end: B.base64url, .openAIKey),
            mixedClasses(i + 3, m.range.upperBound)
        else { return nil }
        return m
    }

    func sendGrid(_ i: Int) -> SecretMatch? {
        let a = run(i + 3, B.base64url, limit: 23)
        guard a - (i + 3) == 22, byte(a) == UInt8(ascii: ".") else { return nil }
        let e = run(a + 1, B.base64url, limit: 44)
        guard e - (a + 1) == 43, !isClass(e, B.base64url), looksRandom(i + 3, a), looksRandom(a + 1, e) else {
            return nil
        }
        return SecretMatch(rule: .sendGridKey, range: i..<e)
    }

    func jwt(_ i: Int) -> SecretMatch? {
        let h = run(i, B.base64url, limit: 2048)
        guard h - i >= 10, byte(h) == UInt8(ascii: "."), starts(h + 1, "eyJ") else { return nil }
        let b = run(h + 1, B.base64url, limit: 16384)
        guard b - (h + 1) >= 10, byte(b) == UInt8(ascii: ".") else { return nil }
        let e = run(b + 1, B.base64url, limit: 2048)
        guard e - (b + 1) >= 16, !isClass(e, B.base64url), looksRandom(b + 1, e) else { return nil }
        // A fourth part would make it a JWE or something else; a sentence's final dot is fine.
        if byte(e) == UInt8(ascii: "."), isClass(e + 1, B.base64url) { return nil }
        guard headerHasAlg(i, h) else { return nil }
        return SecretMatch(rule: .jwt, range: i..<e)
    }

    /// Decodes the base64url JWT header and looks for an `"alg"` member name.
    func headerHasAlg(_ s: Int, _ e: Int) -> Bool {
        var decoded: [UInt8] = []
        decoded.reserveCapacity((e - s) * 3 / 4 + 3)
        var acc: UInt32 = 0
        var bits = 0
        for j in s..<e {
            let c = p[j]
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): v = 62
            default: v = 63  // `_`; the caller's run admits nothing else
            }
            acc = (acc << 6 | v) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                decoded.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        let needle = Array("\"alg\"".utf8)
        guard decoded.count >= needle.count else { return false }
        for k in 0...(decoded.count - needle.count) where decoded[k..<(k + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }

    // MARK: PEM private keys

    func privateKey(_ i: Int) -> SecretMatch? {
        guard byte(i - 1) != UInt8(ascii: "-"), starts(i, "-----BEGIN ") else { return nil }
        // Label: upper-case words, ending in PRIVATE KEY (and PGP's BLOCK).
        var j = i + 11
        let labelEnd = run(j, B.upper | B.digit | B.blank, limit: 40)
        guard labelEnd > j else { return nil }
        j = labelEnd
        let label = UnsafeBufferPointer(rebasing: p[(i + 11)..<labelEnd])
        guard label.count >= 11, Self.endsWith(label, "PRIVATE KEY") || Self.endsWith(label, "PRIVATE KEY BLOCK"),
            starts(j, "-----")
        else { return nil }
        j += 5
        // Body: base64 lines, indentation, PEM header lines (`Proc-Type: 4,ENCRYPTED`), real
        // newlines or JSON `\n` escapes, until `-----END`. Anything else (prose, `...`, a Markdown
        // quote) ends the body.
        let limit = 65536 >= n - j ? n : j + 65536
        var base64Count = 0
        var lastBase64End = j
        var lastLineEnd = j  // the end of the last whole line of the body
        var bodyEnd = -1  // set when the body stops in the middle of a line
        var lineStart = true
        var seen: (UInt64, UInt64) = (0, 0)
        var foundEnd = -1
        while j < limit {
            let c = p[j]
            if c == UInt8(ascii: "-") {
                if starts(j, "-----END") {
                    foundEnd = j
                    break
                }
                j += 1
                lineStart = false
                continue
            }
            let k = table[Int(c)]
            if k & (B.base64) != 0 || c == UInt8(ascii: "=") {
                base64Count += 1
                Self.mark(&seen, c)
                j += 1
                lastBase64End = j
                lineStart = false
            } else if c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                j += 1
                lineStart = true
                lastLineEnd = lastBase64End
            } else if c == UInt8(ascii: ">"), lineStart {
                j += 1  // a Markdown block quote
            } else if c == UInt8(ascii: "\\"), byte(j + 1) == UInt8(ascii: "n") || byte(j + 1) == UInt8(ascii: "r") {
                j += 2
                lineStart = true
                lastLineEnd = lastBase64End
            } else if k & B.blank != 0, lineStart || byte(j - 1) == UInt8(ascii: ":") {
                j += 1
            } else if c == UInt8(ascii: ":") || c == UInt8(ascii: ",") {
                j += 1
                lineStart = false
            } else {
                // A closing quote or backtick ends a key written inside a string or code span; anything
                // else (a space, a full stop) means this line is prose, not part of the key.
                let closes = c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "`")
                bodyEnd = closes ? lastBase64End : lastLineEnd
                break
            }
        }
        guard base64Count >= 64, Self.distinct(seen) >= 16 else { return nil }
        if foundEnd >= 0 {
            // Through the closing dashes of the END line.
            let footerLimit = 80 >= n - foundEnd ? n : foundEnd + 80
            var f = foundEnd + 8
            while f < footerLimit {
                if starts(f, "-----") { return SecretMatch(rule: .privateKey, range: i..<(run(f, B.dash, limit: 16))) }
                f += 1
            }
            return SecretMatch(rule: .privateKey, range: i..<(foundEnd + 8))
        }
        let end = bodyEnd >= 0 ? bodyEnd : lastBase64End
        guard end > i else { return nil }
        return SecretMatch(rule: .privateKey, range: i..<end)
    }

    static func endsWith(_ s: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let k = literal.utf8CodeUnitCount
        guard s.count >= k else { return false }
        let q = literal.utf8Start
        for j in 0..<k where s[s.count - k + j] != q[j] { return false }
        return true
    }

    // MARK: URL user information

    /// At the `:` of `://`: the password of `scheme://user:password@host`.
    func urlPassword(_ i: Int) -> SecretMatch? {
        // A scheme: a letter, then letters, digits, `+.-` (`mongodb+srv`, `jdbc:postgresql` ends at `:`).
        var s = i
        while s > 0, i - s < 32,
            isClass(s - 1, B.alnum) || byte(s - 1) == UInt8(ascii: "+")
                || byte(s - 1) == UInt8(ascii: ".") || byte(s - 1) == UInt8(ascii: "-")
        { s -= 1 }
        guard s < i, isClass(s, B.letter) else { return nil }
        let start = i + 3
        let limit = 512 >= n - start ? n : start + 512
        var j = start
        var atSign = -1
        while j < limit {
            let c = p[j]
            if c == UInt8(ascii: "@") { atSign = j } else if table[Int(c)] & B.authorityStop != 0 { break }
            j += 1
        }
        guard atSign > start, isClass(atSign + 1, B.alnum) else { return nil }
        var colon = -1
        for k in start..<atSign where p[k] == UInt8(ascii: ":") {
            colon = k
            break
        }
        guard colon >= start, colon + 1 < atSign else { return nil }  // `redis://:password@` has no user
        let ps = colon + 1
        // A provider token used as the password (`https://x-access-token:ghs_…@github.com`) keeps its own rule.
        if isClass(ps, B.start), let specific = prefixRules(ps), specific.range.upperBound <= atSign { return specific }
        let password = UnsafeBufferPointer(rebasing: p[ps..<atSign])
        let user = UnsafeBufferPointer(rebasing: p[start..<colon])
        guard Self.passwordLooksReal(password), !Self.equalFolded(password, user) else { return nil }
        return SecretMatch(rule: .connectionStringPassword, range: ps..<atSign)
    }

    /// A password that is not a placeholder (`$PASS`, `%s`, `***`), a run of one character, or
    /// words and a few digits (`password`, `postgres`, `hunter2`, `Password123`): those are what
    /// documentation shows; generated and real passwords mix characters.
    static func passwordLooksReal(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count >= 6, v.count <= 128 else { return false }
        switch v[0] {
        case UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "*"), UInt8(ascii: "&"): return false
        default: break
        }
        if v.allSatisfy({ $0 == v[0] }) { return false }
        if identifierLike(v) || singleCaseWords(v) { return false }
        if containsFolded(v, "xxxx") || containsFolded(v, "....") { return false }
        return true
    }

    // MARK: Assignments

    /// At `:` or `=`: a secret-like value assigned to a secret-like name. Also the forms of prose
    /// runbooks, whose value test is stricter (no hex, which in prose is a commit or a hash):
    /// `Staging DB password: value`, `| DB password | value |`, ``the admin password is `value` ``.
    func assignment(_ op: Int) -> SecretMatch? {
        var kind = NameKind.plain
        var prose = false
        var v = op + 1
        var skipped = 0
        switch p[op] {
        case UInt8(ascii: "|"):
            // A table row: the previous cell names a secret; the next cell is the value, alone.
            guard byte(op + 1) == UInt8(ascii: " ") || byte(op + 1) == UInt8(ascii: "`"), longTokenFollows(op + 1),
                phraseNamesSecret(endingAt: op)
            else { return nil }
            prose = true
        case UInt8(ascii: "`"):
            // `… is `value``, `… was `value``, `set … to `value``.
            var w = op
            while w > 0, op - w < 2, byte(w - 1) == UInt8(ascii: " ") { w -= 1 }
            guard w < op, longTokenFollows(op) else { return nil }
            let wordEnd = w
            while w > 0, wordEnd - w < 4, isClass(w - 1, B.lower) { w -= 1 }
            guard byte(w - 1) == UInt8(ascii: " "),
                Self.equalFolded(UnsafeBufferPointer(rebasing: p[w..<wordEnd]), "is")
                    || Self.equalFolded(UnsafeBufferPointer(rebasing: p[w..<wordEnd]), "was")
                    || Self.equalFolded(UnsafeBufferPointer(rebasing: p[w..<wordEnd]), "to"),
                phraseNamesSecret(endingAt: w - 1)
            else { return nil }
            prose = true
            v = op  // the backtick opens the value
        default:
            // The name, backwards: spaces, a closing quote or `**`, then name bytes.
            var k = op
            while k > 0, skipped < 8, isClass(k - 1, B.blank) {
                k -= 1
                skipped += 1
            }
            skipped = 0
            while k > 0, skipped < 3, Self.isClosing(p[k - 1]) {
                k -= 1
                skipped += 1
            }
            let nameEnd = k
            while k > 0, nameEnd - k < 64, isClass(k - 1, B.name) { k -= 1 }
            let name = UnsafeBufferPointer(rebasing: p[k..<nameEnd])
            if name.count >= 3, let named = Self.secretName(name) {
                kind = named
                // `?pwd=` in a URL is a meeting link's passcode (Zoom, Webex), shared with every invitee.
                if byte(k - 1) == UInt8(ascii: "?") || byte(k - 1) == UInt8(ascii: "&"),
                    name.count == 3, Self.containsFolded(name, "pwd")
                {
                    return nil
                }
            } else if p[op] == UInt8(ascii: ":"),
                byte(op + 1) == UInt8(ascii: " ") || byte(op + 1) == UInt8(ascii: "*"),
                longTokenFollows(op + 1), phraseNamesSecret(endingAt: op)
            {
                prose = true
            } else {
                return nil
            }
            // The operator: `=`, `:`, `:=`, `=>`; not `==`.
            if p[op] == UInt8(ascii: "=") {
                if byte(v) == UInt8(ascii: "=") { return nil }
                if byte(v) == UInt8(ascii: ">") { v += 1 }
            } else if byte(v) == UInt8(ascii: "=") {
                v += 1
            }
        }
        skipped = 0
        while skipped < 16, isClass(v, B.blank) || (byte(v) == UInt8(ascii: "*") && !prose) {
            v += 1
            skipped += 1
        }
        if prose {
            while skipped < 16, byte(v) == UInt8(ascii: "*") {
                v += 1
                skipped += 1
            }
        }
        var basic = false
        // An HTTP authorization scheme before the credential.
        if startsFolded(v, "bearer ") {
            v += 7
        } else if startsFolded(v, "token ") {
            v += 6
        } else if startsFolded(v, "basic ") {
            v += 6
            basic = true
        }
        skipped = 0
        while skipped < 16, isClass(v, B.blank) {
            v += 1
            skipped += 1
        }
        // An opening quote (also the escaped quote of JSON inside a string).
        if byte(v) == UInt8(ascii: "\\"), byte(v + 1) == UInt8(ascii: "\"") { v += 1 }
        var quote: UInt8 = 0
        if byte(v) == UInt8(ascii: "\"") || byte(v) == UInt8(ascii: "'") || byte(v) == UInt8(ascii: "`") {
            quote = p[v]
            v += 1
        }
        guard v < n else { return nil }
        // A provider-shaped value keeps its own, more precise rule.
        if isClass(v, B.start), let specific = prefixRules(v) { return specific }
        if p[v] == UInt8(ascii: "-"), let specific = privateKey(v) { return specific }

        var e = v
        let limit = 257 >= n - v ? n : v + 257
        if quote != 0 {
            while e < limit, p[e] != quote, p[e] != UInt8(ascii: "\\") || byte(e + 1) != quote {
                if p[e] < 0x21 || p[e] >= 0x7F { return nil }  // spaces, line ends, non-ASCII: not a token
                e += 1
            }
            guard e < limit else { return nil }
        } else {
            while e < limit, table[Int(p[e])] & B.valueStop == 0 { e += 1 }
            guard e < limit || e == n else { return nil }
            if byte(e) == UInt8(ascii: "(") { return nil }  // code: `token = makeToken(…)`
            // An ellipsis marks an elided example (`eyJhbGciOi...`, `sk_live_…`); one dot ends a sentence.
            if byte(e) == 0xE2, byte(e + 1) == 0x80, byte(e + 2) == 0xA6 { return nil }
            var dots = 0
            while e > v, p[e - 1] == UInt8(ascii: ".") {
                e -= 1
                dots += 1
            }
            if dots >= 2 { return nil }
        }
        guard e > v else { return nil }
        if p[op] == UInt8(ascii: "|") {
            // The value must be the whole cell.
            var f = quote != 0 ? e + 1 : e
            while isClass(f, B.blank) { f += 1 }
            guard f >= n || p[f] == UInt8(ascii: "|") || p[f] == UInt8(ascii: "\n") || p[f] == UInt8(ascii: "\r") else {
                return nil
            }
        }
        let value = UnsafeBufferPointer(rebasing: p[v..<e])
        if prose, Self.hexOrNumber(value) { return nil }
        if value.contains(UInt8(ascii: "[")) || value.contains(UInt8(ascii: "]")) { return nil }

        if kind == .awsSecret, value.count == 40, value.allSatisfy({ table[Int($0)] & B.base64 != 0 }),
            Self.mixed(value), !Self.placeholder(value)
        {
            return SecretMatch(rule: .awsSecretKey, range: v..<e)
        }
        if basic, let decoded = Self.base64Decode(value), let colon = decoded.firstIndex(of: UInt8(ascii: ":")) {
            // `Basic base64(user:password)`: judge the password as a URL's.
            let password = Array(decoded[(colon + 1)...])
            let real = password.withUnsafeBufferPointer { Self.passwordLooksReal($0) }
            return real ? SecretMatch(rule: .genericSecret, range: v..<e) : nil
        }
        guard Self.genericValueLooksSecret(value) else { return nil }
        return SecretMatch(rule: .genericSecret, range: v..<e)
    }

    /// What an assigned name says: a secret, or AWS's secret access key in particular.
    enum NameKind { case plain, awsSecret }

    /// A quote, backtick, `*` (Markdown bold) or `\\` (an escaped quote) between a name and its operator.
    @inline(__always) static func isClosing(_ c: UInt8) -> Bool {
        c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "`") || c == UInt8(ascii: "*")
            || c == UInt8(ascii: "\\")
    }

    /// Whether, after blanks, `*` and one quote, 12 or more value bytes follow: the generic rule's
    /// minimum, checked before the costlier look at the words before a prose form.
    func longTokenFollows(_ i: Int) -> Bool {
        var v = i
        var skipped = 0
        while skipped < 16, isClass(v, B.blank) || byte(v) == UInt8(ascii: "*") {
            v += 1
            skipped += 1
        }
        if byte(v) == UInt8(ascii: "`") || byte(v) == UInt8(ascii: "\"") || byte(v) == UInt8(ascii: "'") { v += 1 }
        guard v >= 0, v <= n - 12 else { return false }
        for j in v..<(v + 12) where table[Int(p[j])] & B.valueStop != 0 { return false }
        return true
    }

    /// Whether the words just before `end` on its line (back to a `|` or 80 bytes) name a secret:
    /// "Staging DB password", "Bearer token for the staging API", "`DB_PASSWORD`". A keyword word
    /// followed by a word about the secret ("token budget", "password policy") does not count.
    func phraseNamesSecret(endingAt end: Int) -> Bool {
        guard end > 0, end <= n else { return false }
        var s = end
        while s > 0, end - s < 80, p[s - 1] != UInt8(ascii: "\n"), p[s - 1] != UInt8(ascii: "\r"),
            p[s - 1] != UInt8(ascii: "|")
        { s -= 1 }
        let phrase = UnsafeBufferPointer(rebasing: p[s..<end])
        guard Self.hasHint(phrase) else { return false }
        // Words: letter runs, split at camelCase humps, folded; only the last six count.
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        var previous: UInt8 = 0
        for c in phrase {
            let isUpper = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")
            let isLower = c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")
            let wasLower = previous >= UInt8(ascii: "a") && previous <= UInt8(ascii: "z")
            if isUpper || isLower {
                if isUpper, wasLower, !current.isEmpty {
                    words.append(current)
                    current = []
                }
                current.append(Self.fold(c))
            } else if !current.isEmpty {
                words.append(current)
                current = []
            }
            previous = c
        }
        if !current.isEmpty { words.append(current) }
        let recent = words.suffix(6)
        let key = SecretNames.key
        for (offset, word) in recent.enumerated() {
            let index = recent.startIndex + offset
            let next = index + 1 < recent.endIndex ? recent[index + 1] : nil
            let isKeyword =
                SecretNames.proseWords.contains(word)
                || SecretNames.endings.contains(where: { word.count > $0.count && Self.hasSuffix(word, $0) })
                || (SecretNames.keyOwners.contains(word) && next == key)
            guard isKeyword else { continue }
            let after = next == key ? (index + 2 < recent.endIndex ? recent[index + 2] : nil) : next
            if let after, SecretNames.deny.contains(after) || SecretNames.proseDeny.contains(after) { continue }
            return true
        }
        return false
    }

    /// Whether `v` holds, in any case, a stem of a keyword: pass, pwd, secret, token, key, auth,
    /// credential, bearer. One pass with a switch, so that most names and phrases cost a few cycles.
    static func hasHint(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        var j = 0
        while j < v.count {
            let rest = UnsafeBufferPointer(rebasing: v[j...])
            switch v[j] | 0x20 {
            case UInt8(ascii: "p"): if startsFolded(rest, "pass") || startsFolded(rest, "pwd") { return true }
            case UInt8(ascii: "s"): if startsFolded(rest, "secret") { return true }
            case UInt8(ascii: "t"): if startsFolded(rest, "token") { return true }
            case UInt8(ascii: "k"): if startsFolded(rest, "key") { return true }
            case UInt8(ascii: "a"): if startsFolded(rest, "auth") { return true }
            case UInt8(ascii: "c"): if startsFolded(rest, "credential") { return true }
            case UInt8(ascii: "b"): if startsFolded(rest, "bearer") { return true }
            default: break
            }
            j += 1
        }
        return false
    }

    static func startsFolded(_ v: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let k = literal.utf8CodeUnitCount
        guard v.count >= k else { return false }
        let q = literal.utf8Start
        for j in 0..<k where fold(v[j]) != q[j] { return false }
        return true
    }

    /// Hex digits, digits and separators only: in prose, a commit, a hash, an id or a number.
    static func hexOrNumber(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        v.allSatisfy { c in
            (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || (fold(c) >= UInt8(ascii: "a") && fold(c) <= UInt8(ascii: "f"))
                || c == UInt8(ascii: "-") || c == UInt8(ascii: ":") || c == UInt8(ascii: ".")
        }
    }

    /// Whether an assigned name says "secret": split into parts at `_-.` and lower-to-upper case
    /// changes (`dbPassword`, `DB_PASSWORD`, `X-Api-Key`), one part must be a keyword or end with
    /// one (`PGPASSWORD`, `APIKEY`), and neither the next part nor the last may say the value is
    /// about the secret rather than the secret (`token_budget`, `secretKeyRef`, `password_file`).
    /// Plurals and longer words (`max_tokens`, `tokenizer`, `author`) are not keywords.
    static func secretName(_ name: UnsafeBufferPointer<UInt8>) -> NameKind? {
        // Cheap reject: most names before a `:` or `=` hold no keyword at all.
        guard hasHint(name) else { return nil }
        var parts: [[UInt8]] = []
        var current: [UInt8] = []
        var previous: UInt8 = 0
        for c in name {
            if c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") {
                if !current.isEmpty {
                    parts.append(current)
                    current = []
                }
            } else {
                let isUpper = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")
                let wasLower = previous >= UInt8(ascii: "a") && previous <= UInt8(ascii: "z")
                if isUpper, wasLower, !current.isEmpty {
                    parts.append(current)
                    current = []
                }
                current.append(fold(c))
            }
            previous = c
        }
        if !current.isEmpty { parts.append(current) }
        guard !parts.isEmpty else { return nil }
        let endings = SecretNames.endings
        let whole = SecretNames.whole
        let keyOwners = SecretNames.keyOwners
        let deny = SecretNames.deny
        let last = parts[parts.count - 1]
        var found: NameKind? = nil
        var idx = 0
        while idx < parts.count {
            let part = parts[idx]
            var keywordEnd = -1
            if endings.contains(where: { hasSuffix(part, $0) }) || (idx == parts.count - 1 && whole.contains(part)) {
                keywordEnd = idx
            } else if keyOwners.contains(part), idx + 1 < parts.count, parts[idx + 1] == SecretNames.key {
                keywordEnd = idx + 1
            }
            if keywordEnd >= 0 {
                let nextDenied = keywordEnd + 1 < parts.count && deny.contains(parts[keywordEnd + 1])
                if !nextDenied {
                    found = found ?? .plain
                    // AWS's names: aws_secret_access_key, AWS_SECRET_KEY, SecretAccessKey (STS JSON).
                    let secretAccessKey =
                        part == SecretNames.secretAccessKey
                        || (idx + 2 < parts.count && parts[idx + 1] == SecretNames.access
                            && parts[idx + 2] == SecretNames.key)
                    if hasSuffix(part, SecretNames.secret) || secretAccessKey,
                        secretAccessKey || parts.contains(where: { hasPrefix($0, SecretNames.aws) })
                    {
                        found = .awsSecret
                    }
                }
                idx = keywordEnd + 1
                continue
            }
            idx += 1
        }
        guard let kind = found else { return nil }
        if parts.count > 1, deny.contains(last) { return nil }
        return kind
    }

    /// The generic rule's value test: long enough, one token, not a placeholder, path, URL, number,
    /// UUID or words, and random enough (Shannon entropy at least 3 bits per character).
    static func genericValueLooksSecret(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count >= 12, v.count <= 256 else { return false }
        if placeholder(v) { return false }
        switch v[0] {
        case UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "#"), UInt8(ascii: "@"), UInt8(ascii: "!"),
            UInt8(ascii: "&"), UInt8(ascii: "\\"):
            return false
        case UInt8(ascii: "/"):
            // An absolute path, unless it is base64 that happens to start with `/`.
            if identifierLike(v, maxDigits: 8) { return false }
        default: break
        }
        if containsFolded(v, "://") || containsFolded(v, "${") || containsFolded(v, "{{") || containsFolded(v, "$(")
            || containsFolded(v, ":\\") || containsFolded(v, "()")
        {
            return false
        }  // URLs, templates, code
        if v.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { return false }
        if isUUID(v) { return false }
        if identifierLike(v) || singleCaseWords(v) { return false }
        if pathLike(v) { return false }
        if ascendingRun(v) { return false }
        if hexAddress(v) { return false }
        if encodesWords(v) { return false }
        return entropy(v) >= 3.0
    }

    /// `$VAR`, `%s`, `<…>`, `{…}`, `****`, `xxxx`, `...`, one repeated character.
    static func placeholder(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = v.first else { return true }
        switch first {
        case UInt8(ascii: "$"), UInt8(ascii: "<"), UInt8(ascii: "{"), UInt8(ascii: "%"), UInt8(ascii: "*"),
            UInt8(ascii: "("):
            return true
        default: break
        }
        if v.allSatisfy({ $0 == first }) { return true }
        return containsFolded(v, "xxxx") || containsFolded(v, "****") || containsFolded(v, "..")
            || containsFolded(v, "<") || containsFolded(v, ">") || containsFolded(v, "your_")
            || containsFolded(v, "your-") || containsFolded(v, "_here") || containsFolded(v, "-here")
    }

    /// Only words and short numbers joined by `_-./:@?!#` or case changes: `YOUR_TOKEN_HERE`,
    /// `MySecretPassword`, `fabric-gitops-ro`, `kv/prod/signing-key`, `Password123`, `admin@example.com`.
    /// A word is lower-case, upper-case or Capitalised letters with a vowel and no run of five
    /// consonants, then at most `maxDigits` digits; random text fails one of these within a few letters.
    static func identifierLike(_ v: UnsafeBufferPointer<UInt8>, maxDigits: Int = 4) -> Bool {
        var letters = 0
        var uppers = 0
        var vowels = 0
        var consonantRun = 0
        var digits = 0
        var lowerAfterUpperRun = false  // `QXZhy`: several capitals, then lower case
        var previous: UInt8 = 0
        func pieceIsWord() -> Bool {
            if letters == 0 { return digits <= 12 }  // dates, account ids (`arn:aws:iam::123456789012:role/x`)
            if lowerAfterUpperRun || (letters >= 5 && vowels == 0) { return false }  // `Http`, `JWT` are words
            return digits <= maxDigits
        }
        func newPiece() {
            letters = 0
            uppers = 0
            vowels = 0
            consonantRun = 0
            digits = 0
            lowerAfterUpperRun = false
        }
        for c in v {
            let isUpper = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")
            let isLower = c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")
            let isDigit = c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
            if isUpper || isLower {
                let wasLower = previous >= UInt8(ascii: "a") && previous <= UInt8(ascii: "z")
                if digits > 0 || (isUpper && wasLower) {
                    // A letter after digits, or a camelCase hump, starts a new piece.
                    if digits > 0, letters > 0 { return false }  // letters, digits, letters: `s3cr3t`
                    if !pieceIsWord() { return false }
                    newPiece()
                }
                if isLower, uppers >= 2, uppers == letters { lowerAfterUpperRun = true }
                letters += 1
                if isUpper { uppers += 1 }
                if "aeiouyAEIOUY".utf8.contains(c) {
                    vowels += 1
                    consonantRun = 0
                } else {
                    consonantRun += 1
                    if consonantRun >= 5 { return false }
                }
            } else if isDigit {
                digits += 1
            } else if c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "/") || c == UInt8(ascii: ":") || c == UInt8(ascii: "@")
                || c == UInt8(ascii: "?") || c == UInt8(ascii: "!") || c == UInt8(ascii: "#")
            {
                // `req.headers.authorization?.replace`, `kv/prod#signing_key`
                if !pieceIsWord() { return false }
                newPiece()
            } else {
                return false
            }
            previous = c
        }
        return pieceIsWord()
    }

    /// `0x` and 40 hex digits: an Ethereum-style address (`token: 0x6B17…`), public by design.
    static func hexAddress(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count == 42, v[0] == UInt8(ascii: "0"), v[1] == UInt8(ascii: "x") else { return false }
        return v.dropFirst(2).allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || (fold($0) >= UInt8(ascii: "a") && fold($0) <= UInt8(ascii: "f"))
        }
    }

    /// Base64 of words or prose (`cGFzc3dvcmQ=` is "password"), as in example Kubernetes Secrets;
    /// a real secret's base64 decodes to random bytes or to a random-looking password.
    static func encodesWords(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count % 4 == 0,
            v.allSatisfy({ SecretBytes.table[Int($0)] & SecretBytes.base64 != 0 || $0 == UInt8(ascii: "=") }),
            let decoded = base64Decode(v), !decoded.isEmpty,
            decoded.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        else { return false }
        return decoded.withUnsafeBufferPointer { d in
            d.contains(UInt8(ascii: " ")) || identifierLike(d) || singleCaseWords(d)
        }
    }

    /// Mostly an ascending sequence: `sk-1234567890abcdef`, `abcdefghijklmnop`.
    static func ascendingRun(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        var ascending = 0
        for j in v.indices.dropFirst() where v[j] == v[j - 1] &+ 1 { ascending += 1 }
        return ascending * 2 >= v.count
    }

    /// Letters of one case and `_-.` only (`supersecretjwtkey`, `CHANGE_ME_PLEASE`): run-together
    /// words; generated secrets mix cases or digits.
    static func singleCaseWords(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        var upper = false
        var lower = false
        for c in v {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): upper = true
            case UInt8(ascii: "a")...UInt8(ascii: "z"): lower = true
            case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."): continue
            default: return false
            }
        }
        return !(upper && lower)
    }

    /// A file name with an extension, possibly under folders: `secrets/deploy_key.pem`, `token.json`.
    static func pathLike(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let dot = v.lastIndex(of: UInt8(ascii: ".")), dot > 0 else { return false }
        let ext = v[(dot + 1)...]
        guard (1...5).contains(ext.count),
            ext.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") })
        else { return false }
        return true
    }

    static func isUUID(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        guard v.count == 36 else { return false }
        for (j, c) in v.enumerated() {
            if j == 8 || j == 13 || j == 18 || j == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !(c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                && !(fold(c) >= UInt8(ascii: "a") && fold(c) <= UInt8(ascii: "f"))
            {
                return false
            }
        }
        return true
    }

    static func mixed(_ v: UnsafeBufferPointer<UInt8>) -> Bool {
        var classes = 0
        if v.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) { classes += 1 }
        if v.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) { classes += 1 }
        if v.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) { classes += 1 }
        return classes >= 2
    }

    /// Shannon entropy in bits per byte.
    static func entropy(_ v: UnsafeBufferPointer<UInt8>) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for c in v { counts[Int(c)] += 1 }
        let total = Double(v.count)
        var h = 0.0
        for count in counts where count > 0 {
            let q = Double(count) / total
            h -= q * log2(q)
        }
        return h
    }

    /// log2 without Foundation: exponent plus a short atanh series on the significand in [1, 2).
    static func log2(_ x: Double) -> Double {
        guard x > 0, x.isFinite else { return 0 }
        let m = x.significand
        let z = (m - 1) / (m + 1)  // |z| ≤ 1/3
        let z2 = z * z
        var term = z
        var sum = 0.0
        var k = 1.0
        for _ in 0..<12 {
            sum += term / k
            term *= z2
            k += 2
        }
        return Double(x.exponent) + 2 * sum / 0.693_147_180_559_945_3
    }

    static func base64Decode(_ v: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var bits = 0
        for c in v {
            let d: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): d = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): d = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): d = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): d = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            acc = (acc << 6 | d) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        return out
    }

    // MARK: Shared value tests

    /// Not a placeholder: at least 4 distinct characters, no run of 6 equal ones, not mostly an
    /// ascending sequence (`0123456789abcdef`), no `xxxx`.
    func looksRandom(_ s: Int, _ e: Int) -> Bool {
        guard s >= 0, e <= n, e - s >= 4 else { return false }
        var seen: (UInt64, UInt64) = (0, 0)
        var runLength = 1
        var ascending = 0
        for j in s..<e {
            let c = p[j]
            Self.mark(&seen, c)
            if j > s {
                let previous = p[j - 1]
                if c == previous {
                    runLength += 1
                    if runLength >= 6 { return false }
                } else {
                    runLength = 1
                }
                if c == previous &+ 1 { ascending += 1 }
            }
        }
        if Self.distinct(seen) < 4 { return false }
        if ascending * 2 >= e - s { return false }
        return !Self.containsFolded(UnsafeBufferPointer(rebasing: p[s..<e]), "xxxx")
    }

    /// Whether `[s, e)` has at least one byte of each class mask given.
    func hasClasses(_ s: Int, _ e: Int, _ masks: UInt16...) -> Bool {
        guard s >= 0, e <= n, s < e else { return false }
        for mask in masks where !(s..<e).contains(where: { table[Int(p[$0])] & mask != 0 }) { return false }
        return true
    }

    func mixedClasses(_ s: Int, _ e: Int) -> Bool {
        guard s >= 0, e <= n, s < e else { return false }
        return Self.mixed(UnsafeBufferPointer(rebasing: p[s..<e]))
    }

    @inline(__always) static func mark(_ seen: inout (UInt64, UInt64), _ c: UInt8) {
        if c < 64 { seen.0 |= 1 << UInt64(c) } else if c < 128 { seen.1 |= 1 << UInt64(c - 64) }
    }

    static func distinct(_ seen: (UInt64, UInt64)) -> Int { seen.0.nonzeroBitCount + seen.1.nonzeroBitCount }

    /// Case-insensitive substring test; `needle` must be lower-case ASCII.
    static func containsFolded(_ v: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        let k = needle.utf8CodeUnitCount
        guard k > 0, v.count >= k else { return false }
        let q = needle.utf8Start
        outer: for start in 0...(v.count - k) {
            for j in 0..<k where fold(v[start + j]) != q[j] { continue outer }
            return true
        }
        return false
    }

    /// Whether `a` is `literal` (lower-case ASCII), ignoring case.
    static func equalFolded(_ a: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard a.count == literal.utf8CodeUnitCount else { return false }
        let q = literal.utf8Start
        for j in 0..<a.count where fold(a[j]) != q[j] { return false }
        return true
    }

    static func equalFolded(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { fold($0) == fold($1) }
    }

    static func hasSuffix(_ s: [UInt8], _ suffix: [UInt8]) -> Bool {
        s.count >= suffix.count && s[(s.count - suffix.count)...].elementsEqual(suffix)
    }

    static func hasPrefix(_ s: [UInt8], _ prefix: [UInt8]) -> Bool {
        s.count >= prefix.count && s[..<prefix.count].elementsEqual(prefix)
    }

    // MARK: Repeats

    /// The matches plus every other occurrence of a matched value (6 bytes or more) that overlaps no
    /// match, so that redaction leaves no copy: a secret pasted twice is found where it is assigned
    /// and must go from both places.
    func withRepeats(_ matches: [SecretMatch]) -> [SecretMatch] {
        guard !matches.isEmpty, n > 0 else { return matches }
        // Distinct values by their first two bytes; a 64K-bit filter keeps the pass to one lookup a byte.
        var values: [(bytes: [UInt8], rule: SecretRule)] = []
        var seenValues = Set<[UInt8]>()
        for match in matches where match.range.count >= 6 {
            let bytes = Array(UnsafeBufferPointer(rebasing: p[match.range]))
            if seenValues.insert(bytes).inserted { values.append((bytes, match.rule)) }
        }
        guard !values.isEmpty else { return matches }
        var filter = [UInt64](repeating: 0, count: 1024)
        var byPrefix: [UInt16: [Int]] = [:]
        for (index, value) in values.enumerated() {
            let key = UInt16(value.bytes[0]) << 8 | UInt16(value.bytes[1])
            filter[Int(key >> 6)] |= 1 << UInt64(key & 63)
            byPrefix[key, default: []].append(index)
        }
        var added: [SecretMatch] = []
        var next = 0  // first original match that may still overlap
        var i = 0
        while i < n - 1 {
            let key = UInt16(p[i]) << 8 | UInt16(p[i + 1])
            guard filter[Int(key >> 6)] & (1 << UInt64(key & 63)) != 0, let candidates = byPrefix[key] else {
                i += 1
                continue
            }
            var best = -1
            for index in candidates {
                let bytes = values[index].bytes
                guard bytes.count <= n - i else { continue }
                var equal = true
                for j in 0..<bytes.count where p[i + j] != bytes[j] {
                    equal = false
                    break
                }
                if equal, best < 0 || bytes.count > values[best].bytes.count { best = index }
            }
            guard best >= 0 else {
                i += 1
                continue
            }
            let range = i..<(i + values[best].bytes.count)
            while next < matches.count, matches[next].range.upperBound <= range.lowerBound { next += 1 }
            let overlaps = next < matches.count && matches[next].range.lowerBound < range.upperBound
            if overlaps {
                i += 1
                continue
            }
            added.append(SecretMatch(rule: values[best].rule, range: range))
            i = range.upperBound
        }
        guard !added.isEmpty else { return matches }
        return (matches + added).sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}
