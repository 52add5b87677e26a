import ContextMemory
import Foundation

/// `ctxmem-bench --fuzz N`: a seeded random-input run of the parsers that read untrusted text:
/// Markdown with its frontmatter, HTML/XML, the search query language, and the secret scanner.
/// libFuzzer (`-sanitize=fuzzer`) is not shipped with this Linux toolchain, so inputs are made
/// here: mutations of real memory files (bytes flipped, inserted, deleted, spliced, repeated) and
/// generated shapes that stress nesting, YAML and query syntax. A crash ends the process; the
/// input about to run is written to `fuzz-last-input` first, so a crash leaves its reproduction.
struct FuzzBench {
    let seeds: [[UInt8]]
    let count: Int
    var random: SplitMix64

    static let yamlPieces = [
        "---\n", "a: &a [x,x]\n", "b: *a\n", "? *a\n", ": v\n", "[", "]", "{", "}", "- ", "1:30:00",
        "1e400", ".nan", "!!binary ", "|\n  ", "'", "\"", "\\u0000", "context:\n  budget: ", "9223372036854775808",
        "name: x\n", "description: y\n", "tools: [Read, Write]\n", "...\n", "&b ", "*b", "#", "\t",
    ]
    static let markdownPieces = [
        "# ", "## ", "@", "@../", "@~/", "[x](", ")", "](#", "<!-- ctxmem: tier=operational -->", "```",
        "~~~", "    ", "> ", "* ", "1. ", "|a|b|\n|-|-|\n", "<script>", "</script>", "<img onerror=x>",
        "{#id}", "\\", "\u{1B}[31m", "\u{0}", "\u{FEFF}", "\u{202E}", "\r\n", "\r", "*", "_", "`",
    ]
    static let queryPieces = [
        "\"", "OR", "AND", "NOT", "-", "*", "(", ")", "NEAR(", ":", "^", "+", "path:", "ADR-0005",
        "crd:sync", "運用手順", " ", "\u{0}", "\\", "'", "{", "}", "a" + String(repeating: "b", count: 200),
    ]

    /// Runs `count` inputs through each parser; returns inputs run per parser and the seconds taken.
    mutating func run(progress: (String, Int) -> Void) -> [(parser: String, inputs: Int, seconds: Double)] {
        var results: [(String, Int, Double)] = []
        let lastInput = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(
            "fuzz-last-input")
        func record(_ bytes: [UInt8]) { try? Data(bytes).write(to: lastInput) }
        let parsers: [(String, ([UInt8]) -> Void)] = [
            (
                "markdown + frontmatter",
                { bytes in
                    _ = MarkdownParser.parse(
                        text: String(decoding: bytes, as: UTF8.self), path: "CLAUDE.md", rootPath: "/fuzz")
                }
            ),
            (
                "html / xml",
                { bytes in
                    let text = String(decoding: bytes, as: UTF8.self)
                    _ = MarkupParser.parse(text: text, path: "a.html", rootPath: "/fuzz", format: .html)
                    _ = MarkupParser.parse(text: text, path: "a.xml", rootPath: "/fuzz", format: .xml)
                }
            ),
            (
                "search query",
                { bytes in
                    _ = try? SearchQuery(parsing: String(decoding: bytes.prefix(1_200), as: UTF8.self))
                }
            ),
            (
                "secret scanner",
                { bytes in
                    let text = String(decoding: bytes, as: UTF8.self)
                    let (redacted, matches) = SecretScanner().redact(text)
                    if !matches.isEmpty, redacted == text { fatalError("redaction left the text unchanged") }
                }
            ),
        ]
        for (name, parse) in parsers {
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<count {
                let input = makeInput(for: name)
                record(input)
                parse(input)
                if index % 10_000 == 9_999 { progress(name, index + 1) }
            }
            results.append((name, count, (clock.now - start).seconds))
        }
        try? FileManager.default.removeItem(at: lastInput)
        return results
    }

    private mutating func makeInput(for parser: String) -> [UInt8] {
        let pieces =
            parser == "search query"
            ? Self.queryPieces
            : parser.hasPrefix("markdown") ? Self.yamlPieces + Self.markdownPieces : Self.markdownPieces
        var bytes: [UInt8]
        switch random.next() % 4 {
        case 0:  // pieces of the grammar, many and nested
            bytes = []
            for _ in 0..<(1 + random.next() % 60) {
                bytes += Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8)
            }
            if parser.hasPrefix("markdown"), random.next() % 2 == 0 {
                bytes = Array("---\n".utf8) + bytes + Array("\n---\n# T\n".utf8)
            }
        case 1:  // deep nesting
            let open = Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8)
            let depth = Int(random.next() % 3_000)
            bytes = Array((0..<depth).map { _ in open }.joined())
        default:  // a real file, mutated
            bytes = seeds.isEmpty ? [] : seeds[Int(random.next() % UInt64(seeds.count))]
            if parser == "search query" { bytes = Array(bytes.prefix(Int(random.next() % 300))) }
            for _ in 0..<(1 + random.next() % 8) { mutate(&bytes, pieces) }
        }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8], _ pieces: [String]) {
        let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
        switch random.next() % 6 {
        case 0: if !bytes.isEmpty { bytes[position] = UInt8(truncatingIfNeeded: random.next()) }
        case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
        case 2:
            if !bytes.isEmpty { bytes.removeSubrange(position..<min(bytes.count, position + Int(random.next() % 64))) }
        case 3: bytes.insert(contentsOf: Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8), at: position)
        case 4:  // repeat a slice
            let end = min(bytes.count, position + 1 + Int(random.next() % 32))
            if position < end {
                bytes.insert(
                    contentsOf: Array(repeating: bytes[position..<end], count: Int(random.next() % 50)).joined(),
                    at: end)
            }
        default:  // splice in part of another seed
            if let other = seeds.randomElement(using: &random), !other.isEmpty {
                let start = Int(random.next() % UInt64(other.count))
                bytes.insert(contentsOf: other[start..<min(other.count, start + 200)], at: position)
            }
        }
    }
}
