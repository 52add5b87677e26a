public import Foundation
import Yams

/// Settings from `<root>/.ctxmem.yaml`; every key is optional.
///
/// ```yaml
/// include: ["docs/**/*.md"]          # more memory files, beside the built-in kinds
/// exclude: ["vendor/**", "*.draft.md"]
/// import_depth: 4                     # Claude Code's documented limit
/// max_file_size: 8388608              # bytes; larger files are skipped and recorded
/// tier_rules:
///   - path: "project_management/archive/**"
///     tier: operational
/// tokenizer: Tokenizers/claude2-tokenizer.json   # exact BPE (HF tokenizer.json); default: the estimator
/// budget: 200000                      # default pack budget in tokens (an agent's context.budget wins)
/// token_factor: 1.0                   # per-model factor on every count (e.g. 1.35 for newer tokenizers)
/// safety_margin: 0.05                 # extra share reserved against counting error (default: 5% estimator, 0 exact)
/// essential_share: 0.2                # most of a pack's budget the essential tier may take (an agent's context wins)
/// secrets:                            # credentials are redacted everywhere; false positives:
///   allow_values: [AKIAIOSFODNN7EXAMPLE]   #   exact values kept as written
///   disable_rules: [stripe-test-key]       #   rules turned off (docs/security.md lists them)
/// handoffs: true                      # keep each sub-agent's report (SubagentStop) as memory; or a mapping:
/// # handoffs: {enabled: true, folder: project_management/handoffs, max_report_bytes: 32768, max_folder_bytes: 2097152}
/// ```
public struct Configuration: Codable, Sendable, Equatable {
    /// Extra files to index as memory, beside the built-in kinds.
    public var include: [String]
    /// Files and folders never indexed (matched before anything else).
    public var exclude: [String]
    /// How many `@import` hops Claude Code follows; imports beyond are recorded as too deep.
    public var importDepth: Int
    /// Files larger than this many bytes are skipped and recorded.
    public var maxFileSize: Int
    /// Path rules that set a tier, applied after markers and frontmatter.
    public var tierRules: [TierRule]
    /// An HF `tokenizer.json` for exact counts (relative to the root or absolute); nil: the estimator.
    public var tokenizer: String?
    /// The default pack budget in tokens.
    public var budget: Int?
    /// Multiplies every count (for models whose tokenizer differs from the offline one).
    public var tokenFactor: Double
    /// Share added to every pack count against counting error; nil: the counter's default.
    public var safetyMargin: Double?
    /// Exceptions to secret redaction.
    public var secrets: SecretSettings
    /// The most of a pack's budget the essential tier may take (0...1); nil: ``defaultEssentialShare``.
    public var essentialShare: Double?
    /// Sub-agents' reports kept as memory (off unless turned on).
    public var handoffs: HandoffSettings

    /// Exceptions to redaction: credentials are never indexed or emitted unless listed here.
    public struct SecretSettings: Codable, Sendable, Equatable {
        /// Exact values that are not secrets (a documented example key).
        public var allowValues: [String]
        /// Rule ids turned off.
        public var disableRules: [String]

        public init(allowValues: [String] = [], disableRules: [String] = []) {
            self.allowValues = allowValues
            self.disableRules = disableRules
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case allowValues = "allow_values"
            case disableRules = "disable_rules"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            allowValues = try container.decodeIfPresent([String].self, forKey: .allowValues) ?? []
            disableRules = try container.decodeIfPresent([String].self, forKey: .disableRules) ?? []
        }

        /// The scanner these settings describe.
        public var scanner: SecretScanner {
            SecretScanner(
                allowedValues: Set(allowValues),
                rules: Set(SecretRule.allCases).subtracting(disableRules.compactMap(SecretRule.init(rawValue:))))
        }
    }

    public struct TierRule: Codable, Sendable, Equatable {
        public var path: String
        public var tier: Tier
        public init(path: String, tier: Tier) {
            self.path = path
            self.tier = tier
        }
    }

    public static let fileName = ".ctxmem.yaml"
    public static let defaultImportDepth = 4
    public static let defaultMaxFileSize = 8 * 1024 * 1024
    /// The coordination-overhead bar of the team ctxmem is modelled on: under 20% of an agent's context.
    public static let defaultEssentialShare = 0.2

