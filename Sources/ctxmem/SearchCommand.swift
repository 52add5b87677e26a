import ArgumentParser
import ContextMemory
import Foundation

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find sections of project memory, best first.",
        discussion: """
            Query syntax:
              word word          every word must match
              "quoted phrase"    the words in this order
              a OR b             either (x a OR b means x AND (a OR b))
              -word              leave out sections containing it
              prefix*            words starting with prefix
            Identifiers are found as typed: ADR-0005, crd:sync, VPC_peering, netbox_hedgehog/models.py. \
            Chinese, Japanese and Korean text is matched inside sentences.

            Headings weigh more than body text. Each result gives path:lines, heading path, tier, score, \
            a snippet with the matches in «», and a memory:// handle.

            Examples:
              ctxmem search "VPC peering" --limit 5
              ctxmem search 'ADR-0005 OR ADR-0007' --kind project-management
              ctxmem search 'rollback -archive' --tier operational --path 'project_management/**' --json
            """
    )

    @OptionGroup var location: LocationOptions

    @Argument(help: "What to look for (see the syntax above).")
    var query: String

    @Option(name: .shortAndLong, help: "How many results (1-1000).")
    var limit = 10

    @Option(help: ArgumentHelp("Only sections of this tier.", valueName: "tier"))
    var tier: Tier?

    @Option(help: ArgumentHelp("Only files matching this glob, e.g. 'project_management/**'.", valueName: "glob"))
    var path: String?

    @Option(help: ArgumentHelp("Only documents of this kind.", valueName: "kind"))
    var kind: DocumentKind?

    @Flag(help: "Print results as JSON (Schemas/search-results.schema.json).")
    var json = false

    func run() throws {
        let options = SearchOptions(limit: limit, tier: tier, pathGlob: path.map(Glob.init), kind: kind)
        let hits = try location.service().search(query, options: options)
        if json {
            try Terminal.standardOutput(json: SearchResults(query: query, results: hits))
        } else {
            printText(hits)
        }
    }

    private func printText(_ hits: [SearchHit]) {
        guard !hits.isEmpty else {
            Terminal.standardOutput("No sections match \"\(query)\".")
            return
        }
        let color = Terminal.useColor
        for (index, hit) in hits.enumerated() {
            // Made visible before the colour codes go in (Terminal+Escaping.swift).
            let location = Terminal.shown("\(hit.path):\(hit.startLine)-\(hit.endLine)")
            let heading = Terminal.shown(
                hit.headingPath.isEmpty ? "(preamble)" : hit.headingPath.joined(separator: " › "))
            let snippet =
                color
                ? Terminal.shown(hit.snippet).replacingOccurrences(of: SearchHit.highlightOpen, with: "\u{1B}[1;33m")
                    .replacingOccurrences(of: SearchHit.highlightClose, with: "\u{1B}[0m")
                : Terminal.shown(hit.snippet)
            if color {
                print("\u{1B}[1m\(index + 1). \(location)\u{1B}[0m  \(heading)")
            } else {
                print("\(index + 1). \(location)  \(heading)")
            }
            print(
                "   \(hit.tier.rawValue) · \(hit.kind.rawValue) · score \(String(format: "%.4g", hit.score)) · \(hit.tokens) tokens · "
                    + Terminal.shown(hit.handle))
            print("   \(snippet)")
        }
    }
}

/// The `--json` document of `ctxmem search`.
struct SearchResults: Encodable {
    var query: String
    var results: [SearchHit]
}
