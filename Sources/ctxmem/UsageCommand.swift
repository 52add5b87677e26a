import ArgumentParser
import ContextMemory
import Foundation

struct UsageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show how much context each Claude Code agent used, from the session transcripts.",
        discussion: """
            Reads the project's Claude Code transcripts in <claude dir>/projects/<encoded path>/ (the project's \
            absolute path with every character but ASCII letters and digits made -): each session's main \
            transcript and its sub-agents'. Shows, per session and per agent: requests, the peak context of \
            one request (input + cache read + cache creation tokens), its share of the window, compactions and \
            output tokens. Agents whose peak passed 80% of the window are marked `!`. The window is 200K tokens \
            unless the model says 1M ([1m] in its id, Claude Sonnet 5) or a request held more than 200K (then \
            1M, marked `*`); --window sets it.

            Malformed and unknown lines are counted and skipped, never fatal. Exit 1 when the project has no \
            transcript folder. docs/claude-code.md ("Context use") has the details and the JSON shape.

            Examples:
              ctxmem usage                        this folder's sessions, newest first
              ctxmem usage --project ~/src/app --json
              ctxmem usage --session 5f0c --window 1000000
              ctxmem usage --claude-dir /srv/claude-config --project /srv/app
            """
    )

    @Option(
        name: .customLong("claude-dir"),
        help: ArgumentHelp(
            "Claude Code's configuration folder (default: $CLAUDE_CONFIG_DIR, else ~/.claude).", valueName: "dir"))
    var claudeDirectory: String?

    @Option(help: ArgumentHelp("The folder Claude Code ran in (default: the current folder).", valueName: "path"))
    var project: String?

    @Option(help: ArgumentHelp("Only sessions whose id starts with this.", valueName: "id"))
    var session: String?

    @Option(help: ArgumentHelp("Measure every agent against this window instead of its model's.", valueName: "tokens"))
    var window: Int?

    @Flag(help: "Print as JSON.")
    var json = false

    func validate() throws {
        if let window, window <= 0 { throw ValidationError("--window must be a positive number of tokens") }
    }

    func run() throws {
        let claude = claudeDirectory.map { URL(fileURLWithPath: $0) } ?? TranscriptUsage.claudeDirectory()
        let folder = TranscriptUsage.projectFolder(
            claudeDirectory: claude, project: URL(fileURLWithPath: project ?? "."))
        let report = try TranscriptUsage.scan(
            projectFolder: folder, options: TranscriptUsage.Options(session: session, window: window))
        if json {
            try Terminal.standardOutput(json: report)
        } else {
            Terminal.standardOutput(Self.text(report))
        }
    }

    /// The report as tables, one per session. Names from transcripts (ids, agent types, models) are
    /// always shown with their control characters escaped: they are untrusted and a table must stay one.
    static func text(_ report: UsageReport) -> String {
        let totals = report.totals
        var lines: [String] = []
        let size = String(format: "%.1f MB", Double(totals.bytes) / 1_048_576)
        let sessions = report.sessions.count
        if sessions == 0 {
            lines.append("No Claude Code sessions in \(Terminal.visible(report.projectFolder)).")
        } else {
            lines.append(
                "\(sessions) session\(sessions == 1 ? "" : "s") in \(Terminal.visible(report.projectFolder)) "
                    + "(\(grouped(totals.files)) transcript\(totals.files == 1 ? "" : "s"), \(size))")
        }
        var marked = false
        var inferred = false
        for session in report.sessions {
            lines.append("")
            let when = session.modified.map { " (\($0.prefix(16).replacingOccurrences(of: "T", with: " ")) UTC)" } ?? ""
            lines.append("Session \(Terminal.visible(session.id))\(when)")
            var rows = [["agent", "requests", "peak context", "of window", "", "compactions", "output tokens"]]
            for agent in session.agents {
                var name =
                    agent.kind == .main ? "main" : "  " + (agent.agentType.map { "\($0) (\(agent.id))" } ?? agent.id)
                name = Terminal.visible(name)
                if name.count > 60 { name = String(name.prefix(59)) + "…" }
                var share = "\(Int((agent.peakShare * 100).rounded()))% of \(windowLabel(agent.window))"
                if agent.windowSource == .inferred {
                    share += "*"
                    inferred = true
                }
                if agent.overThreshold { marked = true }
                rows.append([
                    name, grouped(agent.requests), grouped(agent.peakContext), share, agent.overThreshold ? "!" : "",
                    grouped(agent.compactions), grouped(agent.outputTokens),
                ])
            }
            lines.append(contentsOf: table(rows).map { "  " + $0 })
        }
        if marked || inferred { lines.append("") }
        if marked {
            lines.append(
                "! peak context over \(Int(report.threshold * 100))% of the window: close to compaction "
                    + "(give the agent a smaller pack or a narrower task).")
        }
        if inferred {
            lines.append("* a request held more than 200K tokens, so the window is taken to be 1M (--window sets it).")
        }
        if totals.lines > 0 || !totals.unreadable.isEmpty {
            lines.append("")
            var counts =
                "Lines: \(grouped(totals.lines)) read, \(grouped(totals.requests)) requests, "
                + "\(grouped(totals.compactions)) compaction\(totals.compactions == 1 ? "" : "s"), "
                + "\(grouped(totals.skipped)) skipped (no usage), \(grouped(totals.malformed)) malformed"
            if totals.tooLong > 0 { counts += ", \(grouped(totals.tooLong)) over 64 MiB" }
            lines.append(counts)
            for file in totals.unreadable { lines.append("Unreadable: \(Terminal.visible(file))") }
        }
        return lines.joined(separator: "\n")
    }

    /// Rows with the first column left-aligned and the rest right-aligned.
    static func table(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ").replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }
    }

    static func windowLabel(_ tokens: Int) -> String {
        if tokens % 1_000_000 == 0 { return "\(tokens / 1_000_000)M" }
        if tokens % 1000 == 0 { return "\(tokens / 1000)K" }
        return grouped(tokens)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }
}
