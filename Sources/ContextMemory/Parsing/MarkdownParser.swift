import CCmark
import Foundation

/// Parses one Markdown file into a ``Document``: frontmatter, sections, references, tier markers.
///
/// libcmark supplies the block structure (headings, code blocks, HTML blocks: their start lines
/// are exact) and the links with their destinations, reference-style ones already resolved.
/// Imports are found the way Claude Code finds them: `@path` at the start of the text or after
/// whitespace, anywhere except in code spans, fenced or indented code and HTML blocks.
///
/// ```swift
/// let document = MarkdownParser.parse(text: "# Title\n@docs/a.md\n", path: "CLAUDE.md", rootPath: "/repo")
/// document.references.first?.resolvedPath  // "docs/a.md"
/// ```
public enum MarkdownParser {
    public static func parse(text: String, path: String, rootPath: String) -> Document {
        var lines = Self.lines(of: text)
        if lines.last?.isEmpty == true, lines.count > 1 { lines.removeLast() }
        let frontmatter = Frontmatter.extract(lines: lines)
        var findings: [Finding] = []
        if let problem = frontmatter.problem {
            findings.append(Finding(rule: RuleID.invalidFrontmatter, severity: .warning, path: path,
                                    line: problem.line, message: problem.message))
        }
        // Blank the frontmatter instead of cutting it, so cmark's line numbers are the file's.
        let markdown: String
        if frontmatter.lineCount > 0 {
            markdown = String(repeating: "\n", count: frontmatter.lineCount)
                + lines.dropFirst(frontmatter.lineCount).joined(separator: "\n") + "\n"
        } else {
            markdown = text
        }
        var walker = BlockWalker(lines: lines, path: path, resolver: ReferenceResolver(documentPath: path, rootPath: rootPath))
        walker.walk(markdown: markdown, bodyStartLine: frontmatter.lineCount + 1)
        findings += walker.findings

        let sections = SectionBuilder.build(
            headings: walker.headings, lines: lines, bodyStartLine: frontmatter.lineCount + 1)
        var references = walker.links + ImportScanner.scan(
            lines: lines, skip: walker.opaqueLines, firstLine: frontmatter.lineCount + 1, resolver: walker.resolver)
        references.sort { ($0.line, $0.column) < ($1.line, $1.column) }

        let title = frontmatter.values?["title"]?.stringValue
            ?? walker.headings.first(where: { $0.level == 1 })?.title
            ?? walker.headings.first?.title
        return Document(
            path: path, format: .markdown, frontmatter: frontmatter.values,
            bodyStartLine: frontmatter.lineCount + 1, lineCount: lines.count, title: title,
            sections: sections, references: references, markers: walker.markers, findings: findings,
            anchors: walker.anchors)
    }

    /// The lines of `text`, split at CommonMark's line endings (`\n`, `\r\n`, `\r`) so line numbers
    /// agree with cmark's and libxml2's. (`"\r\n"` is one `Character`, so splitting at `"\n"` alone
    /// would leave a CRLF file as a single line.)
    /// Works on UTF-8 bytes: line endings are ASCII, so every cut is a valid `String.Index`.
    static func lines(of text: String) -> [Substring] {
        var result: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var index = start
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == 0x0A || byte == 0x0D {
                result.append(text[start..<index])
                var next = utf8.index(after: index)
                if byte == 0x0D, next < utf8.endIndex, utf8[next] == 0x0A { next = utf8.index(after: next) }
                index = next
                start = next
            } else {
                index = utf8.index(after: index)
            }
        }
        result.append(text[start..<utf8.endIndex])
        return result
    }
}

/// A heading as the walker saw it.
struct Heading {
    var level: Int
    var title: String
    var slug: String
    var line: Int
}

/// Walks cmark's tree once and collects what the parser needs.
private struct BlockWalker {
    let lines: [Substring]
    let path: String
    let resolver: ReferenceResolver
    var headings: [Heading] = []
    var links: [Reference] = []
    var markers: [TierMarker] = []
    var findings: [Finding] = []
    var anchors: [String] = []
    /// Lines inside code blocks and HTML blocks: no imports there.
    var opaqueLines = IndexSet()
    private var slugs = SlugCounter()
    private var pendingMarker: TierMarker?
    private var sawContent = false
    private var cachedLine = 0
    private var cachedBytes: [UInt8] = []
    private var cachedScalarCounts: [Int32]?

    init(lines: [Substring], path: String, resolver: ReferenceResolver) {
        self.lines = lines
        self.path = path
        self.resolver = resolver
    }

