import Foundation
import Testing

@testable import ContextMemory

/// Numbers and YAML from memory files are untrusted: out of range is a finding, never a trap, and
/// a hostile block costs bounded time and memory while the rest of the file is still indexed.
@Suite("Hostile frontmatter and settings")
struct HostileFrontmatterTests {
    private static let bomb = """
        a: &a [x,x,x,x,x,x,x,x,x]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """

    @Test(
        "an agent budget out of Int's range is an invalid-agent finding, not a crash",
        arguments: [
            "1e30", "-1e30", "9223372036854775807", "9223372036854775808", "-9223372036854775809", ".nan", ".inf",
            "1e400", "1:1:1:1:1:1:1:1:1:1:1:1:1", "0x7FFFFFFFFFFFFFFFFF", "1999.5",
        ])
    func agentBudget(value: String) async throws {
        let tree = try FixtureTree()
        try tree.write(
            ".claude/agents/huge.md",
            "---\nname: huge\ndescription: hostile budget\ncontext:\n  budget: \(value)\n---\n# Huge\n\nquokka\n")
        _ = try await tree.service.index()
        let findings = try tree.service.findings().filter { $0.path == ".claude/agents/huge.md" }
        #expect(findings.map(\.rule) == [RuleID.invalidAgent], "\(findings)")
        #expect(findings.first?.line == 5)
        #expect(findings.first?.message.contains("between 500 and 2000000") == true)
        let agent = try await #require(try tree.service.agents().first { $0.profile.name == "huge" })
        #expect(agent.budget == 200_000)  // the default, since the setting was refused
        await #expect(try tree.service.search("quokka").map(\.path) == [".claude/agents/huge.md"])
    }

