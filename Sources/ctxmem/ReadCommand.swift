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
            is served: nothing outside the memory root is ever read.

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

    func run() throws {
        do {
            let result = try location.service().read(handle: handle)
            if json {
                print(try Terminal.json(result))
            } else {
                print(result.text.hasSuffix("\n") ? String(result.text.dropLast()) : result.text)
            }
        } catch {
            throw Failure.exit(error)
        }
    }
}
