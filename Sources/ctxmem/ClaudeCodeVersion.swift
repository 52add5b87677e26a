import Foundation

/// Which Claude Code is installed, as far as `claude --version` tells (it prints a line such as
/// `2.1.271 (Claude Code)`), against the release that reads an agent's `omitClaudeMd: true`.
/// Never a reason to fail: when `claude` is missing, slow or unreadable, the check says it could
/// not tell.
struct ClaudeCodeVersion: Sendable, Codable, Equatable {
    /// The first release that starts an agent with `omitClaudeMd: true` without the CLAUDE.md
    /// hierarchy.
    static let omitClaudeMdRelease = [2, 1, 271]
    static var omitClaudeMdReleaseText: String { omitClaudeMdRelease.map(String.init).joined(separator: ".") }

    /// The version found (`2.1.300`), or nil when it could not be told.
    var version: String?
    /// Whether that version reads `omitClaudeMd`; nil when unknown.
    var omitClaudeMdSupported: Bool?
    /// What was found, for people: "Claude Code 2.1.300 reads omitClaudeMd", "`claude` is not on PATH".
    var summary: String
    /// The release `omitClaudeMd` needs, for scripts.
    var omitClaudeMdRequires = Self.omitClaudeMdReleaseText

    /// The version in `claude --version`'s output: its first `MAJOR.MINOR.PATCH`.
    static func parse(_ output: String) -> [Int]? {
        guard let match = output.firstMatch(of: /(\d+)\.(\d+)\.(\d+)/) else { return nil }
        let parts = [match.1, match.2, match.3].compactMap { Int($0) }
        return parts.count == 3 ? parts : nil
    }

    /// What `claude --version`'s output says, or that it could not be read.
    static func from(output: String) -> ClaudeCodeVersion {
        guard let parts = parse(output) else {
            let shown = output.split(separator: "\n").first.map(String.init) ?? ""
            return ClaudeCodeVersion(
                version: nil, omitClaudeMdSupported: nil,
                summary: "could not read the version in `claude --version`'s output '\(shown.prefix(80))'")
        }
        let text = parts.map(String.init).joined(separator: ".")
        let supported = parts.lexicographicallyPrecedes(omitClaudeMdRelease) == false
        return ClaudeCodeVersion(
            version: text, omitClaudeMdSupported: supported,
            summary: supported
                ? "Claude Code \(text) reads omitClaudeMd"
                : "Claude Code \(text) ignores omitClaudeMd (it needs \(omitClaudeMdReleaseText) or later: `claude update`)"
        )
    }

    static func unknown(_ reason: String) -> ClaudeCodeVersion {
        ClaudeCodeVersion(version: nil, omitClaudeMdSupported: nil, summary: reason)
    }

    /// Runs `claude --version` (found on `PATH`) and waits at most `timeout`.
    static func check(environment: [String: String], timeout: Duration = .seconds(2)) -> ClaudeCodeVersion {
        guard let claude = Executables.find("claude", path: environment["PATH"]) else {
            return unknown("could not check the Claude Code version: `claude` is not on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: claude)
        process.arguments = ["--version"]
        process.standardInput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            return unknown("could not check the Claude Code version: running \(claude) failed (\(error))")
        }
        let components = timeout.components
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        guard finished.wait(timeout: .now() + seconds) == .success else {
            process.terminate()
            _ = finished.wait(timeout: .now() + 1)
            return unknown("could not check the Claude Code version: `claude --version` took over \(Int(seconds)) s")
        }
        // --version prints one line; a bounded read keeps a misbehaving program from filling memory.
        let bytes = (try? output.fileHandleForReading.read(upToCount: 4096)) ?? nil
        return from(output: String(decoding: bytes ?? Data(), as: UTF8.self))
    }
}

/// Programs on `PATH`, and the running one.
enum Executables {
    /// The first executable file `name` in the folders of `path` (colon-separated; empty entries,
    /// which mean the current folder, are skipped).
    static func find(_ name: String, path: String?) -> String? {
        for folder in (path ?? "").split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/" + name
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate)
            {
                return candidate
            }
        }
        return nil
    }

    /// The running binary's absolute path, symbolic links resolved (Linux: /proc/self/exe).
    static func running() -> String {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return target
        }
        let argument = CommandLine.arguments[0]
        let absolute =
            argument.contains("/")
            ? URL(fileURLWithPath: argument).standardizedFileURL.path
            : find(argument, path: ProcessInfo.processInfo.environment["PATH"]) ?? argument
        return URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
    }

    /// How configuration files should name the running binary: `ctxmem` when that name on `PATH`
    /// is this binary (so the files stay portable), else its absolute path.
    static func ctxmemReference(environment: [String: String]) -> String {
        let running = running()
        if let onPath = find("ctxmem", path: environment["PATH"]),
            URL(fileURLWithPath: onPath).resolvingSymlinksInPath().path == running
        {
            return "ctxmem"
        }
        return running
    }

    /// `text` as one shell word: as is when it holds only safe characters, else in double quotes
    /// with `"`, `\`, `$` and backquote escaped.
    static func shellQuoted(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy { scalar in
            ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || "/._-+,:@%=".unicodeScalars.contains(scalar)
        }
        if safe && !text.isEmpty { return text }
        var quoted = "\""
        for character in text {
            if "\"\\$`".contains(character) { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
