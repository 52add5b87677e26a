import ArgumentParser
import ContextMemory
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Find the references in project memory that mislead an agent, with where and how to fix them.",
        discussion: """
            Refreshes the index, then checks every reference of the memory: @imports that load nothing \
            (Claude Code drops them without a word), links and #anchors that lead nowhere, paths that \
            exist nowhere, references whose target changed after the document (git history when the \
            root is a work tree, else file times), project_management documents nothing reaches, \
            repeated sections, oversized CLAUDE.md files and agents, invalid frontmatter and agents. \
            `ctxmem audit --list-rules` lists the rules; docs/audit-rules.md explains each with an example.

            Silence one finding with `<!-- ctxmem-ignore RULE -->` on the line before it (several rules \
            separated by spaces; none means every rule). For CI, record today's findings once with \
            --write-baseline and pass --baseline so that only new ones fail the job.

            Examples:
              ctxmem audit
              ctxmem audit --rule broken-import broken-link --fail-on warning
              ctxmem audit --format sarif --out ctxmem.sarif      (GitHub code scanning)
              ctxmem audit --write-baseline .ctxmem-baseline.json
              ctxmem audit --baseline .ctxmem-baseline.json --format json

            Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage or runtime \
            error (bad option, unknown rule, unreadable baseline, no usable root or index).
            """
    )

    @OptionGroup var location: LocationOptions

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: AuditFormat = .text

    @Option(
        name: .customLong("fail-on"),
        help: ArgumentHelp(
            "Exit 1 when a finding is at or above this severity; never exits 0 whatever the findings.",
            valueName: "severity"))
    var failOn: AuditThreshold = .error

    @Option(
        help: ArgumentHelp(
            "Leave out the findings recorded in this file (an earlier --format json report or --write-baseline).",
            valueName: "file"))
    var baseline: String?

    @Option(
        name: .customLong("write-baseline"),
        help: ArgumentHelp("Record the current findings in this file as the baseline, and exit 0.", valueName: "file"))
    var writeBaseline: String?

    @Option(
        name: .customLong("rule"), parsing: .upToNextOption,
        help: ArgumentHelp("Run only these rules (--rule a b, --rule a --rule b or --rule a,b).", valueName: "id"))
    var rules: [String] = []

    @Option(
        help: ArgumentHelp(
            "Write the report to this file instead of stdout (the summary goes to stderr).", valueName: "file"))
    var out: String?

    @Flag(name: .customLong("no-git"), help: "Date stale-reference by file modification times even in a git work tree.")
    var noGit = false

    @Flag(name: .customLong("list-rules"), help: "List the rules with their default severity, and exit.")
    var listRules = false

    /// Rule ids are checked here rather than typed: `--rule a,b` lists several in one value, and an
    /// unknown id gets the nearest as a suggestion.
    func validate() throws {
        do {
            _ = try selectedRules()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() async throws {
        if listRules {
            for rule in RuleID.auditRules {
                print(
                    rule.rawValue.padding(toLength: 20, withPad: " ", startingAt: 0)
                        + rule.defaultSeverity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0) + rule.summary
                )
            }
            return
        }
        var options = AuditOptions(useGit: !noGit)
        if let rules = try selectedRules() { options.rules = rules }
        if let baseline { options.baseline = try AuditBaseline(contentsOf: URL(fileURLWithPath: baseline)) }

        let report = try await location.service().audit(options)
        if let writeBaseline {
            try write(try AuditRenderer.render(report, as: .json), to: writeBaseline)
            Terminal.standardError(
                "ctxmem: wrote \(writeBaseline): \(report.findings.count) findings; pass --baseline \(writeBaseline) to fail only on new ones"
            )
            return
        }
        if let out {
            try write(try AuditRenderer.render(report, as: format), to: out)
            Terminal.standardError("ctxmem: wrote \(out): " + AuditRenderer.summary(report))
        } else {
            let color = format == .text && Terminal.useColor
            FileHandle.standardOutput.write(Data(try Self.shown(report, as: format, color: color).utf8))
        }
        // 1 is taken by "findings at or above --fail-on": every failure to run exits 2 (CommandFailure).
        if report.fails(at: failOn) { throw ExitCode(1) }
    }

    /// The rules `--rule` names; nil when it names none (every rule runs).
    /// - Throws: ``AuditError/unknownRule(_:suggestion:)``.
    private func selectedRules() throws -> Set<RuleID>? {
        rules.isEmpty ? nil : try AuditError.rules(rules)
    }

    /// The report for stdout. On a terminal, the findings' text is made visible before the
    /// renderer adds its colour, and JSON and SARIF get their controls as `\u` escapes
    /// (Terminal+Escaping.swift); to a pipe, the report byte for byte.
    static func shown(_ report: AuditReport, as format: AuditFormat, color: Bool) throws -> String {
        guard Terminal.escapesStandardOutput else { return try AuditRenderer.render(report, as: format, color: color) }
        guard format == .text else { return Terminal.visibleJSON(try AuditRenderer.render(report, as: format)) }
        var visible = report
        visible.findings = report.findings.map { finding in
            var finding = finding
            finding.path = Terminal.visible(finding.path)
            finding.message = Terminal.visible(finding.message)
            return finding
        }
        return try AuditRenderer.render(visible, as: .text, color: color)
    }

    private func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandFailure.runtime("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
