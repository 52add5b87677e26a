import ArgumentParser
import ContextMemory
import Foundation
import Logging

@main
struct CTXMem: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctxmem",
        abstract:
            "Context memory for teams of AI coding agents: index, search, pack and audit a project's memory, from the command line, over HTTP or MCP.",
        discussion: """
            ctxmem indexes a project's memory (the CLAUDE.md hierarchy and what it imports, .claude/agents, \
            .claude/rules, .claude/skills, project_management/ and every file they link to) into SQLite with \
            full-text search.

              ctxmem init                   set the project up for Claude Code (hooks, MCP server, agent advice)
              ctxmem index                  index the current folder (then only changes)
              ctxmem search "VPC peering"   find sections, best first
              ctxmem pack --agent backend-manager --task "add the VPC peering API"
                                            what a new agent should start with, within its budget
              ctxmem read memory://CLAUDE.md#build     one section (handles come from packs and search)
              ctxmem audit                  broken imports, links and anchors, stale and orphaned docs
              ctxmem serve                  the same over HTTP, following edits to the files
              ctxmem mcp                    the same as MCP tools over stdio (claude mcp add ctxmem -- ctxmem mcp)
              ctxmem hook                   answer Claude Code's hooks: each sub-agent gets its pack at start
              ctxmem status                 every agent's latest handoff report, merged for the orchestrator
              ctxmem handoffs prune --older-than 30d   delete old handoff records ctxmem wrote
              ctxmem agents                 agents with their budgets and essential tokens
              ctxmem tiers docs/            each section's tier and why
              ctxmem stats                  what the index holds
              ctxmem usage                  context each Claude Code agent used (its transcripts)
              ctxmem doctor                 check every page of the index for damage

            Exit codes: 0 success, 1 runtime error (index missing, locked or damaged), 2 usage error \
            (bad option or malformed query). `ctxmem audit` differs: 1 means findings, 2 any error.
            """,
        version: Release.version,
        subcommands: [
            InitCommand.self, IndexCommand.self, SearchCommand.self, PackCommand.self, ReadCommand.self,
            AuditCommand.self, ServeCommand.self, MCPCommand.self, HookCommand.self, StatusCommand.self,
            HandoffsCommand.self, UsageCommand.self, AgentsCommand.self, TiersCommand.self, TokensCommand.self,
            StatsCommand.self, DoctorCommand.self,
        ]
    )

    /// Parses, runs, and turns what a command throws into the documented exit code
    /// (``CommandFailure/exit(for:in:)``). ArgumentParser exits 64 on a usage error; ctxmem
    /// documents 2 for every usage error.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)  // --help, --version: 0
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch  where !(error is ExitCode) && exitCode(for: error) == .success {
            exit(withError: error)  // `ctxmem help pack` and `ctxmem pack --help` run ArgumentParser's help command
        } catch {
            let failure = CommandFailure.exit(for: error, in: type(of: command))
            if let message = failure.message { Terminal.standardError("ctxmem: error: \(message)") }
            Foundation.exit(failure.code)
        }
    }
}

/// Options every subcommand takes: where the memory and its index are.
struct LocationOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The memory root (a project folder).", valueName: "dir"))
    var root: String = "."

    @Option(
        name: .long, help: ArgumentHelp("The index database (default: <root>/.ctxmem/index.sqlite).", valueName: "file")
    )
    var db: String?

    /// - Parameter readerConnections: one for a command; a server asks for one per core.
    func service(readerConnections: Int = 1) -> MemoryService {
        _ = Log.bootstrap
        return MemoryService(root: URL(fileURLWithPath: root), databasePath: db, readerConnections: readerConnections)
    }
}

/// What ctxmem writes for people. Text from memory files is made visible on a terminal
/// (Terminal+Escaping.swift); a file or pipe gets it byte for byte.
enum Terminal {
    /// Writes a line on stderr, made ``visible(_:)`` when stderr is a terminal.
    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(((escapesStandardError ? visible(text) : text) + "\n").utf8))
    }

    static var isStandardErrorTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var isStandardOutputTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
    static var useColor: Bool {
        isStandardOutputTerminal && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Logs go to stderr (stdout is for results), at warning and above unless CTXMEM_LOG_LEVEL says
/// otherwise; `CTXMEM_TRACE=1` is short for `CTXMEM_LOG_LEVEL=trace` (each phase's time).
enum Log {
    static let bootstrap: Void = {
        let environment = ProcessInfo.processInfo.environment
        let level =
            environment["CTXMEM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            ?? (environment["CTXMEM_TRACE"].map { !$0.isEmpty && $0 != "0" } == true ? .trace : .warning)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }()
}
