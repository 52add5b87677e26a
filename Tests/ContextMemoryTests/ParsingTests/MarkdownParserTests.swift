import Testing

@testable import ContextMemory

private func parse(_ text: String, path: String = "CLAUDE.md", root: String = "/repo") -> Document {
    MarkdownParser.parse(text: text, path: path, rootPath: root)
}

private func references(_ text: String, path: String = "CLAUDE.md", kind: Reference.Kind? = nil) -> [Reference] {
    parse(text, path: path).references.filter { kind == nil || $0.kind == kind }
}

/// `(line, column)` of every reference, in document order.
private func positions(_ text: String, kind: Reference.Kind? = nil) -> [[Int]] {
    references(text, kind: kind).map { [$0.line, $0.column] }
}

@Suite("MarkdownParser: @imports as Claude Code reads them")
struct MarkdownParserImportTests {
    @Test(
        "where an @import is one, and where it is literal text",
        arguments: [
            // At line start, after a bullet, inline after a label.
            ("@docs/a.md\n", ["docs/a.md"]),
            ("- @docs/a.md\n", ["docs/a.md"]),
            ("- Architecture: @docs/arch.md\n", ["docs/arch.md"]),
            ("See @a.md and @b.md\n", ["a.md", "b.md"]),
            ("@a.md\n@b.md\n", ["a.md", "b.md"]),
            // Run into following text by mistake: the whole run is the path, as Claude Code reads it.
            ("@archive/README.md00_current_state\n", ["archive/README.md00_current_state"]),
            // Code spans: single and double backticks, a backtick inside a double-backtick span.
            ("`@a.md`\n", []),
            ("``x @a.md y``\n", []),
            ("`` `@a.md` ``\n", []),
            ("`` a ` @a.md ``\n", []),
            ("text `code` @after.md\n", ["after.md"]),
            // A code span running over several lines of one paragraph.
            ("a `span\ncontinues @x.md\nover lines` @y.md\n", ["y.md"]),
            // Unmatched backticks are literal (CommonMark), and a span ends with its paragraph.
            ("``unclosed @e.md\n", ["e.md"]),
            ("`never closed @z.md\n\nnext para `@w.md`\n", ["z.md"]),
            // Fenced and indented code blocks.
            ("```\n@a.md\n```\n@b.md\n", ["b.md"]),
            ("~~~markdown\n@a.md\n~~~\n", []),
            ("````\n```\n@a.md\n```\n````\n", []),
            ("para\n\n    @a.md\n", []),
            ("- item\n\n  ```\n  @a.md\n  ```\n", []),
            // An HTML comment block (Claude Code strips those before the model sees them).
            ("<!--\n@a.md\n-->\n", []),
            // Not preceded by whitespace, escaped, or not a path.
            ("mail foo@bar.com\n", []),
            ("(@paren.md)\n", []),
            ("\\@escaped.md\n", []),
            ("@ alone\n", []),
            ("@#only-fragment\n", []),
            ("@é.md\n", []),
            // Every path shape Claude Code accepts.
            (
                "@./a.md @~/b.md @/abs/c.md @../d.md @-x.md @_y.md @.z @1.md\n",
                ["./a.md", "~/b.md", "/abs/c.md", "../d.md", "-x.md", "_y.md", ".z", "1.md"]
            ),
            ("@a.md#section\n", ["a.md#section"]),
            ("@my\\ file.md next\n", ["my\\ file.md"]),
        ] as [(String, [String])])
    func importsFound(markdown: String, expected: [String]) {
        #expect(references(markdown, kind: .import).map(\.target) == expected)
    }

    @Test(
        "imports resolve against the importing file's folder",
        arguments: [
            // (written, resolved path, fragment, status) for an import in docs/CLAUDE.md, root /repo
            ("@a.md", "docs/a.md", nil, .inRoot),
            ("@./a.md", "docs/a.md", nil, .inRoot),
            ("@sub/../b.md", "docs/b.md", nil, .inRoot),
            ("@../README.md", "README.md", nil, .inRoot),
            ("@../../x.md", nil, nil, .outsideRoot),
            ("@~/x.md", nil, nil, .home),
            ("@/repo/x.md", "x.md", nil, .inRoot),
            ("@/repo/docs/../y.md", "y.md", nil, .inRoot),
            ("@/etc/x.md", nil, nil, .outsideRoot),
            ("@/repository/x.md", nil, nil, .outsideRoot),
            ("@/repo/../etc/x.md", nil, nil, .outsideRoot),
            ("@a.md#frag", "docs/a.md", "frag", .inRoot),
            ("@my\\ file.md", "docs/my file.md", nil, .inRoot),
        ] as [(String, String?, String?, Reference.Status)])
    func importResolution(written: String, resolved: String?, fragment: String?, status: Reference.Status) throws {
        let found = try #require(references(written + "\n", path: "docs/CLAUDE.md", kind: .import).first)
        #expect(found.resolvedPath == resolved)
        #expect(found.fragment == fragment)
        #expect(found.status == status)
    }

