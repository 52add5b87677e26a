import ArgumentParser
import ContextMemory
import Foundation

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Count the tokens of files: the fast estimate, and the exact count of a tokenizer.json.",
        discussion: """
            The estimate (estimate-v2) is what the index stores and packs budget with: each GPT-2 \
            pre-tokenizer piece split into the longest tokens of Claude 2's vocabulary, which the binary \
            carries; within 3% of Claude-2's tokenizer per file at the 99th percentile on real project \
            memory, lower on invented words and long runs of one symbol (docs/tokens.md). With --tokenizer, the exact count of a byte-level BPE \
            tokenizer.json (HF tokenizers format) is printed too: the same count as HF tokenizers' \
            len(encode(text).ids), special tokens such as <EOT> in the text counted as one token each.

            The repository ships the Claude-2 tokenizer as Tokenizers/claude2-tokenizer.json: exact for \
            claude-2.1 and older, a close approximation for newer Claude models.

            Files are read as UTF-8, invalid bytes replaced by U+FFFD. No FILE, or "-", reads standard input.

            Examples:
              ctxmem tokens CLAUDE.md docs/*.md
              ctxmem tokens --tokenizer Tokenizers/claude2-tokenizer.json README.md
              git show HEAD:README.md | ctxmem tokens --json

            Output: a table (estimate, exact when --tokenizer is given, UTF-8 bytes, file) with a TOTAL line, \
            or with --json one JSON object a line: {"file", "estimate", "tokens" (exact), "chars" (scalars), \
            "bytes"} and a last line whose file is "TOTAL".

            Exit codes: 0 success, 1 a file could not be read (the others are still counted), 2 usage error \
            (including a --tokenizer file that cannot be read or is not a supported tokenizer.json).
            """
    )

    @Argument(help: ArgumentHelp("Files to count; none or \"-\" reads standard input.", valueName: "file"))
    var files: [String] = []

    @Option(
        help: ArgumentHelp(
            "A tokenizer.json (byte-level BPE) for exact counts, e.g. Tokenizers/claude2-tokenizer.json.",
            valueName: "file"))
    var tokenizer: String?

    @Flag(help: "Print one JSON object a line instead of a table.")
    var json = false

    struct Row: Encodable {
        var file: String
        var estimate: Int
        var tokens: Int?
        var chars: Int
        var bytes: Int
    }

    func run() throws {
        let exact: BPETokenizer?
        do {
            exact = try tokenizer.map { try BPETokenizer(contentsOf: URL(fileURLWithPath: $0)) }
        } catch {
            throw CommandFailure.usage("\(error)")  // documented: an unusable --tokenizer is a usage error here
        }
        let estimator = ClaudeTokenEstimator()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if !json {
            Terminal.standardOutput((exact == nil ? "estimate" : "estimate\texact") + "\tbytes\tfile")
        }
        var total = Row(file: "TOTAL", estimate: 0, tokens: exact == nil ? nil : 0, chars: 0, bytes: 0)
        var failed = false
        let inputs = files.isEmpty ? ["-"] : files
        for file in inputs {
            let text: String
            do {
                text = try Self.read(file)
            } catch {
                Terminal.standardError("ctxmem: error: \(file): \(error)")
                failed = true
                continue
            }
            let row = Row(
                file: file, estimate: estimator.count(text), tokens: exact?.count(text),
                chars: text.unicodeScalars.count, bytes: text.utf8.count)
            total.estimate += row.estimate
            total.tokens = row.tokens.map { $0 + (total.tokens ?? 0) }
            total.chars += row.chars
            total.bytes += row.bytes
            try emit(row, encoder: encoder)
        }
        if !json { total.file = "TOTAL (\(inputs.count) files)" }
        try emit(total, encoder: encoder)
        if failed { throw ExitCode(1) }
    }

    private func emit(_ row: Row, encoder: JSONEncoder) throws {
        if json {
            let line = String(decoding: try encoder.encode(row), as: UTF8.self)
            print(Terminal.escapesStandardOutput ? Terminal.visibleJSON(line) : line)
        } else {
            Terminal.standardOutput(
                "\(row.estimate)\t" + (row.tokens.map { "\($0)\t" } ?? "") + "\(row.bytes)\t\(row.file)")
        }
    }

    /// The file as UTF-8 with invalid bytes replaced, as Python's `errors="replace"` does.
    static func read(_ file: String) throws -> String {
        if file == "-" {
            return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw CommandFailure.runtime("no such file")
        }
        guard !isDirectory.boolValue else { throw CommandFailure.runtime("is a directory") }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CommandFailure.runtime("cannot be read (permission denied?)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
