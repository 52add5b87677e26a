import ArgumentParser
import ContextMemory
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Set a project up for Claude Code: ctxmem's hooks in .claude/settings.json, its MCP server in .mcp.json.",
        discussion: """
            Run it in the project (the memory root, the folder holding .claude/). It merges into:

              .claude/settings.json  a hook on SubagentStart (every agent type), on PreToolUse of the \
            delegation tool (matcher ^(Agent|Task)$) and on SessionStart after a compaction (matcher \
            compact), each `ctxmem hook --root "$CLAUDE_PROJECT_DIR"` with a 10 s timeout
              .mcp.json              the server "ctxmem": `ctxmem mcp --root <the root's absolute path>`

            Nothing already there is lost: other hooks, matchers, servers and unknown keys stay, in \
            their order; ctxmem's own entries are recognised and updated in place. A file that changes \
            is first copied to FILE.ctxmem-backup (.1, .2, ... when that exists); a file that does not \
            exist is created. A second run changes nothing. A file that is not valid JSON is refused \
            (exit 1, its line and column printed) and nothing is written. The binary is written as \
            `ctxmem` when that name on PATH is this binary, else by its absolute path.

            It never edits agent definitions. It indexes the memory, then prints which agents would \
            benefit from `omitClaudeMd: true` (Claude Code 2.1.271 or later starts them without the \
            CLAUDE.md hierarchy, which their pack then replaces, trimmed to the role) and suggests a \
            `context:` block for those without one. It runs `claude --version` (2 s at most) to say \
            whether the installed Claude Code reads omitClaudeMd.

            With --handoffs it also turns handoffs on: `handoffs: true` in .ctxmem.yaml and a hook on \
            SubagentStop, so each sub-agent's final report is kept as a handoff record under \
            project_management/handoffs/ (searchable memory, merged by `ctxmem status`).

            With --http URL the hooks are http hooks to `ctxmem serve` at URL/v1/hooks/claude-code \
            instead of commands; --token-env NAME adds `Authorization: Bearer $NAME` (Claude Code reads \
            the variable when it sends the hook, and only variables listed in the hook's allowedEnvVars; \
            the token itself is never written).

            Example output:
              .claude/settings.json: updated (backup .claude/settings.json.ctxmem-backup)
                hooks.SubagentStart: added the ctxmem hook
                hooks.PreToolUse (matcher ^(Agent|Task)$): added the ctxmem hook
                hooks.SessionStart (matcher compact): added the ctxmem hook
              .mcp.json: created
                mcpServers.ctxmem: added the ctxmem server
              Claude Code: Claude Code 2.1.300 reads omitClaudeMd
              Launch memory: 2 files, 6120 tokens (CLAUDE.md, .claude/rules/security.md)
              Agents (ctxmem never edits them; apply what you agree with):
                reviewer (.claude/agents/reviewer.md)
                  omitClaudeMd: true would help: starts with the CLAUDE.md hierarchy, 6120 tokens ...
                  no context: block; a start:
                    context:
                      budget: 30000
                      keywords: [reviews, pull, requests]

            Examples:
              ctxmem init --dry-run          the diff of each file, nothing written
              ctxmem init
              ctxmem init --handoffs         also keep sub-agents' reports (SubagentStop)
              ctxmem init --http http://127.0.0.1:8377 --token-env CTXMEM_TOKEN --json

            Exit codes: 0 done (or nothing to change), 1 a file that cannot be read, parsed or written, \
            or an index that cannot be built (nothing is written then), 2 a bad option.
            """
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Print what would change, as a diff of each file, and write nothing (the index is still refreshed).")
    var dryRun = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(
        help:
            "Also keep each sub-agent's report when it stops: `handoffs: true` in .ctxmem.yaml and a SubagentStop hook."
    )
    var handoffs = false

    @Option(
        help: ArgumentHelp(
            "Write http hooks to `ctxmem serve` at this address (such as http://127.0.0.1:8377) instead of command hooks.",
            valueName: "url"))
    var http: String?

    @Option(
        help: ArgumentHelp(
            "With --http: the hooks send `Authorization: Bearer $NAME`, Claude Code reading NAME from its environment (`ctxmem serve` reads its token from CTXMEM_TOKEN).",
            valueName: "name"))
    var tokenEnv: String?

    func validate() throws {
        if tokenEnv != nil && http == nil {
            throw ValidationError("--token-env needs --http: command hooks read the index directly and need no token")
        }
        if let tokenEnv, tokenEnv.wholeMatch(of: /[A-Za-z_][A-Za-z0-9_]*/) == nil {
            throw ValidationError(
                "--token-env takes the name of an environment variable (letters, digits and _), not '\(tokenEnv)'")
        }
        if let http { _ = try Self.hookURL(http) }
    }

    /// `http://host:port` -> `http://host:port/v1/hooks/claude-code` (as given when it ends so).
    static func hookURL(_ text: String) throws -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else {
            throw ValidationError(
                "--http takes the address of `ctxmem serve`, such as http://127.0.0.1:8377, not '\(text)'")
        }
        var base = text
        while base.hasSuffix("/") { base.removeLast() }
        return base.hasSuffix(ClaudeCodeSetup.hookRoute) ? base : base + ClaudeCodeSetup.hookRoute
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let service = location.service()
        let root = service.root
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure.runtime(
                "\(root.path) is not a folder: run `ctxmem init` in the project, or give --root")
        }
        let setup = makeSetup(service: service, environment: environment)
        // Read and merge both files before anything is written: a file that cannot be read or
        // merged stops the run with nothing changed.
        var plans = [
            try FilePlan(root: root, path: ".claude/settings.json", merge: setup.mergeSettings),
            try FilePlan(root: root, path: ".mcp.json", merge: setup.mergeMCP),
        ]
        if handoffs {
            plans.append(try FilePlan(root: root, path: Configuration.fileName, text: ClaudeCodeSetup.enableHandoffs))
        }
        let claudeCode = ClaudeCodeVersion.check(environment: environment)
        _ = try await service.index()
        let launch = try service.launchMemory()
        let share = try service.configuration().essentialShare ?? Configuration.defaultEssentialShare
        let areas = Self.projectAreas(root: root)
        let agents = try await service.agents().map {
            AgentAdvice.advise(
                $0, launchTokens: launch.tokens, areas: areas, essentialShare: share, claudeCode: claudeCode)
        }
        var files: [InitReport.FileResult] = []
        for plan in plans {
            files.append(try dryRun ? plan.result(written: false, backup: nil) : plan.write())
        }
        let report = InitReport(
            root: root.path, dryRun: dryRun, changed: plans.contains(where: \.changed), files: files,
            claudeCode: claudeCode, launchMemory: launch, agents: agents)
        if json {
            try Terminal.standardOutput(json: report)
        } else {
            printSummary(report, plans: plans)
        }
    }

    private func makeSetup(service: MemoryService, environment: [String: String]) -> ClaudeCodeSetup {
        let executable = Executables.ctxmemReference(environment: environment)
        let database = location.db != nil ? ["--db", service.databasePath] : []
        let transport: ClaudeCodeSetup.HookTransport
        let command =
            ([Executables.shellQuoted(executable), "hook", "--root", "\"$CLAUDE_PROJECT_DIR\""]
            + database.map(Executables.shellQuoted)).joined(separator: " ")
        if let http, let url = try? Self.hookURL(http) {
            transport = .http(url: url, tokenVariable: tokenEnv)
        } else {
            transport = .command(command)
        }
        let running = URL(fileURLWithPath: Executables.running()).lastPathComponent
        return ClaudeCodeSetup(
            transport: transport, commandLine: command, serverCommand: executable,
            serverArguments: ["mcp", "--root", service.root.path] + database,
            executableNames: ["ctxmem", running], handoffs: handoffs)
    }

    /// The folders directly under `project_management/`, for include globs.
    static func projectAreas(root: URL) -> [String] {
        let folder = root.appendingPathComponent("project_management")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { name in
            var isFolder: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(
                    atPath: folder.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue
        }.sorted()
    }

    // MARK: - Output

    private func printSummary(_ report: InitReport, plans: [FilePlan]) {
        if dryRun {
            Terminal.standardOutput("Dry run: nothing is written.")
        }
        if !report.changed {
            Terminal.standardOutput(
                "Nothing to change: .claude/settings.json and .mcp.json already hold ctxmem's hooks and server"
                    + (plans.count > 2 ? ", and .ctxmem.yaml keeps handoffs." : "."))
        }
        for (file, plan) in zip(report.files, plans) where plan.changed {
            let verb =
                file.status == .create
                ? (dryRun ? "would be created" : "created") : (dryRun ? "would be updated" : "updated")
            let backup = file.backup.map { " (backup \($0))" } ?? ""
            Terminal.standardOutput("\(file.path): \(verb)\(backup)")
            for change in file.changes { Terminal.standardOutput("  \(change)") }
            if dryRun {
                Terminal.standardOutput(UnifiedDiff.render(old: plan.before, new: plan.after, path: plan.path))
            }
        }
        Terminal.standardOutput("Claude Code: \(report.claudeCode.summary)")
        let launch = report.launchMemory
        let names = launch.files.prefix(5).map(\.path).joined(separator: ", ") + (launch.files.count > 5 ? ", ..." : "")
        Terminal.standardOutput(
            "Launch memory: \(launch.files.count) file\(launch.files.count == 1 ? "" : "s"), \(launch.tokens) tokens"
                + (launch.files.isEmpty ? "" : " (\(names))"))
        let advised = report.agents.filter { !$0.isEmpty }
        if report.agents.isEmpty {
            Terminal.standardOutput("Agents: none in .claude/agents.")
        } else if advised.isEmpty {
            Terminal.standardOutput("Agents: \(report.agents.count), nothing to suggest.")
        } else {
            Terminal.standardOutput("Agents (ctxmem never edits them; apply what you agree with):")
            for agent in advised {
                Terminal.standardOutput("  \(agent.name) (\(agent.path))")
                if let reason = agent.omitClaudeMdAdvice {
                    Terminal.standardOutput("    omitClaudeMd: true would help: \(reason)")
                }
                if let block = agent.suggestedContext {
                    Terminal.standardOutput("    no context: block; a start:")
                    for line in block.yaml.split(separator: "\n") { Terminal.standardOutput("      \(line)") }
                }
                for note in agent.notes { Terminal.standardOutput("    note: \(note)") }
            }
        }
        if report.changed && !dryRun {
            Terminal.standardOutput(
                "Next: restart Claude Code in this project (it reads hooks and .mcp.json at start) and approve the ctxmem server when it asks."
            )
        }
    }
}