    @Test("an import's line and column are those of its @")
    func importPositions() {
        let text = """
            # Title
            @a.md
            - Architecture: @b.md
              naïve ✓ @c.md
            """
        #expect(positions(text, kind: .import) == [[2, 1], [3, 17], [4, 11]])
    }
}

@Suite("MarkdownParser: links, images, anchors and path mentions")
struct MarkdownParserLinkTests {
    @Test(
        "link destinations, as CommonMark reads them",
        arguments: [
            // (markdown, kind, target as written, resolved, fragment, status) in docs/guide.md
            ("[a](b.md \"Title\")", .link, "b.md", "docs/b.md", nil, .inRoot),
            ("[a](b.md 'Title')", .link, "b.md", "docs/b.md", nil, .inRoot),
            ("[a](<my file.md>)", .link, "my file.md", "docs/my file.md", nil, .inRoot),
            ("[a](my%20file.md)", .link, "my%20file.md", "docs/my file.md", nil, .inRoot),
            ("[a](x.md#Sec%20One)", .link, "x.md#Sec%20One", "docs/x.md", "Sec One", .inRoot),
            ("[a](../c.md#frag)", .link, "../c.md#frag", "c.md", "frag", .inRoot),
            ("[a](/abs/root.md)", .link, "/abs/root.md", "abs/root.md", nil, .inRoot),
            ("[a](x.md?v=2#F)", .link, "x.md?v=2#F", "docs/x.md", "F", .inRoot),
            ("[a](~/x.md)", .link, "~/x.md", nil, nil, .home),
            ("[a](../../x.md)", .link, "../../x.md", nil, nil, .outsideRoot),
            ("[a](https://x.y/z.md)", .link, "https://x.y/z.md", nil, nil, .external),
            ("[a](mailto:x@y.z)", .link, "mailto:x@y.z", nil, nil, .external),
            ("[a](//cdn.example/y)", .link, "//cdn.example/y", nil, nil, .external),
            ("<https://example.com/a>", .link, "https://example.com/a", nil, nil, .external),
            ("<foo@bar.com>", .link, "mailto:foo@bar.com", nil, nil, .external),
            ("![alt](img/x.png)", .image, "img/x.png", "docs/img/x.png", nil, .inRoot),
            ("[up](#anchor)", .anchor, "#anchor", "docs/guide.md", "anchor", .inRoot),
            ("[r][ref]\n\n[ref]: r.md", .referenceLink, "r.md", "docs/r.md", nil, .inRoot),
            ("[ref][]\n\n[ref]: r.md", .referenceLink, "r.md", "docs/r.md", nil, .inRoot),
            ("[ref]\n\n[ref]: <r 1.md> \"T\"", .referenceLink, "r 1.md", "docs/r 1.md", nil, .inRoot),
            ("[r][ref]\n\n[ref]: r.md#part", .referenceLink, "r.md#part", "docs/r.md", "part", .inRoot),
        ] as [(String, Reference.Kind, String, String?, String?, Reference.Status)])
    func linkDestinations(
        markdown: String, kind: Reference.Kind, target: String, resolved: String?, fragment: String?,
        status: Reference.Status
    ) throws {
        let found = try #require(references(markdown + "\n", path: "docs/guide.md").first)
        #expect(found.kind == kind)
        #expect(found.target == target)
        #expect(found.resolvedPath == resolved)
        #expect(found.fragment == fragment)
        #expect(found.status == status)
        #expect([found.line, found.column] == [1, 1])
    }

    @Test("a reference link is told apart from an inline link later on the same line")
    func referenceLinkBeforeInlineLink() {
        let found = references("[e][r] then [i](x.md) and ![p](p.png)\n\n[r]: ref.md\n")
        #expect(found.map(\.kind) == [.referenceLink, .link, .image])
        #expect(found.map(\.column) == [1, 13, 27])
    }

