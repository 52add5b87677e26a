import Foundation
import Testing

@testable import ctxmem

/// Memory files are untrusted: what they hold reaches a terminal only as visible escapes, and a
/// pipe or file byte for byte.
@Suite("Terminal output of untrusted memory")
struct TerminalEscapingTests {
    @Test(
        "controls, DEL, C1 and bidi controls are shown as escapes; everything else as is",
        arguments: [
            ("a\u{1B}[2Jb", "a\\x1b[2Jb"),
            ("title\u{1B}]0;pwned\u{07}", "title\\x1b]0;pwned\\x07"),
            ("nul\u{0} bs\u{8} vt\u{B} ff\u{C} us\u{1F}", "nul\\x00 bs\\x08 vt\\x0b ff\\x0c us\\x1f"),
            ("lone\rcarriage return", "lone\\x0dcarriage return"),
            ("del\u{7F} csi\u{9B}31m pad\u{80} apc\u{9F}", "del\\x7f csi\\x9b31m pad\\x80 apc\\x9f"),
            ("\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
            ("\u{2066}isolated\u{2069} \u{2067}\u{2068}", "\\u2066isolated\\u2069 \\u2067\\u2068"),
            ("tab\tline\nCRLF\r\nend", "tab\tline\nCRLF\r\nend"),
            (
                "café 日本 «VPC» › … \u{A0}\u{A1} \u{200F}\u{2028} 🦘 a\\x1b",
                "café 日本 «VPC» › … \u{A0}\u{A1} \u{200F}\u{2028} 🦘 a\\x1b"
            ),
            ("", ""),
        ] as [(String, String)])
    func visible(text: String, shown: String) {
        #expect(Terminal.visible(text) == shown)
        #expect(Terminal.visible(shown) == shown, "showing twice changes nothing")
    }

    @Test("JSON: the encoder escapes C0 controls; DEL, C1 and bidi controls become \\u escapes of the same value")
    func json() throws {
        let value = [
            "text": "esc\u{1B}[2J nul\u{0} bell\u{7} del\u{7F} csi\u{9B} rlo\u{202E} fsi\u{2068} tab\t",
            "plain": "café › «x»",
        ]
        let encoded = try Terminal.json(value)
        #expect(!encoded.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "JSONEncoder left a raw C0 control")
        #expect(encoded.contains("\\u001b[2J") && encoded.contains("\\u0000") && encoded.contains("\\u0007"))
        let shown = Terminal.visibleJSON(encoded)
        #expect(!shown.unicodeScalars.contains { Terminal.isUnsafe($0) && $0 != "\n" })
        #expect(
            shown.contains("\\u007f") && shown.contains("\\u009b") && shown.contains("\\u202e")
                && shown.contains("\\u2068"))
        #expect(try JSONDecoder().decode([String: String].self, from: Data(shown.utf8)) == value)
        #expect(
            Terminal.visibleJSON(try Terminal.json(["plain": "café › «x»"]))
                == (try Terminal.json(["plain": "café › «x»"])))
    }

    // MARK: - End to end

    static let evil =
        "# Evil \u{1B}]0;pwned\u{07} title\n\nThe zeppelin \u{1B}[2J landed \u{202E} reversed \u{9B}31m and del\u{7F} here\n"

    /// The project fixture with a memory file, and an agent whose name, full of escape sequences.
    static func evilTree() throws -> CLITests.Tree {
        let tree = try CLITests.Tree()
        try Data(Self.evil.utf8).write(to: tree.root.appendingPathComponent("project_management/evil.md"))
        try Data(
            "---\nname: \"ev\\e[2Jil\"\ndescription: \"Evil \\e]0;title\\a agent\"\n---\n# Evil agent\n\nbody\n".utf8
        )
        .write(to: tree.root.appendingPathComponent(".claude/agents/evil.md"))
        let index = try CLITests.run(["index", "--root", tree.root.path])
        #expect(index.status == 0, "\(index.stderr)")
        return tree
    }

    @Test("to a pipe or a file, text is written byte for byte")
    func piped() throws {
        let tree = try Self.evilTree()
        let root = tree.root.path
        let read = try CLITests.run(["read", "--root", root, "memory://project_management/evil.md"])
        #expect(read.stdout == Self.evil, "read prints the file as it is")
        let search = try CLITests.run(["search", "--root", root, "zeppelin"])
        #expect(search.stdout.contains("The «zeppelin» \u{1B}[2J landed \u{202E} reversed \u{9B}31m and del"))
        let json = try CLITests.run(["search", "--root", root, "zeppelin", "--json"])
        #expect(json.stdout.contains("\\u001b[2J landed \u{202E} reversed \u{9B}31m"))
        let agents = try CLITests.run(["agents", "--root", root])
        #expect(agents.stdout.contains("ev\u{1B}[2Jil"))
        let tiers = try CLITests.run(["tiers", "--root", root, "project_management/evil.md"])
        #expect(tiers.stdout.contains("Evil \u{1B}]0;pwned\u{07} title"))

        for format in ["markdown", "json"] {
            let pack = try CLITests.run(["pack", "--root", root, "--task", "zeppelin", "--format", format])
            #expect(pack.status == 0, "\(pack.stderr)")
            #expect(pack.stdout.contains(format == "json" ? "\u{202E}" : "\u{1B}[2J"))
            let out = tree.root.appendingPathComponent("pack.\(format)")
            _ = try CLITests.run(["pack", "--root", root, "--task", "zeppelin", "--format", format, "--out", out.path])
            #expect(try Data(contentsOf: out) == Data(pack.stdout.utf8), "--out and a pipe get the same bytes")
        }
    }

    static let script = "/usr/bin/script"

    /// Runs ctxmem on a new pseudo-terminal through util-linux's script(1), as a person at a
    /// terminal runs it, and returns what the terminal received (`tail` is shell text: redirections).
    static func runOnTerminal(_ arguments: [String], tail: String = "") throws -> String {
        func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [
            "-qec", ([CLITests.binary.path] + arguments).map(quoted).joined(separator: " ") + tail, "/dev/null",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"  // then any escape sequence on the terminal came from a memory file
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(
        "on a terminal, nothing from a memory file acts on it: pack, read, search, tiers, agents, audit, index, errors",
        .enabled(if: FileManager.default.isExecutableFile(atPath: script)))
    func onTerminal() throws {
        let tree = try Self.evilTree()
        let root = tree.root.path
        let runs: [([String], String, [String])] = [
            (
                ["read", "--root", root, "memory://project_management/evil.md"], "",
                ["Evil \\x1b]0;pwned\\x07 title", "\\u202e reversed \\x9b31m and del\\x7f"]
            ),
            (["search", "--root", root, "zeppelin"], "", ["«zeppelin» \\x1b[2J landed \\u202e reversed \\x9b31m"]),
            (["search", "--root", root, "zeppelin", "--json"], "", ["\\u001b[2J landed \\u202e reversed \\u009b31m"]),
            (["pack", "--root", root, "--task", "zeppelin"], "", ["The zeppelin \\x1b[2J landed"]),
            (
                ["pack", "--root", root, "--task", "zeppelin", "--format", "json"], "",
                ["The zeppelin \\u001b[2J landed \\u202e"]
            ),
            (["pack", "--root", root, "--task", "zeppelin", "--format", "xml"], "", ["The zeppelin"]),
            (["tiers", "--root", root, "project_management/evil.md"], "", ["Evil \\x1b]0;pwned\\x07 title"]),
            (["agents", "--root", root], "", ["ev\\x1b[2Jil"]),
            (["audit", "--root", root, "--fail-on", "never"], "", ["ev\\x1b[2Jil"]),
            (["audit", "--root", root, "--fail-on", "never", "--format", "sarif"], "", ["ev\\u001b[2Jil"]),
            // stdout only (the progress line on stderr is ctxmem's own escape sequence).
            (["index", "--root", root, "--rebuild"], " 2>/dev/null", ["ev\\x1b[2Jil"]),
            // stderr only: the error names the agents the memory defines.
            (["pack", "--root", root, "--agent", "nobody"], " >/dev/null", ["known agents: ", "ev\\x1b[2Jil"]),
        ]
        for (arguments, tail, expected) in runs {
            let shown = try Self.runOnTerminal(arguments, tail: tail)
            let command = arguments.filter { !$0.hasPrefix("/") }.joined(separator: " ")
            let raw = shown.unicodeScalars.filter { Terminal.isUnsafe($0) && $0 != "\r" && $0 != "\n" }
            #expect(raw.isEmpty, "\(command): \(raw.map { String($0.value, radix: 16) }) reached the terminal")
            for text in expected {
                #expect(shown.contains(text), "\(command): no '\(text)' in \(shown.prefix(2_000))")
            }
        }
    }
}