    mutating func walk(markdown: String, bodyStartLine: Int) {
        var copy = markdown
        let root: OpaquePointer? = copy.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                cmark_parse_document(chars.baseAddress, chars.count, CMARK_OPT_DEFAULT)
            }
        }
        guard let root else { return }
        defer { cmark_node_free(root) }
        guard let iterator = cmark_iter_new(root) else { return }
        defer { cmark_iter_free(iterator) }
        while true {
            let event = cmark_iter_next(iterator)
            if event == CMARK_EVENT_DONE { break }
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            let type = cmark_node_get_type(node)
            let startLine = Int(cmark_node_get_start_line(node))
            switch type {
            case CMARK_NODE_HEADING:
                enterHeading(node, line: startLine)
            case CMARK_NODE_CODE_BLOCK:
                markOpaque(node)
                noteContent()
            case CMARK_NODE_HTML_BLOCK:
                markOpaque(node)
                enterHTMLBlock(node, line: startLine)
            case CMARK_NODE_PARAGRAPH, CMARK_NODE_THEMATIC_BREAK, CMARK_NODE_LIST, CMARK_NODE_BLOCK_QUOTE:
                noteContent()
            case CMARK_NODE_LINK, CMARK_NODE_IMAGE:
                enterLink(node, isImage: type == CMARK_NODE_IMAGE, line: startLine)
            case CMARK_NODE_CODE:
                enterCodeSpan(node, line: startLine)
            case CMARK_NODE_HTML_INLINE:
                collectHTMLAnchors(literal(node))
            default:
                break
            }
        }
        if let pendingMarker {
            findings.append(Finding(rule: RuleID.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
                                    message: "tier marker is not followed by a heading, so it applies to nothing"))
        }
    }

    private mutating func noteContent() {
        if let pendingMarker {
            findings.append(Finding(rule: RuleID.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
                                    message: "tier marker must come right before a heading or at the top of the file"))
            self.pendingMarker = nil
        }
        sawContent = true
    }

    private mutating func enterHeading(_ node: OpaquePointer, line: Int) {
        var title = plainText(of: node).trimmingSpaces()
        var explicitID: String?
        // `Title {#custom-id}`: an explicit anchor, removed from the title.
        if title.hasSuffix("}"), let open = title.range(of: "{#", options: .backwards) {
            let id = title[open.upperBound..<title.index(before: title.endIndex)]
            if !id.isEmpty, id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-:.".unicodeScalars.contains($0)) }) {
                explicitID = String(id)
                title = String(title[..<open.lowerBound]).trimmingSpaces()
            }
        }
        let slug = slugs.unique(title)
        anchors.append(slug)
        if let explicitID { anchors.append(explicitID) }
        headings.append(Heading(level: Int(cmark_node_get_heading_level(node)), title: title, slug: explicitID ?? slug, line: line))
        if var marker = pendingMarker {
            marker.appliesToFile = false
            markers.append(marker)
            pendingMarker = nil
        }
        sawContent = true
    }

    private mutating func enterHTMLBlock(_ node: OpaquePointer, line: Int) {
        let html = literal(node)
        collectHTMLAnchors(html)
        guard html.utf8Contains("ctxmem"),
              let match = html.firstMatch(of: MarkupPatterns.tierMarker) else {
            if !html.hasPrefix("<!--") { noteContent() }
            return
        }
        let value = String(match.1).lowercased()
        guard let tier = Tier(rawValue: value) else {
            findings.append(Finding(rule: RuleID.invalidMarker, severity: .warning, path: path, line: line,
                                    message: "tier marker says '\(value)'; it must be one of \(Tier.choices)"))
            return
        }
        if !sawContent && pendingMarker == nil && !markers.contains(where: \.appliesToFile) {
            markers.append(TierMarker(tier: tier, line: line, appliesToFile: true))
        } else {
            if pendingMarker != nil { noteContent() }
            pendingMarker = TierMarker(tier: tier, line: line, appliesToFile: false)
        }
    }

    private mutating func enterLink(_ node: OpaquePointer, isImage: Bool, line: Int) {
        guard let pointer = cmark_node_get_url(node) else { return }
        let url = String(cString: pointer)
        guard !url.isEmpty else { return }
        let (column, syntax) = locate(node: node, line: line, url: url)
        let resolved = resolver.resolveLink(url)
        var kind: Reference.Kind = isImage ? .image : (syntax == "reference" ? .referenceLink : .link)
        if resolved.isAnchor { kind = .anchor }
        links.append(Reference(kind: kind, target: url, resolvedPath: resolved.path, fragment: resolved.fragment,
                               status: resolved.status, line: line, column: column))
    }

    private mutating func enterCodeSpan(_ node: OpaquePointer, line: Int) {
        var text = literal(node).trimmingSpaces()
        if text.hasPrefix("@") { text.removeFirst() }  // `@docs/x.md` names docs/x.md (an import shown as code)
        guard PathMention.looksLikePath(text), let resolved = resolver.resolveMention(text) else { return }
        let column = locateCodeSpan(node: node, line: line, text: text)
        links.append(Reference(kind: .pathMention, target: text, resolvedPath: resolved, fragment: nil,
                               status: .inRoot, line: line, column: column))
    }

    /// cmark's inline columns are byte offsets and drift inside containers; confirm them against
    /// the source line and fall back to searching for the target text near cmark's column.
    private mutating func locate(node: OpaquePointer, line: Int, url: String) -> (column: Int, syntax: String) {
        guard line >= 1, line <= lines.count else { return (1, "inline") }
        let bytes = lineBytes(line)
        var byteColumn = Int(cmark_node_get_start_column(node)) - 1
        let openers: Set<UInt8> = [UInt8(ascii: "["), UInt8(ascii: "!"), UInt8(ascii: "<")]
        if byteColumn < 0 || byteColumn >= bytes.count || !openers.contains(bytes[byteColumn]) {
            byteColumn = Self.linkStart(bytes, near: byteColumn, url: Array(url.utf8))
        }
        return (scalarColumn(line: line, byteOffset: byteColumn),
                Self.isReferenceStyle(bytes, from: byteColumn) ? "reference" : "inline")
    }

    /// Where a link whose cmark column drifted starts: the `[` (or `![`) before the nearest
    /// occurrence of its URL, or the nearest `[` when the URL is not on the line (reference links).
    /// Looks within a window around cmark's column first, so a long line costs no more than a short one.
    static func linkStart(_ bytes: [UInt8], near: Int, url: [UInt8]) -> Int {
        let open = UInt8(ascii: "[")
        // cmark's column can lie past the end of the line (it drifts on continuation lines).
        let lower = min(max(0, near - 512), bytes.count)
        let nearby = lower..<max(lower, min(bytes.count, max(0, near) + 512))
        for window in [nearby, 0..<bytes.count] {
            if let at = nearest(in: window, to: near, where: { !url.isEmpty && bytes[$0...].starts(with: url) }) {
                if at > 0, bytes[at - 1] == UInt8(ascii: "<"), at < 2 || bytes[at - 2] != UInt8(ascii: "(") {
                    return at - 1  // an autolink, <https://...>
                }
                guard var bracket = bytes[window.lowerBound..<at].lastIndex(of: open) else { return at }
                if bracket > 0, bytes[bracket - 1] == UInt8(ascii: "!") { bracket -= 1 }
                return bracket
            }
        }
        return nearest(in: nearby, to: near, where: { bytes[$0] == open }) ?? 0
    }

    /// The index in `range` nearest to `target` satisfying `test`, searching outwards.
    static func nearest(in range: Range<Int>, to target: Int, where test: (Int) -> Bool) -> Int? {
        guard !range.isEmpty else { return nil }
        let center = min(max(target, range.lowerBound), range.upperBound - 1)
        var distance = 0
        while center - distance >= range.lowerBound || center + distance < range.upperBound {
            if center - distance >= range.lowerBound, test(center - distance) { return center - distance }
            if distance > 0, center + distance < range.upperBound, test(center + distance) { return center + distance }
            distance += 1
        }
        return nil
    }

    /// Whether the link starting at `start` (`[text]...` or `![text]...`) is reference-style: its
    /// text's closing bracket is not followed by `(`. Only this link's brackets count, not a later
    /// inline link on the same line.
    static func isReferenceStyle(_ bytes: [UInt8], from start: Int) -> Bool {
        var i = start
        if i < bytes.count, bytes[i] == UInt8(ascii: "!") { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return false }
        var depth = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 1
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return i + 1 >= bytes.count || bytes[i + 1] != UInt8(ascii: "(") }
            default: break
            }
            i += 1
        }
        // The link text goes on past this line: decide by whether an inline destination follows.
        return !(start..<max(start, bytes.count - 1)).contains {
            bytes[$0] == UInt8(ascii: "]") && bytes[$0 + 1] == UInt8(ascii: "(")
        }
    }

    /// The UTF-8 bytes of a line, kept for the line last asked for: references come in line
    /// order, and a long line (a 1 MB minified file) must not be copied once per reference.
    private mutating func lineBytes(_ line: Int) -> [UInt8] {
        if line != cachedLine {
            cachedLine = line
            cachedBytes = Array(lines[line - 1].utf8)
            cachedScalarCounts = nil
        }
        return cachedBytes
    }

    /// The 1-based column, in Unicode scalars, of a byte offset in `line` (continuation bytes
    /// `10xxxxxx` do not start a scalar); counted once per line, so each lookup is constant time.
    private mutating func scalarColumn(line: Int, byteOffset: Int) -> Int {
        let bytes = lineBytes(line)
        let offset = min(max(0, byteOffset), bytes.count)
        if cachedScalarCounts == nil {
            var counts = [Int32](repeating: 0, count: bytes.count + 1)
            var count: Int32 = 0
            for (index, byte) in bytes.enumerated() {
                counts[index] = count
                if byte & 0xC0 != 0x80 { count += 1 }
            }
            counts[bytes.count] = count
            cachedScalarCounts = counts
        }
        return Int(cachedScalarCounts![offset]) + 1
    }

    /// The column of a code span's opening backtick. cmark reports the byte column of the span's
    /// content (right after the backticks, but drifting on continuation lines inside containers):
    /// trust it when a backtick run ends there, else take the nearest backtick run followed by the
    /// span's text.
    private mutating func locateCodeSpan(node: OpaquePointer, line: Int, text: String) -> Int {
        guard line >= 1, line <= lines.count else { return 1 }
        let bytes = lineBytes(line)
        let reported = Int(cmark_node_get_start_column(node)) - 1
        let needle = Array(text.utf8)
        let backtick = UInt8(ascii: "`")
        // A run's end followed by the text (after padding spaces and the `@` of an import shown as code).
        func opensSpan(_ content: Int) -> Bool {
            guard content > 0, content <= bytes.count, bytes[content - 1] == backtick,
                  content == bytes.count || bytes[content] != backtick else { return false }
            var start = content
            while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
            if start < bytes.count, bytes[start] == UInt8(ascii: "@") { start += 1 }
            return bytes[start...].starts(with: needle)
        }
        let lower = min(max(0, reported - 512), bytes.count + 1)
        let nearby = lower..<max(lower, min(bytes.count + 1, max(0, reported) + 512))
        let content = opensSpan(reported) ? reported
            : Self.nearest(in: nearby, to: reported, where: opensSpan)
            ?? Self.nearest(in: 0..<(bytes.count + 1), to: reported, where: opensSpan)
        guard var open = content else { return 1 }
        while open > 0, bytes[open - 1] == backtick { open -= 1 }
        return scalarColumn(line: line, byteOffset: open)
    }

    private mutating func markOpaque(_ node: OpaquePointer) {
        let start = Int(cmark_node_get_start_line(node))
        let end = max(start, Int(cmark_node_get_end_line(node)))
        opaqueLines.insert(integersIn: start...end)
    }

    private mutating func collectHTMLAnchors(_ html: String) {
        guard html.utf8Contains("id=") || html.utf8Contains("name=") else { return }
        for match in html.matches(of: MarkupPatterns.anchorAttribute) {
            anchors.append(String(match.1))
        }
    }

    private func literal(_ node: OpaquePointer) -> String {
        guard let pointer = cmark_node_get_literal(node) else { return "" }
        return String(cString: pointer)
    }

    /// The text of a heading as GitHub renders it: literals of text and code, breaks as spaces.
    /// Walked with cmark's iterator, not by recursion: `# *a *a *a ... a* a* a*` nests emphasis
    /// once per word, and recursion 150,000 levels deep overflowed the stack.
    private func plainText(of node: OpaquePointer) -> String {
        var result = ""
        guard let iterator = cmark_iter_new(node) else { return result }
        defer { cmark_iter_free(iterator) }
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let current = cmark_iter_get_node(iterator) else { continue }
            switch cmark_node_get_type(current) {
            case CMARK_NODE_TEXT, CMARK_NODE_CODE:
                result += literal(current)
            case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
                result += " "
            default:
                break  // containers are entered by the iterator; inline HTML is left out
            }
        }
        return result
    }
}