/// What `ctxmem init --json` prints.
struct InitReport: Codable, Sendable {
    struct FileResult: Codable, Sendable {
        enum Status: String, Codable, Sendable {
            case create, update, unchanged
        }

        /// Relative to the root.
        var path: String
        var status: Status
        /// Whether the file was written (never in a dry run).
        var written: Bool
        /// The copy of the file before the change, relative to the root; nil when none was made.
        var backup: String?
        var changes: [String]
    }

    var root: String
    var dryRun: Bool
    /// Whether any file changes (or would, in a dry run).
    var changed: Bool
    var files: [FileResult]
    var claudeCode: ClaudeCodeVersion
    var launchMemory: LaunchMemory
    var agents: [AgentAdvice]
}

/// One configuration file: as it is, and as ctxmem wants it.
struct FilePlan {
    let root: URL
    /// Relative to the root.
    let path: String
    /// The file's text; nil when it does not exist.
    let before: String?
    /// The text to write (``before`` when nothing changes).
    let after: String
    let changes: [String]

    var changed: Bool { !changes.isEmpty }
    var url: URL { root.appendingPathComponent(path) }

    /// Reads the file and merges it. An empty file counts as `{}`.
    /// - Throws: ``CommandFailure`` (runtime) naming the file, and the line and column of bad JSON.
    init(root: URL, path: String, merge: (OrderedJSON) throws -> (merged: OrderedJSON, changes: [String])) throws {
        try self.init(root: root, path: path) { text in
            let value: OrderedJSON
            do {
                let source = text ?? ""
                value = source.allSatisfy(\.isWhitespace) ? .emptyObject : try OrderedJSON(parsing: source)
            } catch let error as OrderedJSON.ParseError {
                throw CommandFailure.runtime(
                    "\(path):\(error.line):\(error.column): not valid JSON: \(error.reason)\(Self.nothingChanged); fix the file (Claude Code cannot read it either) and run `ctxmem init` again"
                )
            }
            let (merged, changes) = try merge(value)
            return (merged.rendered(), changes)
        }
    }