    @Test("a bare URL is not a link, and link text is not an import")
    func notLinks() {
        #expect(references("see https://example.com and [@a.md](b.md)\n").map(\.target) == ["b.md"])
    }

    @Test("an image inside a link is two references")
    func imageInLink() {
        let found = references("[![i](i.png)](l.md)\n")
        #expect(found.map(\.kind) == [.link, .image])
        #expect(found.map(\.column) == [1, 2])
    }

    @Test(
        "columns are 1-based and counted in Unicode scalars",
        arguments: [
            ("[a](x.md)", 1),
            ("naïve café ✓ [a](x.md)", 14),
            ("日本語 [a](x.md)", 5),
            ("🎉 [a](x.md)", 3),
            ("e\u{301} [a](x.md)", 4),  // e + combining acute: two scalars, one Character
            ("ü `x/y.md`", 3),
        ])
    func unicodeColumns(line: String, column: Int) {
        #expect(positions(line + "\n") == [[1, column]])
    }

    @Test("links in nested lists and block quotes keep their line and column")
    func containers() {
        let text = """
            - a
              - b [x](n.md)
            > q [y](q.md)
            > > deep [w](w.md)
            1. one
               - two
                 - three [d](d.md)
                   cont ü [e](e.md) `e/f.md`
            > first line
            > second ∑ [z](z.md)
            > lazy
            continuation [l](l.md)
            para line one
              indented cont [p](p.md) `a/b.md`
            - item
              more [r][ref]

            [ref]: r.md
            """
        #expect(
            positions(text) == [
                [2, 7], [3, 5], [4, 10], [7, 14], [8, 15], [8, 25], [10, 12], [12, 14], [14, 17], [14, 27], [16, 8],
            ])
        #expect(
            references(text).map(\.target) == [
                "n.md", "q.md", "w.md", "d.md", "e.md", "e/f.md", "z.md", "l.md", "p.md", "a/b.md", "r.md",
            ])
    }

    @Test(
        "code-span path mentions",
        arguments: [
            // (code span text, resolved path or nil when it is not a path) in docs/guide.md
            ("netbox_hedgehog/models.py", "netbox_hedgehog/models.py"),
            ("README.md", "README.md"),
            ("docs/", "docs"),
            ("a/b/c", "a/b/c"),
            ("./x.md", "docs/x.md"),
            ("../y.md", "y.md"),
            ("@docs/x.md", "docs/x.md"),
            ("crd:sync", nil),
            ("and/or", nil),
            ("../../y.md", nil),
            ("/etc/passwd", nil),
            ("~/x.md", nil),
            ("md", nil),
            (".env", nil),
            ("x.md.", nil),
            ("v1.2.3", nil),
            ("foo.bar", nil),
            ("npm install x.js", nil),
            ("https://x.y/a.md", nil),
            ("a//b.md", nil),
        ] as [(String, String?)])
    func pathMentions(code: String, resolved: String?) {
        let found = references("Run `\(code)` now.\n", path: "docs/guide.md", kind: .pathMention)
        #expect(found.map(\.resolvedPath) == (resolved.map { [$0] } ?? []))
        if resolved != nil {
            #expect(found.map(\.column) == [5])
            #expect(found.first?.status == .inRoot)
        }
    }

    @Test("a path mention's column is its opening backtick, even when the text appears earlier")
    func pathMentionColumns() {
        let text = """
            [a](x.md) and `docs/y.md` and ``docs/y.md``
            docs/z.md is ` docs/z.md `
            """
        #expect(positions(text, kind: .pathMention) == [[1, 15], [1, 31], [2, 14]])
    }

    @Test("paths in fenced code are not mentions")
    func noMentionsInCodeBlocks() {
        #expect(references("```\n`docs/a.md` [x](y.md)\n```\n").isEmpty)
    }

    @Test("references come sorted by line, then column")
    func sorted() {
        let found = references("@b.md [a](a.md) `c/d.md`\n[e](e.md) @f.md\n")
        #expect(found.map(\.target) == ["b.md", "a.md", "c/d.md", "e.md", "f.md"])
    }
}

@Suite("MarkdownParser: headings, sections, anchors")
struct MarkdownParserSectionTests {
    private func outline(_ text: String) -> [String] {
        parse(text).sections.map {
            "\($0.level) \($0.headingPath.joined(separator: " > ")) \($0.startLine)-\($0.endLine)"
        }
    }

