import Testing

@testable import ContextMemory

private func parseHTML(_ text: String, path: String = "site/index.html") -> Document {
    MarkupParser.parse(text: text, path: path, rootPath: "/repo", format: .html)
}

@Suite("MarkupParser: HTML and XML through libxml2")
struct MarkupParserTests {
    private let page = """
        <html><head><title>Page Title</title></head>
        <body>
        <h1 id="top">Intro</h1>
        <p><a href="docs/a.html#s">a</a> <a href="https://x.com">x</a></p>
        <h2>Sub part</h2>
        <img src="../img.png">
        <a name="nm"></a><a href="#top">up</a>
        <h2>Sub part</h2>
        <link href="style.css">
        </body></html>

        """

    @Test("h1-h6 become sections with GitHub slugs, the <title> is the title")
    func sections() {
        let document = parseHTML(page)
        #expect(document.format == .html)
        #expect(document.title == "Page Title")
        #expect(document.lineCount == 10)
        #expect(
            document.sections.map(\.headingPath) == [[], ["Intro"], ["Intro", "Sub part"], ["Intro", "Sub part"]])
        #expect(document.sections.map(\.slug) == ["", "intro", "sub-part", "sub-part-1"])
        #expect(document.sections.map { [$0.startLine, $0.endLine] } == [[1, 2], [3, 4], [5, 7], [8, 10]])
        #expect(document.sections[1].text.hasPrefix("<h1 id=\"top\">Intro</h1>"))
    }

    @Test("ids, names and heading slugs are anchors")
    func anchors() {
        #expect(parseHTML(page).anchors == ["top", "intro", "sub-part", "nm", "sub-part-1"])
    }

    @Test("a href, img src and link href are references with their lines")
    func references() {
        let found = parseHTML(page).references
        #expect(found.map(\.target) == ["docs/a.html#s", "https://x.com", "../img.png", "#top", "style.css"])
        #expect(found.map(\.kind) == [.link, .link, .image, .anchor, .link])
        #expect(found.map(\.resolvedPath) == ["site/docs/a.html", nil, "img.png", "site/index.html", "site/style.css"])
        #expect(found.map(\.fragment) == ["s", nil, nil, "top", nil])
        #expect(found.map(\.status) == [.inRoot, .external, .inRoot, .inRoot, .inRoot])
        #expect(found.map(\.line) == [4, 4, 6, 7, 9])
    }

    @Test("without <title>, the first heading is the title; without headings, one section")
    func fallbacks() {
        #expect(parseHTML("<h2>Second</h2><h1>First</h1>").title == "Second")
        let plain = parseHTML("<p>just a paragraph</p>\n<p>two</p>\n")
        #expect(plain.title == nil)
        #expect(plain.sections.count == 1)
        #expect(plain.sections.first.map { [$0.level, $0.startLine, $0.endLine] } == [0, 1, 2])
    }

    @Test("CRLF line endings count one line each")
    func crlf() {
        let document = parseHTML("<h1>A</h1>\r\n<p>x</p>\r\n<h2>B</h2>\r\n")
        #expect(document.lineCount == 3)
        #expect(document.sections.map { [$0.startLine, $0.endLine] } == [[1, 2], [3, 3]])
    }

    @Test("XML is one section; ids are anchors; nothing is a link")
    func xml() {
        let text = "<root id=\"r\">\n  <item id=\"i1\">text</item>\n  <a href=\"x.md\"/>\n</root>\n"
        let document = MarkupParser.parse(text: text, path: "data/x.xml", rootPath: "/repo", format: .xml)
        #expect(document.format == .xml)
        #expect(document.anchors == ["r", "i1"])
        #expect(document.references.isEmpty)
        #expect(document.title == nil)
        #expect(document.sections.map { [$0.level, $0.startLine, $0.endLine] } == [[0, 1, 4]])
        #expect(document.sections.first?.text == text)
    }

    @Test(
        "empty and broken input still give one section, never a crash",
        arguments: [
            ("", Document.Format.html), ("", .xml), ("just text", .html), ("<not closed <<< &\n<h1>x", .html),
            ("<a><b></a>", .xml), ("\u{0}\u{1}", .xml),
        ])
    func broken(text: String, format: Document.Format) {
        let document = MarkupParser.parse(text: text, path: "x", rootPath: "/repo", format: format)
        #expect(!document.sections.isEmpty)
        #expect(document.sections.allSatisfy { $0.startLine >= 1 && $0.endLine >= $0.startLine })
    }
}
