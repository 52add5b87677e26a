import ArgumentParser
import ContextMemory
import Foundation

struct ReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Print the section or file a memory:// handle points at.",
        discussion: """
            Handles come from packs ("more available"), search results and `ctxmem tiers`. \
            memory://PATH is a whole file; memory://PATH#slug one section. Only what the index holds \
            is served: nothing outside the memory root is ever read. Credentials show as \
            [REDACTED:rule-id] (docs/security.md); --no-redact prints the file's lines as written.

            Examples:
              ctxmem read 'memory://project_management/decisions/ADR-0005-gitops-source-of-truth.md#decision'
              ctxmem read memory://CLAUDE.md --json

            Exit codes: 0 printed; 1 nothing at that handle (or no index); 2 malformed handle.
            """
    )

    @OptionGroup var location: LocationOptions

    @Argument(help: "A handle: memory://PATH or memory://PATH#slug.")
    var handle: String

    @Flag(help: "Print the text with its source as JSON.")
    var json = false

    @Flag(help: "Print the lines as they are in the file, credentials included (for you, never for an agent).")
    var noRedact = false

    func run() throws {
        let service = location.service()
        if noRedact {
            Terminal.standardError(
                "ctxmem: warning: --no-redact prints credentials as written; do not paste this output into an agent's context"
            )
        }
        let result = try noRedact ? service.readUnredacted(handle: handle) : service.read(handle: handle)
        if json {
            try Terminal.standardOutput(json: result)
        } else {
            Terminal.standardOutput(result.text.hasSuffix("\n") ? String(result.text.dropLast()) : result.text)
        }
    }
}
