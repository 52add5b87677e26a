/// A problem that did not stop the run, with where it is: invalid UTF-8, a binary or oversized file,
/// malformed frontmatter, a symlink loop, an import cycle. Findings are values, recorded in the
/// index and shown by `ctxmem index`, never thrown.
public struct Finding: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Codable, Sendable, Comparable {
        case error, warning, info

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .info: 2
            }
        }
    }

    /// A stable identifier such as `invalid-utf8` or `symlink-loop`.
    public var rule: String
    public var severity: Severity
    /// Path relative to the root ("." for the root itself).
    public var path: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(rule: String, severity: Severity, path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.rule = rule
        self.severity = severity
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        return "\(location): \(severity.rawValue): \(message) [\(rule)]"
    }
}

extension Finding {
    /// The rule identifiers recorded while indexing.
    public enum Rule {
        public static let invalidUTF8 = "invalid-utf8"
        public static let binaryFile = "binary-file"
        public static let fileTooLarge = "file-too-large"
        public static let unreadable = "unreadable"
        public static let brokenSymlink = "broken-symlink"
        public static let symlinkLoop = "symlink-loop"
        public static let symlinkOutsideRoot = "symlink-outside-root"
        public static let invalidFrontmatter = "invalid-frontmatter"
        public static let importCycle = "import-cycle"
        public static let invalidMarker = "invalid-marker"
        public static let invalidAgent = "invalid-agent"
    }
}