    public init(
        include: [String] = [],
        exclude: [String] = [],
        importDepth: Int = Configuration.defaultImportDepth,
        maxFileSize: Int = Configuration.defaultMaxFileSize,
        tierRules: [TierRule] = [],
        tokenizer: String? = nil,
        budget: Int? = nil,
        tokenFactor: Double = 1.0,
        safetyMargin: Double? = nil,
        secrets: SecretSettings = SecretSettings(),
        essentialShare: Double? = nil,
        handoffs: HandoffSettings = HandoffSettings()
    ) {
        self.include = include
        self.exclude = exclude
        self.importDepth = importDepth
        self.maxFileSize = maxFileSize
        self.tierRules = tierRules
        self.tokenizer = tokenizer
        self.budget = budget
        self.tokenFactor = tokenFactor
        self.safetyMargin = safetyMargin
        self.secrets = secrets
        self.essentialShare = essentialShare
        self.handoffs = handoffs
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case include, exclude
        case importDepth = "import_depth"
        case maxFileSize = "max_file_size"
        case tierRules = "tier_rules"
        case tokenizer, budget
        case tokenFactor = "token_factor"
        case safetyMargin = "safety_margin"
        case secrets
        case essentialShare = "essential_share"
        case handoffs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        include = try container.decodeIfPresent([String].self, forKey: .include) ?? []
        exclude = try container.decodeIfPresent([String].self, forKey: .exclude) ?? []
        importDepth = try container.decodeIfPresent(Int.self, forKey: .importDepth) ?? Self.defaultImportDepth
        maxFileSize = try container.decodeIfPresent(Int.self, forKey: .maxFileSize) ?? Self.defaultMaxFileSize
        tierRules = try container.decodeIfPresent([TierRule].self, forKey: .tierRules) ?? []
        tokenizer = try container.decodeIfPresent(String.self, forKey: .tokenizer)
        budget = try container.decodeIfPresent(Int.self, forKey: .budget)
        tokenFactor = try container.decodeIfPresent(Double.self, forKey: .tokenFactor) ?? 1.0
        safetyMargin = try container.decodeIfPresent(Double.self, forKey: .safetyMargin)
        secrets = try container.decodeIfPresent(SecretSettings.self, forKey: .secrets) ?? SecretSettings()
        essentialShare = try container.decodeIfPresent(Double.self, forKey: .essentialShare)
        handoffs = try container.decodeIfPresent(HandoffSettings.self, forKey: .handoffs) ?? HandoffSettings()
    }

