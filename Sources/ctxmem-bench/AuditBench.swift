import ArgumentParser
import ContextMemory
import Foundation

// `--audit`: the audit of a corpus from a warm index, with a real git history under it.
extension Bench {
    func measureAudit(root: URL, service: MemoryService, corpusName: String) async throws {
        let commits = try makeHistory(root: root, commits: commits)
        let index = try await service.index(rebuild: true, include: include)
        let clock = ContinuousClock()
        func time(_ options: AuditOptions) async throws -> (seconds: Double, report: AuditReport) {
            _ = try await service.audit(options)  // warm-up
            var seconds: [Double] = []
            var last: AuditReport?
            for _ in 0..<max(3, runs) {
                let start = clock.now
                last = try await service.audit(options)
                seconds.append((clock.now - start).seconds)
            }
            return (median(seconds), last!)
        }
        let full = try await time(AuditOptions())
        let withoutRefresh = try await time(AuditOptions(refreshIndex: false))
        let gitOnly = try await time(AuditOptions(rules: [.staleReference], refreshIndex: false))
        let linksOnly = try await time(
            AuditOptions(rules: [.brokenImport, .brokenLink, .brokenAnchor, .caseMismatch], refreshIndex: false))
        var byRule: [String: Int] = [:]
        for finding in full.report.findings { byRule[finding.rule.rawValue, default: 0] += 1 }
        func f(_ value: Double) -> String { String(format: "%.3f", value) }
        print(
            """
            corpus:                      \(corpusName)
            documents / Markdown:        \(index.documents) / \(String(format: "%.1f", Double(index.bytesParsed) / 1_048_576)) MB
            git history:                 \(commits) commits (\(full.report.history ?? "not used"))
            audit, all rules:            \(f(full.seconds)) s   (target <= 3 s at 50 MB; includes the index refresh, as `ctxmem audit` runs)
            audit without the refresh:   \(f(withoutRefresh.seconds)) s
            stale-reference alone:       \(f(gitOnly.seconds)) s   (the git pass and the dating)
            imports, links, anchors:     \(f(linksOnly.seconds)) s
            findings:                    \(full.report.findings.count) \(byRule.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            peak RSS:                    \(String(format: "%.1f", peakRSSMegabytes())) MB
            """)
    }

    /// Makes `root` a git work tree with `commits` commits (one adding everything, then each
    /// changing one file an hour later), through one `git fast-import`; keeps an existing history.
    private func makeHistory(root: URL, commits: Int) throws -> Int {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path) {
            return Int(
                try git(["rev-list", "--count", "HEAD"], in: root).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        guard commits > 0 else { return 0 }
        _ = try git(["init", "-q"], in: root)
        let files = try FileManager.default.subpathsOfDirectory(atPath: root.path)
            .filter { !$0.hasPrefix(".git") && !$0.hasPrefix(".ctxmem") }
            .filter {
                var isFolder: ObjCBool = false
                return FileManager.default.fileExists(
                    atPath: root.appendingPathComponent($0).path, isDirectory: &isFolder) && !isFolder.boolValue
            }
            .sorted()
        var stream = Data()
        func append(_ text: String) { stream.append(Data(text.utf8)) }
        func blob(_ path: String, _ data: Data) {
            append("M 100644 inline \(path)\ndata \(data.count)\n")
            stream.append(data)
            append("\n")
        }
        var time = 1_735_689_600  // 2025-01-01
        var contents: [String: Data] = [:]
        for number in 0..<commits {
            append(
                "commit refs/heads/main\ncommitter Bench <bench@example.com> \(time) +0000\ndata 8\nchange \(number % 10)\n"
            )
            if number == 0 {
                for path in files {
                    let data = try Data(contentsOf: root.appendingPathComponent(path))
                    contents[path] = data
                    blob(path, data)
                }
            } else {
                // A spread of files, deterministic: the prime stride visits them all before repeating.
                let path = files[(number * 7919) % files.count]
                var data = contents[path] ?? Data()
                data.append(Data("\nRevised in change \(number).\n".utf8))
                contents[path] = data
                blob(path, data)
            }
            append("\n")
            time += 3600
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root.path, "fast-import", "--quiet"]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(stream)
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("git fast-import failed") }
        _ = try git(["checkout", "-q", "-f", "main"], in: root)
        return commits
    }

    private func git(_ arguments: [String], in root: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root.path, "-c", "init.defaultBranch=main"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("git \(arguments.joined(separator: " ")) failed")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
