import ArgumentParser
import ContextMemory
import Foundation

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Build or refresh the index of the memory root.",
        discussion: """
            Only what changed is read again: files whose size, modification time and inode match are \
            skipped, files whose content hash matches are not parsed, deleted files are removed, all in \
            one transaction. --rebuild starts from an empty index (also the way out of a damaged one), \
            keeping the globs an earlier --include added unless new ones are given.

            Memory files are every CLAUDE.md, CLAUDE.local.md, .claude/CLAUDE.md, AGENTS.md, \
            .claude/rules/**/*.md, .claude/agents/**/*.md, .claude/skills/**/SKILL.md, everything under \
            project_management/, files matched by `include` globs (in .ctxmem.yaml or --include), and \
            every file inside the root they reach by an @import or a relative link.

            Examples:
              ctxmem index
              ctxmem index --root ~/src/app --include 'docs/**/*.md'
              ctxmem index --rebuild --quiet
            """
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Delete the index and build it from scratch.")
    var rebuild = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also index files matching this glob (repeatable), beside .ctxmem.yaml's include. The index remembers them: later runs, --rebuild included, keep them until --include is given again.",
            valueName: "glob"))
    var include: [String] = []

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let service = location.service()
        let showProgress = !quiet && !json && Terminal.isStandardErrorTerminal
        let meter = ProgressMeter()
        let report: IndexReport
        let show: @Sendable (IndexProgress) -> Void = { progress in meter.show(progress) }
        let onProgress = showProgress ? show : nil
        do {
            let quiet = quiet
            report = try await service.index(
                rebuild: rebuild, include: include.isEmpty ? nil : include,
                waiting: { holder in
                    if !quiet {
                        Terminal.standardError(
                            "ctxmem: waiting for another index run on this index\(holder.map { " (pid \($0))" } ?? "") to finish…"
                        )
                    }
                }, progress: onProgress)
        } catch {
            if showProgress { meter.clear() }
            throw error
        }
        if showProgress { meter.clear() }
        if json {
            try Terminal.standardOutput(json: report)
            return
        }
        if let damage = report.replacedDamagedIndex {
            Terminal.standardError("ctxmem: the index was damaged (\(damage)); it was rebuilt from the files")
        }
        guard !quiet else { return }
        let megabytes = Double(report.bytesParsed) / 1_048_576
        Terminal.standardOutput(
            """
            Indexed \(report.documents) documents in \(String(format: "%.2f", report.seconds)) s \
            (\(report.added) added, \(report.changed) changed, \(report.removed) removed, \(report.unchanged) unchanged; \
            \(String(format: "%.1f", megabytes)) MB parsed; \(report.scannedFiles) files scanned)
            Index: \(report.databasePath) (generation \(report.generation))
            """)
        if !report.findings.isEmpty {
            Terminal.standardOutput("\(report.findings.count) finding\(report.findings.count == 1 ? "" : "s"):")
            for finding in report.findings.prefix(50) { Terminal.standardOutput("  \(finding)") }
            if report.findings.count > 50 {
                Terminal.standardOutput("  ... and \(report.findings.count - 50) more (ctxmem index --json lists all)")
            }
        }
    }
}

/// One line on stderr, redrawn at most ten times a second.
final class ProgressMeter: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = 0.0

    func show(_ progress: IndexProgress) {
        lock.lock()
        defer { lock.unlock() }
        guard progress.seconds - lastDraw >= 0.1 else { return }
        lastDraw = progress.seconds
        let megabytes = Double(progress.bytesParsed) / 1_048_576
        let rate = progress.seconds > 0 ? megabytes / progress.seconds : 0
        let line = String(format: "\rindexing: %d files, %.1f MB, %.1f MB/s", progress.filesDone, megabytes, rate)
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