/// Decides whether code-span text names a file or folder (`netbox_hedgehog/models.py`, `docs/`).
enum PathMention {
    static let fileExtensions: Set<String> = [
        "md", "markdown", "mdx", "txt", "rst", "adoc", "html", "htm", "xml", "json", "yaml", "yml", "toml", "ini",
        "cfg", "conf", "env", "py", "pyi", "ts", "tsx", "js", "jsx", "mjs", "cjs", "swift", "go", "rs", "rb", "java",
        "kt", "c", "h", "cc", "cpp", "hpp", "cs", "php", "sh", "bash", "zsh", "ps1", "sql", "proto", "graphql",
        "css", "scss", "vue", "svelte", "lock", "csv", "tf", "hcl", "dockerfile", "gradle", "xsd", "ipynb",
    ]

    static func looksLikePath(_ text: String) -> Bool {
        // Most code spans are code, not paths: a quick byte test before the Unicode checks.
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "/")) || utf8.contains(UInt8(ascii: ".")),
              !utf8.contains(UInt8(ascii: " ")), !utf8.contains(UInt8(ascii: ":")) else { return false }
        guard (2...200).contains(text.count), !text.hasPrefix("/"), !text.hasPrefix("~"), !text.hasPrefix("-"),
              !text.hasPrefix("."), text != "..", !text.contains("//") else {
            if text.hasPrefix("./") || text.hasPrefix("../") { return looksLikeRelative(text) }
            return false
        }
        return looksLikeRelative(text)
    }

    private static func looksLikeRelative(_ text: String) -> Bool {
        let allowed = text.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || $0.properties.numericType != nil || "._-/@+".unicodeScalars.contains($0))
        }
        guard allowed, text.unicodeScalars.contains(where: { $0.properties.isAlphabetic }) else { return false }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        let hasFolder = segments.count > 1 && segments.dropLast().allSatisfy { !$0.isEmpty }
        let ext = RelativePath.fileExtension(text)
        if hasFolder {
            // `a/b` alone is often prose ("and/or"); want an extension or a trailing slash or depth.
            return fileExtensions.contains(ext) || text.hasSuffix("/") || segments.count > 2
        }
        return fileExtensions.contains(ext) && !text.hasSuffix(".") && ext != text.lowercased()
    }
}

