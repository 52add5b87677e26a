import Foundation

/// `ctxmem audit --format`.
public enum AuditFormat: String, CaseIterable, Sendable {
    case text, json, sarif
}

/// Writes an ``AuditReport`` as text for people, JSON for scripts (Schemas/audit-report.schema.json)
/// or SARIF 2.1.0 for code scanning.
public enum AuditRenderer {
    public static func render(_ report: AuditReport, as format: AuditFormat, color: Bool = false) throws -> String {
        switch format {
        case .text: text(report, color: color)
        case .json: try encode(JSONReport(report))
        case .sarif: try encode(SARIFLog(report))
        }
    }

    // MARK: - Text

    /// Grouped by file, like compilers and linters: `line:column  severity  message  rule`.
    public static func text(_ report: AuditReport, color: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = ""
        var currentPath: String?
        for finding in report.findings {
            if finding.path != currentPath {
                if currentPath != nil { out += "\n" }
                out += paint(finding.path, "1;4") + "\n"
                currentPath = finding.path
            }
            let location = "\(finding.line ?? 1):\(finding.column ?? 1)"
            let severity = finding.severity.rawValue
            let paintedSeverity = paint(
                severity.padding(toLength: 7, withPad: " ", startingAt: 0),
                finding.severity == .error ? "31" : finding.severity == .warning ? "33" : "36")
            out +=
                "  " + paint(location.padding(toLength: max(8, location.count), withPad: " ", startingAt: 0), "2")
                + "  " + paintedSeverity + "  " + finding.message + "  " + paint(finding.rule.rawValue, "2") + "\n"
        }
        if !report.findings.isEmpty { out += "\n" }
        out += summary(report) + "\n"
        return out
    }

    /// "2 errors, 1 warning, 0 infos in 14 documents (3 suppressed inline, 5 in the baseline)".
    public static func summary(_ report: AuditReport) -> String {
        func plural(_ count: Int, _ word: String) -> String { "\(count) \(word)\(count == 1 ? "" : "s")" }
        let files = Set(report.findings.map(\.path)).count
        var text =
            report.findings.isEmpty
            ? "No findings in \(plural(report.documents, "document"))"
            : "\(plural(report.count(.error), "error")), \(plural(report.count(.warning), "warning")), "
                + "\(plural(report.count(.info), "info")) in \(plural(files, "file")) (\(plural(report.documents, "document")) audited)"
        let inline = report.suppressed.filter { $0.reason == .inline }.count
        let baselined = report.suppressed.count - inline
        var notes: [String] = []
        if inline > 0 { notes.append("\(inline) suppressed inline") }
        if baselined > 0 { notes.append("\(baselined) in the baseline") }
        if !notes.isEmpty { text += "; " + notes.joined(separator: ", ") }
        return text
    }

    // MARK: - JSON

    struct JSONReport: Encodable {
        struct Tool: Encodable { var name = "ctxmem", version = Release.version }
        struct Summary: Encodable {
            var errors, warnings, infos, suppressedInline, baselined, documents: Int
        }
        struct Item: Encodable {
            var rule, severity, path: String
            var line, column: Int?
            var message: String
            var target, suggestion: String?
            var fingerprint: String
        }

        var tool = Tool()
        var root: String
        var rules: [String]
        var history: String?
        var summary: Summary
        var findings: [Item]

        init(_ report: AuditReport) {
            root = report.root
            rules = report.rules.map(\.rawValue)
            history = report.history
            let inline = report.suppressed.filter { $0.reason == .inline }.count
            summary = Summary(
                errors: report.count(.error), warnings: report.count(.warning), infos: report.count(.info),
                suppressedInline: inline, baselined: report.suppressed.count - inline, documents: report.documents)
            findings = report.findings.map {
                Item(
                    rule: $0.rule.rawValue, severity: $0.severity.rawValue, path: $0.path, line: $0.line,
                    column: $0.column,
                    message: $0.message, target: $0.target, suggestion: $0.suggestion, fingerprint: $0.fingerprint)
            }
        }
    }

    // MARK: - SARIF 2.1.0