    @Test("ATX headings cut non-overlapping sections carrying their heading path")
    func atx() {
        let text = """
            intro

            # A
            body
            ## B
            ### C
            text
            ## D
            # E
            """
        #expect(outline(text) == ["0  1-2", "1 A 3-4", "2 A > B 5-5", "3 A > B > C 6-7", "2 A > D 8-8", "1 E 9-9"])
        let sections = parse(text).sections
        #expect(sections.map(\.ordinal) == [0, 1, 2, 3, 4, 5])
        #expect(sections[1].text == "# A\nbody")
        #expect(sections[0].text == "intro\n")
    }

    @Test("setext headings (=== and ---) start sections at their text line")
    func setext() {
        let text = """
            Title
            =====
            body

            Sub  
            ---

            ---
            # H
            """
        #expect(outline(text) == ["1 Title 1-4", "2 Title > Sub 5-8", "1 H 9-9"])
    }

    @Test("a blank preamble is not a section; an empty file is one empty section")
    func preamble() {
        #expect(outline("\n\n# A\n") == ["1 A 3-3"])
        let empty = parse("")
        #expect(empty.sections.map(\.text) == [""])
        #expect(empty.references.isEmpty && empty.findings.isEmpty && empty.markers.isEmpty)
        #expect(empty.title == nil)
    }

    @Test("a heading in a code block or an HTML block is not a heading")
    func notHeadings() {
        #expect(outline("```\n# not\n```\n<div>\n# nor\n</div>\n\n# yes\n") == ["0  1-7", "1 yes 8-8"])
    }

    @Test("heading slugs are GitHub's, with -1, -2 for repeats, and explicit {#ids}")
    func slugs() {
        let document = parse(
            """
            # Dup
            # Dup
            # Dup-1
            # Dup
            ## Hello, World! {#custom-id}
            ### Café & `code`
            """)
        #expect(document.sections.map(\.slug) == ["dup", "dup-1", "dup-1-1", "dup-2", "custom-id", "café--code"])
        #expect(document.sections[4].title == "Hello, World!")
        #expect(document.anchors == ["dup", "dup-1", "dup-1-1", "dup-2", "hello-world", "custom-id", "café--code"])
    }

    @Test("HTML id and name attributes are anchors")
    func htmlAnchors() {
        let document = parse("<a id=\"x\"></a>\n\ntext <span name='y'>k</span>\n# H <a id=\"in-heading\"></a>\n")
        #expect(document.anchors == ["x", "y", "h", "in-heading"])
        #expect(document.sections.last?.title == "H")
    }

    @Test(
        "the title: frontmatter title, else the first H1, else the first heading",
        arguments: [
            ("---\ntitle: From FM\n---\n# H1\n", "From FM"),
            ("## Two\n# One\n", "One"),
            ("### Three\n## Two\n", "Three"),
            ("no headings\n", nil),
        ] as [(String, String?)])
    func title(markdown: String, expected: String?) {
        #expect(parse(markdown).title == expected)
    }
}

@Suite("MarkdownParser: frontmatter, line endings, size")
struct MarkdownParserFrontmatterTests {
    @Test("line numbers after frontmatter are the file's own")
    func frontmatterOffsets() {
        let text = """
            ---
            title: T
            tags: [a, b]
            ---

            # A
            @x.md
            [l](y.md)
            `src/z.py`
            ## B
            """
        let document = parse(text)
        #expect(document.bodyStartLine == 5)
        #expect(document.lineCount == 10)
        #expect(document.frontmatter == ["tags": .array([.string("a"), .string("b")]), "title": .string("T")])
        #expect(document.sections.map { [$0.startLine, $0.endLine] } == [[6, 9], [10, 10]])
        #expect(document.references.map { [$0.line, $0.column] } == [[7, 1], [8, 1], [9, 1]])
        #expect(document.findings.isEmpty)
    }

    @Test("frontmatter is not scanned for imports, headings or links")
    func frontmatterIsOpaque() {
        let document = parse("---\ndescription: see @x.md and [l](y.md)\n# comment: not a heading\n---\nbody\n")
        #expect(document.references.isEmpty)
        #expect(document.sections.map(\.level) == [0])
        #expect(document.sections.first?.startLine == 5)
    }

    @Test("a document with only frontmatter has its values and no sections")
    func onlyFrontmatter() {
        for text in ["---\na: 1\n---\n", "---\na: 1\n---"] {
            let document = parse(text)
            #expect(document.frontmatter == ["a": .number(1)])
            #expect(document.lineCount == 3)
            #expect(document.bodyStartLine == 4)
            #expect(document.sections.isEmpty)
            #expect(document.findings.isEmpty)
        }
    }

