import Foundation
import Testing

@testable import ContextMemory

private func extract(_ text: String) -> Frontmatter {
    Frontmatter.extract(lines: MarkdownParser.lines(of: text))
}

@Suite("Frontmatter")
struct FrontmatterTests {
    @Test(
        "where a frontmatter block is and how many lines it takes",
        arguments: [
            ("---\na: 1\n---\nbody\n", 3),
            ("---   \na: 1\n---\t\nbody\n", 3),
            ("---\na: 1\n...\nbody\n", 3),
            ("---\n---\n", 2),
            ("---\r\na: 1\r\n---\r\n", 3),
            ("---\na: 1\n", 0),  // never closed: a thematic break, not frontmatter
            ("# Title\n---\na: 1\n---\n", 0),
            (" ---\na: 1\n---\n", 0),
            ("----\na: 1\n----\n", 0),
            ("", 0),
        ])
    func block(text: String, lineCount: Int) {
        #expect(extract(text).lineCount == lineCount)
    }

    @Test("an empty block is an empty mapping")
    func empty() {
        let frontmatter = extract("---\n---\n")
        #expect(frontmatter.values == [:])
        #expect(frontmatter.problem == nil)
    }

    @Test(
        "YAML scalars become JSON values",
        arguments: [
            ("n: 1", JSONValue.number(1)),
            ("n: -2.5", .number(-2.5)),
            ("b: true", .bool(true)),
            ("b: false", .bool(false)),
            ("z: null", .null),
            ("z: ~", .null),
            ("s: hello world", .string("hello world")),
            ("s: '007'", .string("007")),
            ("s: \"true\"", .string("true")),
            ("s: -x", .string("-x")),
            ("s: 2024-01-31", .string("2024-01-31")),
            ("a: [x, 1]", .array([.string("x"), .number(1)])),
            ("a:\n  - Read\n  - Write", .array([.string("Read"), .string("Write")])),
            ("o:\n  k: v", .object(["k": .string("v")])),
        ])
    func values(yaml: String, expected: JSONValue) throws {
        let values = try #require(extract("---\n\(yaml)\n---\n").values)
        #expect(values.count == 1)
        #expect(values.values.first == expected)
    }

    @Test("frontmatter that is not a mapping is a problem on its first line")
    func notAMapping() {
        for yaml in ["- a\n- b", "just text"] {
            let frontmatter = extract("---\n\(yaml)\n---\n")
            #expect(frontmatter.values == nil)
            #expect(frontmatter.problem?.line == 2)
            #expect(frontmatter.problem?.message.contains("mapping") == true)
        }
    }

    @Test(
        "invalid YAML is read leniently as key: value lines, with the error's line in the file",
        arguments: [
            (
                "description: Use when: things happen\nname: x", 2,
                ["description": JSONValue.string("Use when: things happen"), "name": .string("x")]
            ),
            (
                "name: x\nmodel: sonnet\ndescription: Call it: now", 4,
                ["name": .string("x"), "model": .string("sonnet"), "description": .string("Call it: now")]
            ),
            ("a: [1, 2\nb: 3", 3, ["a": .string("[1, 2"), "b": .string("3")]),
        ] as [(String, Int, [String: JSONValue])])
    func lenient(yaml: String, line: Int, expected: [String: JSONValue]) {
        let frontmatter = extract("---\n\(yaml)\n---\n# Body\n")
        #expect(frontmatter.values == expected)
        #expect(frontmatter.problem?.line == line)
        #expect(frontmatter.problem?.message.contains("invalid YAML frontmatter") == true)
        #expect(frontmatter.problem?.message.contains("line ") == false)  // the line is in `line`, not repeated
    }

    @Test("the lenient reader: quotes stripped, lists under an empty key, other lines ignored")
    func lenientReader() {
        let lines = MarkdownParser.lines(
            of: """
                name: "quoted: value"
                other: 'single'
                tools:
                  - Read
                  -   Write
                nested:
                  child: ignored
                not a key line
                """)
        #expect(
            Frontmatter.lenient(lines[...]) == [
                "name": .string("quoted: value"),
                "other": .string("single"),
                "tools": .array([.string("Read"), .string("Write")]),
                "nested": .string(""),
            ])
    }

    @Test("JSON encoding writes whole numbers as integers and round-trips")
    func json() throws {
        let value = JSONValue.object([
            "n": .number(3), "f": .number(1.5), "b": .bool(true), "z": .null, "a": .array([.string("x")]),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(value)
        #expect(String(decoding: data, as: UTF8.self) == #"{"a":["x"],"b":true,"f":1.5,"n":3,"z":null}"#)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}
