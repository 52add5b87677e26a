import ArgumentParser
import ContextMemory
import Foundation

struct HandoffsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handoffs",
        abstract: "List or prune the handoff records sub-agents left (SubagentStop, handoffs: true).",
        discussion: """
            Handoff records are Markdown files ctxmem's SubagentStop hook writes under \
            project_management/handoffs/YYYY-MM-DD/ (`handoffs.folder` in .ctxmem.yaml). They are memory: \
            search finds them and packs take the latest relevant ones. `ctxmem audit` warns when the folder \
            grows past `handoffs.max_folder_bytes`.

            Examples:
              ctxmem handoffs list
              ctxmem handoffs prune --older-than 30d --dry-run
              ctxmem handoffs prune --older-than 30d
            """,
        subcommands: [List.self, Prune.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the handoff records in the index, newest first.")

        @OptionGroup var location: LocationOptions

        @Flag(help: "Print as JSON: path, agentType, agentID, session, time, task, cutFromBytes.")
        var json = false

        func run() throws {
            let handoffs = try location.service().handoffs()
            if json {
                try Terminal.standardOutput(json: handoffs)
                return
            }
            guard !handoffs.isEmpty else {
                Terminal.standardOutput(
                    "No handoff records in the index. Turn them on with `ctxmem init --handoffs` (or handoffs: true in .ctxmem.yaml)."
                )
                return
            }
            for handoff in handoffs {
                let task = handoff.task.map { "  " + String($0.prefix(80)) } ?? ""
                Terminal.standardOutput(
                    "\(Handoff.formatTime(handoff.time))  \(handoff.agentType)  \(handoff.path)\(task)")
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the handoff records ctxmem wrote that are older than an age, then index.",
            discussion: """
                Only files in the handoff folder whose frontmatter says `ctxmem: handoff` are deleted (what the \
                hook wrote); any other file there stays. Day folders left empty are removed.
                """)

        @OptionGroup var location: LocationOptions

        @Option(help: ArgumentHelp("Delete records older than this: 30d, 12h, 2w.", valueName: "age"))
        var olderThan: String

        @Flag(help: "List what would be deleted, delete nothing.")
        var dryRun = false

        @Flag(help: "Print as JSON: deleted (or wouldDelete with --dry-run), the records.")
        var json = false

        func validate() throws {
            guard TimeSpan.seconds(olderThan) != nil else {
                throw ValidationError("--older-than '\(olderThan)' is not an age such as 30d, 12h, 45m or 2w")
            }
        }

        func run() async throws {
            let age = TimeSpan.seconds(olderThan) ?? 0
            let records = try await location.service().pruneHandoffs(olderThan: age, dryRun: dryRun)
            if json {
                try Terminal.standardOutput(json: [dryRun ? "wouldDelete" : "deleted": records])
                return
            }
            for record in records {
                Terminal.standardOutput("\(dryRun ? "would delete" : "deleted")  \(record.path)")
            }
            Terminal.standardOutput(
                "\(records.count) handoff record\(records.count == 1 ? "" : "s") older than \(olderThan) "
                    + (dryRun ? "would be deleted (--dry-run)." : "deleted; the index is up to date."))
        }
    }
}
