public import Foundation

/// What `ctxmem audit` checks and how.
public struct AuditOptions: Sendable {
    /// The rules to run (all by default).
    public var rules: Set<RuleID>
    /// Known findings to leave out of the report (`--baseline`).
    public var baseline: AuditBaseline?
    /// Brings the index in step with the root first (the CLI does; a service with a live index need not).
    public var refreshIndex: Bool
    /// Dates `stale-reference` from git history when the root is a work tree (else from file times).
    public var useGit: Bool

    public init(
        rules: Set<RuleID> = Set(RuleID.auditRules), baseline: AuditBaseline? = nil,
        refreshIndex: Bool = true, useGit: Bool = true
    ) {
        self.rules = rules
        self.baseline = baseline
        self.refreshIndex = refreshIndex
        self.useGit = useGit
    }
}

/// The findings of one audit, sorted by file, line, column and rule, with what was suppressed.
public struct AuditReport: Sendable {
    public var root: String
    /// The audit rules that ran, in catalogue order.
    public var rules: [RuleID]
    /// Findings to act on.
    public var findings: [Finding]
    /// Findings silenced by a `<!-- ctxmem-ignore RULE -->` comment or by the baseline.
    public var suppressed: [SuppressedFinding]
    public var documents: Int
    /// Where `stale-reference` took its dates from: "git (N commits)" or "file times".
    public var history: String?
    public var seconds: Double

    public func count(_ severity: Finding.Severity) -> Int {
        findings.reduce(0) { $0 + ($1.severity == severity ? 1 : 0) }
    }

    /// Whether a CI job should fail: something at or above the threshold.
    public func fails(at threshold: AuditThreshold) -> Bool {
        guard let lowest = threshold.lowestFailingSeverity else { return false }
        return findings.contains { $0.severity <= lowest }
    }
}

/// A finding left out of the report, and why.
public struct SuppressedFinding: Sendable, Equatable {
    public enum Reason: String, Sendable, Codable {
        /// A `<!-- ctxmem-ignore RULE -->` comment.
        case inline
        /// Listed in the baseline file.
        case baseline
    }

    public var finding: Finding
    public var reason: Reason
}

/// `--fail-on`: the lowest severity that fails the run.
public enum AuditThreshold: String, CaseIterable, Sendable {
    case error, warning, never

    var lowestFailingSeverity: Finding.Severity? {
        switch self {
        case .error: .error
        case .warning: .warning
        case .never: nil
        }
    }
}

/// Known findings a CI job should not fail on: an earlier JSON report (`ctxmem audit --format
/// json`, or `--write-baseline`). Findings are matched by fingerprint (rule, file and target, not
/// line), each baseline entry absorbing one finding, so moving text does not resurface them and a
/// second copy of the same broken link still counts as new.
public struct AuditBaseline: Sendable, Equatable {
    private var remaining: [String: Int]

    public init(findings: [Finding]) {
        remaining = [:]
        for finding in findings { remaining[finding.fingerprint, default: 0] += 1 }
    }

    /// Reads a baseline file. - Throws: ``AuditError/invalidBaseline(path:detail:)``.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try BoundedRead.contents(of: url, limit: 256 * 1024 * 1024) } catch {
            throw AuditError.invalidBaseline(
                path: url.path,
                detail: "cannot read it (\(error)); create one with `ctxmem audit --write-baseline \(url.path)`")
        }
        struct File: Decodable { var findings: [Entry] }
        do {
            remaining = [:]
            for entry in try JSONDecoder().decode(File.self, from: data).findings {
                let key = Finding.fingerprint(
                    rule: entry.rule, path: entry.path, target: entry.target,
                    message: entry.message)
                remaining[key, default: 0] += 1
            }
        } catch {
            throw AuditError.invalidBaseline(
                path: url.path, detail: "not an audit JSON report (\(AuditError.describe(error)))")
        }
    }

    /// A finding as a baseline file holds it, its rule id as text: an id this build does not know
    /// (a rule renamed since, or added by a later version) matches nothing rather than refusing the
    /// whole file. Otherwise as strict as ``Finding``'s own decoding.
    private struct Entry: Decodable {
        var rule: String
        var severity: Finding.Severity
        var path: String
        var line, column: Int?
        var message: String
        var target, suggestion: String?
    }

    /// Takes one matching entry; false when the finding is new.
    mutating func absorb(_ finding: Finding) -> Bool {
        let key = finding.fingerprint
        guard let count = remaining[key], count > 0 else { return false }
        remaining[key] = count - 1
        return true
    }
}

public enum AuditError: Error, CustomStringConvertible, Equatable {
    case invalidBaseline(path: String, detail: String)
    case unknownRule(String, suggestion: String?)

    public var description: String {
        switch self {
        case .invalidBaseline(let path, let detail):
            "baseline \(path): \(detail)"
        case .unknownRule(let id, let suggestion):
            "unknown rule '\(id)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
                + " (rules: \(RuleID.auditRules.map(\.rawValue).joined(separator: ", ")))"
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "no '\(key.stringValue)' key"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "\(error)"
        }
    }

    /// Parses rule ids as given on the command line (repeated or comma-separated).
    public static func rules(_ ids: [String]) throws -> Set<RuleID> {
        var rules: Set<RuleID> = []
        for id in ids.flatMap({ $0.split(separator: ",").map(String.init) })
        where !id.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let rule = RuleID(auditRule: id) else {
                throw AuditError.unknownRule(
                    id, suggestion: Suggest.nearest(to: id, in: RuleID.auditRules.map(\.rawValue)))
            }
            rules.insert(rule)
        }
        return rules
    }
}