    /// Reads a text file (nil when it does not exist) and edits it: `.ctxmem.yaml` as text, so
    /// its comments stay; the JSON files through ``init(root:path:merge:)``.
    /// - Throws: ``CommandFailure`` (runtime) naming the file.
    init(root: URL, path: String, text edit: (String?) throws -> (text: String, changes: [String])) throws {
        self.root = root
        self.path = path
        let url = root.appendingPathComponent(path)
        var text: String?
        if FileManager.default.fileExists(atPath: url.path) {
            let data: Data
            do {
                data = try Data(contentsOf: url)
            } catch {
                throw CommandFailure.runtime("\(path): cannot be read (\(error))\(Self.nothingChanged)")
            }
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw CommandFailure.runtime("\(path): is not UTF-8 text\(Self.nothingChanged)")
            }
            text = decoded
        }
        before = text
        do {
            let (edited, changes) = try edit(text)
            self.changes = changes
            after = changes.isEmpty ? (text ?? edited) : edited
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.runtime("\(path): \(error)\(Self.nothingChanged)")
        }
    }

    private static let nothingChanged = "; nothing was changed"

    func result(written: Bool, backup: String?) -> InitReport.FileResult {
        InitReport.FileResult(
            path: path, status: !changed ? .unchanged : before == nil ? .create : .update, written: written,
            backup: backup, changes: changes)
    }

    /// Backs the file up (when it exists) and writes the new text; nothing when unchanged.
    /// - Throws: ``CommandFailure`` (runtime) when either cannot be written.
    func write() throws -> InitReport.FileResult {
        guard changed else { return result(written: false, backup: nil) }
        let manager = FileManager.default
        var backup: String?
        do {
            if before != nil {
                var candidate = path + ".ctxmem-backup"
                var number = 0
                while manager.fileExists(atPath: root.appendingPathComponent(candidate).path) {
                    number += 1
                    candidate = path + ".ctxmem-backup.\(number)"
                }
                try manager.copyItem(at: url, to: root.appendingPathComponent(candidate))
                backup = candidate
            }
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(after.utf8).write(to: url, options: .atomic)
        } catch {
            throw CommandFailure.runtime(
                "\(path): cannot be written (\(error))" + (backup.map { "; its backup is \($0)" } ?? ""))
        }
        return result(written: true, backup: backup)
    }
}