/// Scans lines for `@imports` by Claude Code's rule: `(?:^|\s)@((?:[^\s\\]|\\ )+)`, skipping
/// code spans and the lines of code and HTML blocks; the path must start with `./`, `~/`, `/` or
/// one of `[A-Za-z0-9._-]`.
enum ImportScanner {
    static func scan(lines: [Substring], skip: IndexSet, firstLine: Int, resolver: ReferenceResolver) -> [Reference] {
        var references: [Reference] = []
        var codeSpanFence = 0   // length of an open multi-line code span's backtick run
        var lineNumber = firstLine
        while lineNumber <= lines.count {
            defer { lineNumber += 1 }
            let line = lines[lineNumber - 1]
            if skip.contains(lineNumber) || line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                codeSpanFence = 0   // code spans end with their paragraph
                continue
            }
            guard codeSpanFence > 0 || line.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "`") }) else { continue }
            let scalars = Array(line.unicodeScalars)
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                if c == "`" {
                    var run = 0
                    while i < scalars.count, scalars[i] == "`" { run += 1; i += 1 }
                    if codeSpanFence == 0 {
                        // Opens a span only if a closing run of the same length follows in this paragraph.
                        if closes(run: run, after: i, in: scalars, lines: lines, from: lineNumber, skip: skip) {
                            codeSpanFence = run
                        }
                    } else if run == codeSpanFence {
                        codeSpanFence = 0
                    }
                    continue
                }
                if codeSpanFence > 0 { i += 1; continue }
                if c == "\\" { i += 2; continue }
                if c == "@", i == 0 || scalars[i - 1].properties.isWhitespace {
                    var j = i + 1
                    var written = String.UnicodeScalarView()
                    while j < scalars.count {
                        if scalars[j] == "\\", j + 1 < scalars.count, scalars[j + 1] == " " {
                            written.append("\\"); written.append(" "); j += 2; continue
                        }
                        if scalars[j].properties.isWhitespace || scalars[j] == "\\" { break }
                        written.append(scalars[j]); j += 1
                    }
                    let target = String(written)
                    if isImportPath(target) {
                        let resolved = resolver.resolveImport(target)
                        references.append(Reference(kind: .import, target: target, resolvedPath: resolved.path,
                                                    fragment: resolved.fragment, status: resolved.status,
                                                    line: lineNumber, column: i + 1))
                    }
                    i = j
                    continue
                }
                i += 1
            }
        }
        return references
    }

    /// Claude Code's validity test, applied to the path without its fragment.
    static func isImportPath(_ written: String) -> Bool {
        var path = written
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        guard !path.isEmpty else { return false }
        if path.hasPrefix("./") || path.hasPrefix("~/") { return true }
        if path.hasPrefix("/") { return path != "/" }
        guard let first = path.unicodeScalars.first, first.isASCII else { return false }
        return first.properties.isAlphabetic || ("0"..."9").contains(first) || first == "." || first == "_" || first == "-"
    }

    private static func closes(run: Int, after index: Int, in scalars: [Unicode.Scalar], lines: [Substring],
                               from lineNumber: Int, skip: IndexSet) -> Bool {
        if hasRun(run, in: scalars[index...]) { return true }
        var next = lineNumber + 1
        while next <= lines.count, !skip.contains(next) {
            let line = lines[next - 1]
            if line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return false }
            if hasRun(run, in: Array(line.unicodeScalars)[...]) { return true }
            next += 1
        }
        return false
    }

    private static func hasRun(_ length: Int, in scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        var i = scalars.startIndex
        while i < scalars.endIndex {
            guard scalars[i] == "`" else { i += 1; continue }
            var run = 0
            while i < scalars.endIndex, scalars[i] == "`" { run += 1; i += 1 }
            if run == length { return true }
        }
        return false
    }
}

