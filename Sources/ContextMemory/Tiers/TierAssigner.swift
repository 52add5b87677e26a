import Foundation

/// Gives every section a tier and says why, strongest source first:
/// 1. a marker comment before its heading (or an enclosing heading's),
/// 2. a marker comment at the top of the file,
/// 3. frontmatter `tier:`,
/// 4. the first matching `tier_rules` entry of `.ctxmem.yaml`,
/// 5. defaults: operational headings (Commands, Runbook, Troubleshooting, Changelog, History,
///    Archive) and paths under `archive/` or `runbooks/`; then essential for the root CLAUDE.md
///    files, agent definitions and unconditional rules; detailed for everything else.
public struct TierAssigner: Sendable {
    public let rules: [Configuration.TierRule]

    public init(rules: [Configuration.TierRule]) {
        self.rules = rules
    }

    static let operationalHeadingWords: Set<String> = [
        "command", "commands", "runbook", "runbooks", "troubleshooting", "changelog", "history", "archive", "archived",
    ]
    static let operationalFolders: Set<String> = ["archive", "archives", "runbooks"]

    /// Whether a section's tier comes from a file-level default that nothing stronger set (no
    /// marker, frontmatter, config rule or operational heading). A pack makes such sections
    /// essential when a launch-loaded file imports their file, as Claude Code loads it too.
    public static func isFileDefault(_ reason: String) -> Bool {
        overridableDefaults.contains(reason)
    }

    /// Whether a heading path states what may not be done, so that every agent must keep it: a
    /// heading with "never", "don't", "do not", "must not", "may not", "forbidden", "prohibited",
    /// "non-negotiable", "guardrails" or "hard rules" ("Things no agent may do", "Never",
    /// "Non-negotiable rules"). Only essential-tier sections are asked (docs/packing.md, "Pinned sections").
    public static func isProhibition(_ headingPath: [String]) -> Bool {
        headingPath.contains { heading in
            let folded = heading.lowercased().replacingOccurrences(of: "\u{2019}", with: "'")
            return folded.contains(prohibitionPattern)
        }
    }

    nonisolated(unsafe) private static let prohibitionPattern =
        /\b(never|don'?t|do not|must not|mustn'?t|may not|no agent may|forbidden|prohibit\w*|non-negotiables?|guardrails?|hard rules?)\b/

    private static let overridableDefaults: Set<String> = [
        "default", "project_management default", "nested CLAUDE.md (loaded on demand)",
        "skill body (read when relevant)", "rule with paths: (conditional)",
    ]

    public func assign(_ document: inout Document, kind: DocumentKind) {
        let frontmatter = document.frontmatter
        var frontmatterTier: Tier?
        if let raw = frontmatter?["tier"] {
            if let value = raw.stringValue.flatMap({ Tier(rawValue: $0.lowercased()) }) {
                frontmatterTier = value
            } else {
                document.findings.append(
                    Finding(
                        rule: RuleID.invalidFrontmatter, severity: .warning, path: document.path, line: 2,
                        message: "frontmatter key 'tier' must be one of \(Tier.choices)"))
            }
        }
        let fileMarker = document.markers.first(where: \.appliesToFile)
        let headingMarkers = Dictionary(
            document.markers.filter { !$0.appliesToFile }.map { ($0.line, $0) },
            uniquingKeysWith: { first, _ in first })
        let base = fileDefault(document: document, kind: kind, frontmatter: frontmatter)
        // Markers and operational headings apply to the heading's subtree: keep a stack by level.
        var scoped: [(level: Int, tier: Tier, reason: String)] = []
        var previousHeadingLine = 0
        for index in document.sections.indices {
            let section = document.sections[index]
            if section.level > 0 {
                while let last = scoped.last, last.level >= section.level { scoped.removeLast() }
                defer { previousHeadingLine = section.startLine }
                if let marker = markerBefore(line: section.startLine, after: previousHeadingLine, in: headingMarkers) {
                    scoped.append((section.level, marker.tier, "marker at line \(marker.line)"))
                } else if isOperationalHeading(section.title) {
                    scoped.append((section.level, .operational, "heading '\(section.title)'"))
                }
            }
            let chosen: (Tier, String)
            if let marker = scoped.last(where: { $0.reason.hasPrefix("marker") }) {
                chosen = (marker.tier, marker.reason)
            } else if let fileMarker {
                chosen = (fileMarker.tier, "file marker at line \(fileMarker.line)")
            } else if let frontmatterTier {
                chosen = (frontmatterTier, "frontmatter tier")
            } else if let rule = rules.first(where: { Glob($0.path).matches(document.path) }) {
                chosen = (rule.tier, "config rule '\(rule.path)'")
            } else if let heading = scoped.last {
                chosen = (heading.tier, heading.reason)
            } else {
                chosen = base
            }
            document.sections[index].tier = chosen.0
            document.sections[index].tierReason = chosen.1
        }
    }

    /// Markers are HTML blocks before the heading, possibly with blank lines between (the parser
    /// keeps only markers that a heading follows): the marker after the previous heading, if any.
    private func markerBefore(line: Int, after previousHeading: Int, in markers: [Int: TierMarker]) -> TierMarker? {
        markers.filter { $0.key < line && $0.key > previousHeading }.max(by: { $0.key < $1.key })?.value
    }

    private func isOperationalHeading(_ title: String) -> Bool {
        let words = title.lowercased().split(whereSeparator: { !$0.isLetter })
        return words.contains { Self.operationalHeadingWords.contains(String($0)) }
    }

    private func fileDefault(document: Document, kind: DocumentKind, frontmatter: [String: JSONValue]?) -> (
        Tier, String
    ) {
        let folders = document.path.split(separator: "/").dropLast().map { $0.lowercased() }
        if let folder = folders.first(where: { Self.operationalFolders.contains($0) }) {
            return (.operational, "under \(folder)/")
        }
        switch kind {
        case .claudeMD:
            let isRoot = DocumentKind.rootMemoryPaths.contains(document.path)
            return isRoot ? (.essential, "root memory file") : (.detailed, "nested CLAUDE.md (loaded on demand)")
        case .agent:
            return (.essential, "agent definition")
        case .rule:
            return frontmatter?["paths"] == nil
                ? (.essential, "rule loaded at launch") : (.detailed, "rule with paths: (conditional)")
        case .skill:
            return (.detailed, "skill body (read when relevant)")
        case .projectManagement:
            return (.detailed, "project_management default")
        case .agentsMD, .included, .referenced:
            return (.detailed, "default")
        }
    }
}