    struct SARIFLog: Encodable {
        struct Text: Encodable { var text: String }
        struct Rule: Encodable {
            struct Configuration: Encodable { var level: String }
            var id, name: String
            var shortDescription: Text
            var help: Text
            var defaultConfiguration: Configuration
        }
        struct Driver: Encodable {
            var name = "ctxmem"
            var version = Release.version
            var semanticVersion = Release.version
            var rules: [Rule]
        }
        struct Tool: Encodable { var driver: Driver }
        struct ArtifactLocation: Encodable {
            var uri: String
            var uriBaseId = "%SRCROOT%"
        }
        struct Region: Encodable {
            var startLine: Int
            var startColumn: Int
        }
        struct PhysicalLocation: Encodable {
            var artifactLocation: ArtifactLocation
            var region: Region?
        }
        struct Location: Encodable { var physicalLocation: PhysicalLocation }
        struct Suppression: Encodable {
            var kind: String
            var justification: String
        }
        struct Properties: Encodable { var target, suggestion: String? }
        struct Result: Encodable {
            var ruleId: String
            var ruleIndex: Int?
            var level: String
            var message: Text
            var locations: [Location]
            var partialFingerprints: [String: String]
            var suppressions: [Suppression]?
            var properties: Properties?
        }
        struct BaseURI: Encodable { var uri: String }
        struct Run: Encodable {
            var tool: Tool
            var originalUriBaseIds: [String: BaseURI]
            var columnKind = "unicodeCodePoints"
            var results: [Result]
        }

        var schema = "https://json.schemastore.org/sarif-2.1.0.json"
        var version = "2.1.0"
        var runs: [Run]

        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case version, runs
        }

        init(_ report: AuditReport) {
            let rules = report.rules
            let driver = Driver(
                rules: rules.map { rule in
                    Rule(
                        id: rule.rawValue, name: rule.rawValue.split(separator: "-").map(\.capitalized).joined(),
                        shortDescription: Text(text: rule.summary),
                        help: Text(text: "\(rule.summary) See \(rule.documentationAnchor) for examples and fixes."),
                        defaultConfiguration: .init(level: Self.level(rule.defaultSeverity)))
                })
            let active = report.findings.map { ($0, nil as SuppressedFinding.Reason?) }
            let silenced = report.suppressed.map { ($0.finding, $0.reason as SuppressedFinding.Reason?) }
            let results = (active + silenced).map { finding, reason in
                Result(
                    ruleId: finding.rule.rawValue,
                    ruleIndex: rules.firstIndex(of: finding.rule),
                    level: Self.level(finding.severity),
                    message: Text(text: finding.message),
                    locations: [
                        Location(
                            physicalLocation: PhysicalLocation(
                                artifactLocation: ArtifactLocation(uri: Self.uri(finding.path)),
                                region: finding.line.map {
                                    Region(startLine: max(1, $0), startColumn: max(1, finding.column ?? 1))
                                }))
                    ],
                    partialFingerprints: ["ctxmem/v1": finding.fingerprint],
                    suppressions: reason.map {
                        [
                            $0 == .inline
                                ? Suppression(
                                    kind: "inSource", justification: "<!-- ctxmem-ignore \(finding.rule.rawValue) -->")
                                : Suppression(kind: "external", justification: "listed in the audit baseline")
                        ]
                    },
                    properties: finding.target == nil && finding.suggestion == nil
                        ? nil : Properties(target: finding.target, suggestion: finding.suggestion))
            }
            let rootURI = URL(fileURLWithPath: report.root, isDirectory: true).absoluteString
            runs = [
                Run(
                    tool: Tool(driver: driver), originalUriBaseIds: ["%SRCROOT%": BaseURI(uri: rootURI)],
                    results: results)
            ]
        }

        static func level(_ severity: Finding.Severity) -> String {
            switch severity {
            case .error: "error"
            case .warning: "warning"
            case .info: "note"
            }
        }

        /// A relative URI reference: each path segment percent-encoded (plain ASCII paths, the
        /// common case, pass through without Foundation).
        static func uri(_ path: String) -> String {
            if path.utf8.allSatisfy({ $0 < 0x80 && (Self.plain[Int($0)]) }) { return path }
            return path.split(separator: "/", omittingEmptySubsequences: false).map {
                $0.addingPercentEncoding(withAllowedCharacters: segmentAllowed) ?? String($0)
            }.joined(separator: "/")
        }

        private static let segmentAllowed = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/;"))
        /// Unreserved characters and `/`, by ASCII code.
        private static let plain: [Bool] = (0..<128).map { code in
            let c = Character(Unicode.Scalar(UInt8(code)))
            return c.isLetter || c.isNumber || "-._~/".contains(c)
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