    @Test(
        "YAML 1.1 sexagesimal numbers are text (YAML 1.2, as Claude Code reads them), never an overflow",
        arguments: ["1:30", "1:1:1:1:1:1:1:1:1:1:1:1:1", "-99999999999:59:59", "190:20:30.15"])
    func sexagesimal(value: String) throws {
        let values = try #require(
            Frontmatter.extract(lines: MarkdownParser.lines(of: "---\nn: \(value)\n---\n")).values)
        #expect(values["n"] == .string(value))
    }

    @Test("numbers JSON cannot hold stay text")
    func nonFinite() throws {
        let values = try #require(
            Frontmatter.extract(lines: MarkdownParser.lines(of: "---\na: .inf\nb: 1e400\nc: .nan\n---\n")).values)
        #expect(values == ["a": .string(".inf"), "b": .string("1e400"), "c": .string(".nan")])
    }

    @Test(
        "whole numbers come out only in range",
        arguments: [
            (JSONValue.number(40_000), 40_000 as Int?), (.number(1e30), nil), (.number(-1e30), nil),
            (.number(.nan), nil),
            (.number(.infinity), nil), (.number(499), nil), (.number(2_000_000), 2_000_000), (.number(600.5), nil),
            (.string("600"), nil),
        ])
    func wholeNumber(value: JSONValue, expected: Int?) {
        #expect(value.wholeNumber(in: PackRequest.budgetRange) == expected)
    }

    @Test("a YAML alias bomb is refused quickly, and the file is indexed as text")
    func aliasBomb() async throws {
        let tree = try FixtureTree()
        try tree.write(
            ".claude/agents/bomb.md", "---\nname: bomb\ndescription: x\n\(Self.bomb)\n---\n# Bomb\n\nzeppelin\n")
        try tree.write("project_management/bomb.md", "---\n\(Self.bomb)\n---\n# Notes\n\nmarzipan\n")
        // Unbounded, the block alone ran past 60 s at 860 MB; refused, it takes milliseconds. Timed on
        // the parse alone, since the index run shares 2 cores with the rest of the suite.
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            _ = Frontmatter.extract(lines: MarkdownParser.lines(of: "---\n\(Self.bomb)\n---\n# Body\n"))
        }
        #expect(elapsed < .seconds(5))
        _ = try await tree.service.index()
        let findings = try tree.service.findings().filter { $0.rule == RuleID.invalidFrontmatter }
        #expect(Set(findings.map(\.path)) == [".claude/agents/bomb.md", "project_management/bomb.md"])
        #expect(findings.allSatisfy { $0.message.contains("more than 10000 values") })
        await #expect(try tree.service.search("zeppelin").map(\.path) == [".claude/agents/bomb.md"])
        await #expect(try tree.service.search("marzipan").map(\.path) == ["project_management/bomb.md"])
        // The body keeps its own line numbers after the refused block.
        await #expect(try tree.service.search("marzipan").first?.startLine == 12)
    }

    @Test(
        "deep nesting, an oversized block and a block never closed are findings",
        arguments: [
            ("k: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000), "levels deep"),
            ("k: " + String(repeating: "{a: ", count: 40) + "1" + String(repeating: "}", count: 40), "levels deep"),
            ((0..<4000).map { "key\($0): value number \($0)" }.joined(separator: "\n"), "bytes; the limit is 65536"),
        ])
    func limits(yaml: String, message: String) throws {
        let frontmatter = Frontmatter.extract(lines: MarkdownParser.lines(of: "---\n\(yaml)\n---\n# Body\n"))
        #expect(frontmatter.values == nil)
        #expect(frontmatter.problem?.message.contains(message) == true, "\(String(describing: frontmatter.problem))")
        #expect(frontmatter.lineCount == yaml.split(separator: "\n").count + 2)
    }

    @Test("nesting within the limit is kept")
    func nestingWithinLimit() throws {
        let yaml = "k: " + String(repeating: "[", count: 20) + "1" + String(repeating: "]", count: 20)
        #expect(Frontmatter.extract(lines: MarkdownParser.lines(of: "---\n\(yaml)\n---\n")).problem == nil)
    }

    @Test("frontmatter opened and never closed is reported; a leading rule is not")
    func unclosed() throws {
        let open = Frontmatter.extract(lines: MarkdownParser.lines(of: "---\nname: x\ndescription: y\n# Body\n"))
        #expect(open.lineCount == 0 && open.values == nil)
        #expect(open.problem?.line == 1)
        #expect(open.problem?.message.contains("never closed") == true)
        #expect(
            Frontmatter.extract(lines: MarkdownParser.lines(of: "---\nJust a rule above a paragraph.\n")).problem == nil
        )
    }

    @Test(
        ".ctxmem.yaml: trapping numbers and alias bombs are configuration errors",
        arguments: [
            ("budget: 1:1:1:1:1:1:1:1:1:1:1:1:1", "budget must be a whole number"),
            ("import_depth: 1:1:1:1:1:1:1:1:1:1:1:1:1", "import_depth must be a whole number"),
            ("max_file_size: 99999999999999999999999", "line 1"),
            ("budget: 1e30", "line 1"),
            ("token_factor: 1e400", "token_factor must be between"),
            ("safety_margin: .nan", "safety_margin must be between"),
            (bomb.replacingOccurrences(of: "a: &a", with: "x: &a") + "\ninclude: *i", "more than 10000 values"),
        ])
    func configuration(yaml: String, message: String) {
        do {
            _ = try Configuration.parse(yaml)
            Issue.record("expected an error for \(yaml.prefix(40))")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}

/// The traps found by reading the code for every conversion and recursion on input-derived values.
@Suite("Hostile input: no trap, no runaway")
struct HostileInputTests {
    @Test(
        "aliases in keys are refused before Yams hashes them; aliases in values still work",
        arguments: [
            ("a: &a [x]\n*a : y", true), ("a: &a [x]\nb: {*a: 1}", true), ("a: &a [x]\n? *a\n: v", true),
            ("a: &a [x]\n[*a]: v", true), ("a: &a [x]\nb: *a", false), ("a: &a [x]\nb: [*a, *a]", false),
            ("glob: \"**/*.md: x\"", false), ("tools: Read, Write", false),
        ])
    func aliasKeys(yaml: String, refused: Bool) {
        #expect(Frontmatter.mayUseAliasAsKey(yaml) == refused)
        let frontmatter = Frontmatter.extract(lines: MarkdownParser.lines(of: "---\n\(yaml)\n---\n"))
        #expect(
            (frontmatter.problem?.message.contains("alias") == true) == refused,
            "\(String(describing: frontmatter.problem))")
    }

    @Test("an alias bomb used as a key is refused in milliseconds")
    func aliasBombKey() throws {
        var yaml = "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n"
        for level in 1...8 {
            yaml +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        yaml += "? *a8\n: boom\n"
        let clock = ContinuousClock()
        var frontmatter = Frontmatter.none
        let elapsed = clock.measure {
            frontmatter = Frontmatter.extract(lines: MarkdownParser.lines(of: "---\n\(yaml)---\n# Body\n"))
        }
        #expect(frontmatter.values == nil && frontmatter.problem != nil)
        #expect(elapsed < .seconds(1))
    }

    @Test("a heading nested 200,000 emphasis levels deep parses without recursion")
    func deepHeading() {
        let heading = "# " + String(repeating: "*a ", count: 200_000) + String(repeating: "a* ", count: 200_000)
        let document = MarkdownParser.parse(text: heading + "\n\nbody\n", path: "CLAUDE.md", rootPath: "/r")
        #expect(document.sections.count == 1)
        #expect(document.sections.first?.headingPath.last?.hasPrefix("a a a") == true)
    }

    @Test("an import chain 50,000 files long has its cycle found without recursion")
    func longImportChain() {
        let count = 50_000
        var imports: [String: [String]] = [:]
        for index in 0..<count { imports["n\(index)"] = ["n\((index + 1) % count)"] }
        let cycles = ImportGraph(imports: imports).cycles(among: Set(imports.keys))
        #expect(cycles.count == 1)
        #expect(cycles.first?.files.count == count + 1)
    }

    @Test("cycles are reported as the recursive search reported them")
    func cycleOrder() {
        let graph = ImportGraph(imports: ["a": ["b", "c"], "b": ["a", "c"], "c": ["a"], "d": ["d"]])
        let cycles = graph.cycles(among: ["a", "b", "c", "d"])
        #expect(
            cycles.map { "\($0.importer)->\(graph.imports(of: $0.importer)[$0.importIndex])" } == [
                "b->a", "c->a", "d->d",
            ])
        #expect(cycles.map(\.files) == [["a", "b", "a"], ["a", "b", "c", "a"], ["d", "d"]])
    }

    @Test("file times past 2262 saturate instead of overflowing")
    func farFutureTimes() {
        #expect(FileStat.nanoseconds(seconds: 10_413_792_000, nanoseconds: 5) == .max)
        #expect(FileStat.nanoseconds(seconds: -10_413_792_000, nanoseconds: 0) == .min)
        #expect(FileStat.nanoseconds(seconds: 1_700_000_000, nanoseconds: 5) == 1_700_000_000_000_000_005)
    }

    @Test(
        "globs with many ** stay linear",
        arguments: [
            (
                String(repeating: "**/", count: 1000) + "zz", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z",
                false
            ),
            (String(repeating: "**/a/", count: 60) + "zz", String(repeating: "a/", count: 60) + "b", false),
            ("docs/**/*.md", "docs/a/b/c.md", true), ("docs/**/*.md", "docs/c.md", true), ("**", "x/y", true),
            ("a/**/b/**/c", "a/b/c", true), ("a/**/b/**/c", "a/x/b/y/z/c", true), ("a/**/b/**/c", "a/x/c", false),
        ])
    func globs(pattern: String, path: String, matches: Bool) {
        let clock = ContinuousClock()
        var result = false
        let elapsed = clock.measure { result = Glob(pattern).matches(path) }
        #expect(result == matches)
        #expect(elapsed < .seconds(1))
    }

    @Test("settings files must be regular files of bounded size")
    func boundedRead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-bounded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent(".ctxmem.yaml").path, withDestinationPath: "/dev/zero")
        #expect(throws: ConfigurationError.self) { _ = try Configuration.load(root: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent(".ctxmem.yaml"))
        try Data(repeating: UInt8(ascii: "#"), count: Configuration.maxFileBytes + 1).write(
            to: folder.appendingPathComponent(".ctxmem.yaml"))
        #expect(throws: ConfigurationError.self) { _ = try Configuration.load(root: folder) }
    }
}

@Suite("Hostile tokenizer files")
struct HostileTokenizerTests {
    @Test("a right-stripping added token that swallows a left-stripping one counts, not traps")
    func overlappingStrips() throws {
        let json = """
            {"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"pre_tokenizer":{"type":"ByteLevel"},
             "added_tokens":[{"id":1,"content":"<a>","rstrip":true,"special":true},{"id":2,"content":"\\n","lstrip":true,"special":true}]}
            """
        let tokenizer = try BPETokenizer(json: Data(json.utf8), path: "t.json", identifier: "t")
        #expect(tokenizer.count("x <a>\n\n\nend") > 0)
    }
}
