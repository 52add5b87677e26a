import ArgumentParser
import ContextMemory
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show what the index holds.",
        discussion: "Documents, sections, references, tokens (by tier), index size and when it was last indexed."
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Print as JSON.")
    var json = false

    func run() throws {
        let stats = try location.service().statistics()
        if json {
            try Terminal.standardOutput(json: stats)
            return
        }
        let tiers = Tier.allCases.map { "\($0.rawValue) \(stats.tokensByTier[$0.rawValue] ?? 0)" }.joined(
            separator: ", ")
        let kinds = stats.documentsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
            separator: ", ")
        Terminal.standardOutput(
            """
            Documents:   \(stats.documents) (\(kinds.isEmpty ? "none" : kinds))
            Skipped:     \(stats.skippedFiles) files (binary, too large or unreadable)
            Sections:    \(stats.sections)
            References:  \(stats.references)
            Tokens:      \(stats.tokens) (\(tiers); estimated)
            Findings:    \(stats.findings)
            Index:       \(stats.databasePath), \(String(format: "%.1f", Double(stats.indexBytes) / 1_048_576)) MB
            Generation:  \(stats.generation)
            Last index:  \(stats.lastIndexedAt ?? "never")
            """)
    }
}
