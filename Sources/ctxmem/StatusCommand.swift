import ArgumentParser
import ContextMemory
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Merge every agent's latest handoff report into one status block for the orchestrator.",
        discussion: """
            With `handoffs: true` in .ctxmem.yaml (`ctxmem init --handoffs`), Claude Code's SubagentStop hook \
            keeps each sub-agent's final report as a handoff record. `ctxmem status` takes the latest record of \
            every agent and prints one block: in the reporting format the project's AGENTS.md defines (a section \
            whose heading says "Reporting format", holding the report template as a fenced block), or else per \
            agent what was done, blockers and next steps. Each agent ends with the memory:// handle of its whole \
            report (`ctxmem read HANDLE`). The same block is at GET /v1/status and the MCP tool status_digest.

            Examples:
              ctxmem status
              ctxmem status --since 2d            reports of the last two days only
              ctxmem status --since 2026-12-01 --json
            """
    )

    @OptionGroup var location: LocationOptions

    @Option(help: ArgumentHelp("Only reports from then on: \(TimeSpan.accepted).", valueName: "when"))
    var since: String?

    @Flag(help: "Print as JSON: format, since, agents (agent, time, task, handle, path, fields, reports) and text.")
    var json = false

    func validate() throws {
        if let since, TimeSpan.moment(since) == nil {
            throw ValidationError("--since '\(since)' is not \(TimeSpan.accepted)")
        }
    }

    func run() throws {
        let digest = try location.service().status(since: since.flatMap { TimeSpan.moment($0) })
        if json {
            try Terminal.standardOutput(json: digest)
        } else {
            Terminal.standardOutput(digest.text.trimmingCharacters(in: .newlines))
        }
    }
}