    @Test("invalid frontmatter is a finding with the file's line, and is read leniently")
    func invalidFrontmatter() {
        let document = parse("---\nname: x\ndescription: Use when: things happen\n---\n# A\n", path: "agents/x.md")
        #expect(document.findings.map(\.rule) == [RuleID.invalidFrontmatter])
        #expect(document.findings.first?.line == 3)
        #expect(document.findings.first?.path == "agents/x.md")
        #expect(document.frontmatter == ["description": .string("Use when: things happen"), "name": .string("x")])
        #expect(document.sections.first?.startLine == 5)
    }

    @Test("an unclosed --- is a thematic break, not frontmatter")
    func unclosedFrontmatter() {
        let document = parse("---\nnot: closed\n# H\n")
        #expect(document.frontmatter == nil)
        #expect(document.bodyStartLine == 1)
        #expect(document.sections.map(\.startLine) == [1, 3])
    }

    @Test("CRLF and CR line endings count lines as LF does")
    func lineEndings() {
        let lf = "---\ntitle: T\n---\n# A\n@x.md\ntext [l](y.md)\n## B\n"
        for text in [
            lf, lf.replacingOccurrences(of: "\n", with: "\r\n"), lf.replacingOccurrences(of: "\n", with: "\r"),
        ] {
            let document = parse(text)
            #expect(document.lineCount == 7)
            #expect(document.title == "T")
            #expect(document.sections.map { [$0.startLine, $0.endLine] } == [[4, 6], [7, 7]])
            #expect(document.references.map(\.target) == ["x.md", "y.md"])
            #expect(document.references.map { [$0.line, $0.column] } == [[5, 1], [6, 6]])
        }
    }

    @Test("a 1 MB single line parses, with every reference found", .timeLimit(.minutes(1)))
    func longLine() {
        let unit = "see [l](u.md) `x/y.md` @a.md ü "
        let count = 1_000_000 / unit.utf8.count
        let document = parse(String(repeating: unit, count: count) + "\n")
        #expect(document.references.count == 3 * count)
        let unitScalars = unit.unicodeScalars.count
        let last = document.references.suffix(3).map(\.column)
        let offset = (count - 1) * unitScalars
        #expect(last == [offset + 5, offset + 15, offset + 24])
    }
}

@Suite("MarkdownParser: tier markers")
struct MarkdownParserMarkerTests {
    private func markers(_ text: String) -> [String] {
        parse(text).markers.map { "\($0.tier.rawValue)@\($0.line)\($0.appliesToFile ? " file" : "")" }
    }

    private func markerFindings(_ text: String) -> [Int?] {
        parse(text).findings.filter { $0.rule == RuleID.invalidMarker }.map(\.line)
    }

    @Test(
        "markers at the top of the file and before headings",
        arguments: [
            ("<!-- ctxmem: tier=operational -->\n# A\n", ["operational@1 file"]),
            ("<!-- ctxmem: tier=operational -->\n\ntext\n", ["operational@1 file"]),
            ("<!--ctxmem:tier=ESSENTIAL-->\ntext\n", ["essential@1 file"]),
            ("<!-- a comment -->\n<!-- ctxmem: tier=operational -->\n# H\n", ["operational@2 file"]),
            ("---\ntitle: T\n---\n<!-- ctxmem: tier=essential -->\n# H\n", ["essential@4 file"]),
            ("text\n<!-- ctxmem: tier=operational -->\n# After\n", ["operational@2"]),
            ("# A\ntext\n<!-- ctxmem: tier=essential -->\n\n## B\n", ["essential@3"]),
            (
                "<!-- ctxmem: tier=detailed -->\n# A\n<!-- ctxmem: tier=operational -->\n## B\n",
                ["detailed@1 file", "operational@3"]
            ),
            ("```\n<!-- ctxmem: tier=operational -->\n```\n# A\n", []),
        ] as [(String, [String])])
    func placement(markdown: String, expected: [String]) {
        #expect(markers(markdown) == expected)
        #expect(markerFindings(markdown).isEmpty)
    }