    /// Parses configuration text; `source` names the file in messages.
    /// - Throws: `ConfigurationError` naming the file, the line when known, and what is wrong.
    public static func parse(_ text: String, source: String = fileName) throws -> Configuration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError.invalidYAML(source: source, detail: YAMLErrorText.describe(error))
        }
        // No document, or an empty one (`---` with every setting commented out): the defaults.
        guard let node, !Self.isNull(node) else { return Configuration() }
        guard let mapping = node.mapping else {
            throw ConfigurationError.invalidValue(source: source, detail: "the top level must be a mapping of settings")
        }
        // Untrusted like every file in the root: refuse alias bombs and deep nesting before decoding.
        do {
            var budget = Frontmatter.Limits.default.maxValues
            _ = try JSONValue(yaml: node, budget: &budget, depth: Frontmatter.Limits.default.maxDepth)
        } catch {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: "the file expands to more than \(Frontmatter.Limits.default.maxValues) values or nests "
                    + "more than \(Frontmatter.Limits.default.maxDepth) levels deep (YAML aliases repeat what they name)"
            )
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        for key in mapping.keys {
            let name = key.string ?? "\(key)"
            if !known.contains(name) {
                throw ConfigurationError.invalidValue(
                    source: source,
                    detail: "line \(key.mark?.line ?? 0): unknown setting '\(name)'"
                        + (Suggest.nearest(to: name, in: known.sorted()).map { "; did you mean '\($0)'?" } ?? "")
                        + " (known: \(known.sorted().joined(separator: ", ")))")
            }
        }
        // Yams reads `1:30` as YAML 1.1's sexagesimal 90 and traps when that overflows: whole-number
        // settings must be written as plain decimal numbers.
        for key in [CodingKeys.importDepth, .maxFileSize, .budget] {
            if let value = mapping[key.rawValue], case .scalar(let scalar) = value, scalar.string.contains(":") {
                throw ConfigurationError.invalidValue(
                    source: source,
                    detail: linePrefix(value.mark?.line)
                        + "\(key.rawValue) must be a whole number, not '\(scalar.string)'")
            }
        }
        let configuration: Configuration
        do {
            configuration = try YAMLDecoder().decode(Configuration.self, from: node)
        } catch {
            var path: [any CodingKey] = []
            if let decoding = error as? DecodingError {
                switch decoding {
                case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
                    .dataCorrupted(let context):
                    path = context.codingPath
                @unknown default: break
                }
            }
            throw ConfigurationError.invalidValue(
                source: source, detail: linePrefix(line(of: path, in: node)) + YAMLErrorText.describe(error))
        }
        guard (1...64).contains(configuration.importDepth) else {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.importDepth], in: node))
                    + "import_depth must be between 1 and 64")
        }
        if let budget = configuration.budget, !PackRequest.budgetRange.contains(budget) {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.budget], in: node))
                    + "budget must be between \(PackRequest.budgetRange.lowerBound) and \(PackRequest.budgetRange.upperBound) tokens"
            )
        }
        guard (0.25...4).contains(configuration.tokenFactor) else {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.tokenFactor], in: node))
                    + "token_factor must be between 0.25 and 4")
        }
        if let margin = configuration.safetyMargin, !(0...1).contains(margin) {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.safetyMargin], in: node))
                    + "safety_margin must be between 0 and 1 (0.05 is 5%)")
        }
        if let share = configuration.essentialShare, !(0...1).contains(share) {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.essentialShare], in: node))
                    + "essential_share must be between 0 and 1 (0.2 is 20%)")
        }
        if let secrets = mapping["secrets"] {
            guard let settings = secrets.mapping else {
                throw ConfigurationError.invalidValue(
                    source: source,
                    detail: linePrefix(secrets.mark?.line)
                        + "secrets must be a mapping (allow_values, disable_rules)")
            }
            let known = SecretSettings.CodingKeys.allCases.map(\.rawValue)
            for key in settings.keys where !known.contains(key.string ?? "") {
                throw ConfigurationError.invalidValue(
                    source: source,
                    detail: linePrefix(key.mark?.line)
                        + "unknown setting 'secrets.\(key.string ?? "\(key)")' (known: \(known.joined(separator: ", ")))"
                )
            }
        }
        if let handoffs = mapping["handoffs"] {
            try HandoffSettings.validate(handoffs, decoded: configuration.handoffs, source: source)
        }
        for rule in configuration.secrets.disableRules where SecretRule(rawValue: rule) == nil {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.secrets], in: node))
                    + "secrets.disable_rules has '\(rule)', which is not a rule"
                    + (Suggest.nearest(to: rule, in: SecretRule.allCases.map(\.rawValue)).map {
                        "; did you mean '\($0)'?"
                    } ?? "")
                    + " (docs/security.md lists them)")
        }
        guard (1...Self.maxFileSizeLimit).contains(configuration.maxFileSize) else {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: linePrefix(line(of: [CodingKeys.maxFileSize], in: node))
                    + "max_file_size must be between 1 and \(Self.maxFileSizeLimit) bytes")
        }
        return configuration
    }

    private static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return NSNull.construct(from: scalar) != nil
    }

    /// The line of the value at `codingPath` (or of the deepest part of it that exists) in `node`.
    private static func line(of codingPath: [any CodingKey], in node: Node) -> Int? {
        var current = node
        for key in codingPath {
            if let index = key.intValue, let sequence = current.sequence, sequence.indices.contains(index) {
                current = sequence[index]
            } else if let value = current.mapping?.first(where: { $0.key.string == key.stringValue })?.value {
                current = value
            } else {
                break
            }
        }
        return current.mark?.line
    }

    static func linePrefix(_ line: Int?) -> String {
        line.map { "line \($0): " } ?? ""
    }

    /// The largest `.ctxmem.yaml` read: settings fit in a few hundred bytes, and a long chain of
    /// YAML aliases is freed recursively by Yams (60,000 links overflowed the stack).
    public static let maxFileBytes = 64 * 1024

    /// The largest `max_file_size`: the parsers count columns and offsets in 32 bits, and
    /// libcmark aborts on a buffer near 1 GiB.
    public static let maxFileSizeLimit = 256 * 1024 * 1024

    /// Loads `<root>/.ctxmem.yaml`, or the defaults when there is none.
    public static func load(root: URL) throws -> Configuration {
        let url = root.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return Configuration() }
        let data: Data
        do {
            data = try BoundedRead.contents(of: url, limit: Self.maxFileBytes)
        } catch {
            throw ConfigurationError.unreadable(source: url.path, detail: "\(error)")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: url.path)
    }

    /// A digest of the settings that change what the index holds, so a changed config re-indexes
    /// (pack settings do not; the tokenizer enters through the counter's identifier).
    var fingerprint: String {
        var indexed = self
        indexed.tokenizer = nil
        indexed.budget = nil
        indexed.tokenFactor = 1
        indexed.safetyMargin = nil
        indexed.essentialShare = nil
        indexed.handoffs = HandoffSettings()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(indexed)) ?? Data()
        return ContentHash(data).hex
    }
}

/// A `.ctxmem.yaml` that cannot be used.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
    case invalidYAML(source: String, detail: String)
    case invalidValue(source: String, detail: String)
    case unreadable(source: String, detail: String)

    public var description: String {
        switch self {
        case .invalidYAML(let source, let detail): "\(source): not valid YAML: \(detail)"
        case .invalidValue(let source, let detail): "\(source): \(detail)"
        case .unreadable(let source, let detail): "\(source): cannot read the configuration: \(detail)"
        }
    }
}