/// Cuts a document into non-overlapping sections at its headings.
enum SectionBuilder {
    static func build(headings: [Heading], lines: [Substring], bodyStartLine: Int) -> [Section] {
        var sections: [Section] = []
        var path: [(level: Int, title: String)] = []
        let lastLine = max(lines.count, bodyStartLine - 1)
        let firstHeadingLine = headings.first?.line ?? (lastLine + 1)
        if firstHeadingLine > bodyStartLine {
            let text = slice(lines, bodyStartLine, firstHeadingLine - 1)
            if !text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) || headings.isEmpty {
                sections.append(Section(ordinal: 0, headingPath: [], level: 0, slug: "", startLine: bodyStartLine,
                                        endLine: max(bodyStartLine, firstHeadingLine - 1), text: text,
                                        tier: .detailed, tierReason: "", tokens: 0))
            }
        }
        for (index, heading) in headings.enumerated() {
            while let last = path.last, last.level >= heading.level { path.removeLast() }
            path.append((heading.level, heading.title))
            let end = index + 1 < headings.count ? headings[index + 1].line - 1 : lastLine
            let endLine = max(heading.line, end)
            sections.append(Section(ordinal: sections.count, headingPath: path.map(\.title), level: heading.level,
                                    slug: heading.slug, startLine: heading.line, endLine: endLine,
                                    text: slice(lines, heading.line, endLine), tier: .detailed, tierReason: "", tokens: 0))
        }
        return sections
    }

    static func slice(_ lines: [Substring], _ from: Int, _ to: Int) -> String {
        guard from >= 1, from <= to, from <= lines.count else { return "" }
        let last = lines[min(to, lines.count) - 1]
        let first = lines[from - 1]
        // Lines are slices of one string (``MarkdownParser/lines(of:)``): take the span between
        // them in one copy. Line endings are kept as written (CRLF stays CRLF).
        return String(first.base[first.startIndex..<last.endIndex])
    }
}

extension StringProtocol {
    /// Byte-wise substring test; Foundation's `contains(_:)` goes through NSString and was the
    /// parser's top cost.
    func utf8Contains(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        func search(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count >= pattern.count else { return false }
            for start in 0...(bytes.count - pattern.count)
            where bytes[start] == pattern[0] && bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
                return true
            }
            return false
        }
        // Native strings are contiguous: search in place instead of copying the haystack.
        return utf8.withContiguousStorageIfAvailable(search) ?? Array(utf8).withUnsafeBufferPointer(search)
    }

    /// Without spaces and tabs at either end (Foundation's trimming goes through NSString).
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(self[start..<scalars.index(after: end)])
    }
}

/// Regexes compiled once, not at every call (a regex literal is parsed each time it is evaluated).
enum MarkupPatterns {
    // Regex is not Sendable; these are immutable after initialisation and only read.
    nonisolated(unsafe) static let tierMarker = #/<!--\s*ctxmem:\s*tier\s*=\s*([A-Za-z]+)\s*-->/#
    nonisolated(unsafe) static let anchorAttribute = #/\b(?:id|name)\s*=\s*["']([^"']+)["']/#
}
