import ArgumentParser
import ContextMemory
import Foundation

struct TiersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiers",
        abstract: "Show each section's tier, tokens and why it has that tier.",
        discussion: """
            Tiers, strongest source first: a marker comment `<!-- ctxmem: tier=operational -->` before a \
            heading or at the top of a file; frontmatter `tier:`; `tier_rules` in .ctxmem.yaml; defaults \
            (root CLAUDE.md, agent definitions and unconditional rules essential; headings such as \
            Commands, Runbook, Troubleshooting, Changelog, History and paths under archive/ or runbooks/ \
            operational; the rest detailed). A pack also treats as essential what a launch-loaded file \
            imports, unless a stronger source set its tier.

            Examples:
              ctxmem tiers                          every section
              ctxmem tiers project_management/runbooks
              ctxmem tiers 'project_management/**/ADR-*.md' --tier essential --json
            """
    )

    @OptionGroup var location: LocationOptions

    @Argument(help: "A file, a folder or a glob (default: everything).")
    var path: String?

    @Option(help: ArgumentHelp("Only sections of this tier.", valueName: "tier"))
    var tier: Tier?

    @Flag(help: "Print the sections as JSON.")
    var json = false

    struct Row: Encodable {
        var handle: String
        var path: String
        var startLine: Int
        var endLine: Int
        var headingPath: [String]
        var tier: Tier
        var tokens: Int
        var reason: String
    }

    func run() throws {
        let records = try location.service().tiers(pathGlob: path).filter { tier == nil || $0.tier == tier }
        let rows = records.map {
            Row(
                handle: $0.handle, path: $0.path, startLine: $0.startLine, endLine: $0.endLine,
                headingPath: $0.headingPath, tier: $0.tier, tokens: $0.tokens, reason: $0.tierReason)
        }
        if json {
            try Terminal.standardOutput(json: rows)
            return
        }
        guard !rows.isEmpty else {
            Terminal.standardOutput(path.map { "No indexed sections under '\($0)'." } ?? "The index has no sections.")
            return
        }
        var currentPath = ""
        var totals: [Tier: Int] = [:]
        for row in rows {
            if row.path != currentPath {
                Terminal.standardOutput(currentPath.isEmpty ? row.path : "\n" + row.path)
                currentPath = row.path
            }
            let heading = row.headingPath.isEmpty ? "(preamble)" : row.headingPath.joined(separator: " › ")
            Terminal.standardOutput(
                String(format: "  %5d-%-5d ", row.startLine, row.endLine)
                    + row.tier.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
                    + String(format: " %6d  ", row.tokens) + "\(heading)  (\(row.reason))")
            totals[row.tier, default: 0] += row.tokens
        }
        Terminal.standardOutput(
            "\n\(rows.count) sections; tokens: "
                + Tier.allCases.map { "\($0.rawValue) \(totals[$0] ?? 0)" }.joined(separator: ", "))
    }
}