    @Test(
        "misplaced or invalid markers are findings with their line",
        arguments: [
            ("# A\n<!-- ctxmem: tier=bogus -->\n# B\n", [2]),
            ("# A\n<!-- ctxmem: tier=detailed -->\ntext\n# B\n", [2]),
            ("# A\ntext\n<!-- ctxmem: tier=operational -->\n", [3]),
            ("# A\n<!-- ctxmem: tier=essential -->\n<!-- ctxmem: tier=detailed -->\n# B\n", [2]),
        ] as [(String, [Int])])
    func invalid(markdown: String, lines: [Int]) {
        #expect(markerFindings(markdown) == lines)
    }

    @Test("an invalid marker names the accepted values, and marks nothing")
    func invalidValue() {
        let document = parse("# A\n<!-- ctxmem: tier=urgent -->\n# B\n")
        #expect(document.markers.isEmpty)
        #expect(document.findings.first?.message.contains("essential|detailed|operational") == true)
    }
}

@Suite("PathMention and ImportScanner helpers")
struct MarkdownParserHelperTests {
    @Test(
        "Claude Code's test of an import path",
        arguments: [
            ("a.md", true), ("./a", true), ("~/a", true), ("/abs", true), ("-x", true), ("_x", true), (".x", true),
            ("9.md", true), ("a.md#frag", true), ("/", false), ("#frag", false), ("", false), ("é.md", false),
            ("(x)", false), ("[x]", false),
        ])
    func importPath(written: String, valid: Bool) {
        #expect(ImportScanner.isImportPath(written) == valid)
    }
}

@Suite("MarkdownParser: never crashes")
struct MarkdownParserRobustnessTests {
    /// Found on affaan-m/everything-claude-code: cmark reported a link's column far past the end
    /// of its (continuation) line, and the search window around it was an invalid range.
    @Test("links and code spans on short lines after long ones inside containers")
    func columnsPastTheLine() {
        let long = String(repeating: "word ", count: 300)
        for container in ["", "> ", "- ", "1. ", "> - "] {
            let text = "\(container)\(long)\n\(container)[x](a.md) `b/c.md` [y][r]\n\n[r]: d.md\n"
            let document = MarkdownParser.parse(text: text, path: "doc.md", rootPath: "/r")
            let targets = document.references.map(\.target)
            #expect(targets.contains("a.md") && targets.contains("b/c.md") && targets.contains("d.md"), "\(container)")
            for reference in document.references where reference.line == 2 {
                #expect(reference.column >= 1 && reference.column <= 40, "\(container) \(reference)")
            }
        }
    }

    /// The table of affaan-m/everything-claude-code's docs/zh-CN/the-security-guide.md (line 173):
    /// a Chinese header row, then autolinks in padded rows; cmark put their columns hundreds of
    /// bytes past the end of their lines.
    @Test("autolinks in a table under a Chinese header")
    func tableUnderCJKHeader() {
        let pad = String(repeating: " ", count: 80)
        var rows = ["| 来源\(pad) | URL\(pad) |", "| ---- | --- |"]
        for index in 0..<6 {
            rows.append("| Source \(index)\(pad) | <https://example.com/\(index)>\(pad) |")
        }
        let document = MarkdownParser.parse(text: rows.joined(separator: "\n") + "\n", path: "doc.md", rootPath: "/r")
        #expect(document.references.count == 6)
        for reference in document.references {
            let line = rows[reference.line - 1]
            let column =
                line.unicodeScalars.distance(
                    from: line.unicodeScalars.startIndex,
                    to: line.range(of: "<https")!.lowerBound.samePosition(in: line.unicodeScalars)!) + 1
            #expect(reference.column == column, "\(reference)")
        }
    }

    @Test("random Markdown-ish input parses without trapping")
    func fuzz() {
        var generator = SplitMix64(seed: 2026)
        let pieces = [
            "[", "]", "(", ")", "<", ">", "`", "``", "@", "#", "\n", "\n\n", "> ", "- ", "  ", "*", "_", "!",
            "a.md", "../b", "x/y.py", "http://e.com", "\\", "{#id}", "<!-- ctxmem: tier=essential -->",
            "---\n", "    ", "```\n", "~~~", "|", "é", "東京", "\r\n", "[r]: z.md\n", "\t",
        ]
        for _ in 0..<2_000 {
            let count = Int(generator.next() % 60)
            let text = (0..<count).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            let document = MarkdownParser.parse(text: text, path: "f/doc.md", rootPath: "/r")
            for reference in document.references {
                #expect(reference.line >= 1 && reference.line <= max(1, document.lineCount))
                #expect(reference.column >= 1)
            }
        }
    }
}
