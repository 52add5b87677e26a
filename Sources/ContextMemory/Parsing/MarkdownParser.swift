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
            findings.append(Finding(rule: Finding.Rule.invalidFrontmatter, severity: .warning, path: path,
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

        var frontmatterJSON: String?
        if let values = frontmatter.values {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            frontmatterJSON = (try? encoder.encode(values)).map { String(decoding: $0, as: UTF8.self) }
        }
        let title = frontmatter.values?["title"]?.stringValue
            ?? walker.headings.first(where: { $0.level == 1 })?.title
            ?? walker.headings.first?.title
        return Document(
            path: path, format: .markdown, frontmatterJSON: frontmatterJSON,
            bodyStartLine: frontmatter.lineCount + 1, lineCount: lines.count, title: title,
            sections: sections, references: references, markers: walker.markers, findings: findings,
            anchors: walker.anchors)
    }

    /// The lines of `text`, split at CommonMark's line endings (`\n`, `\r\n`, `\r`) so line numbers
    /// agree with cmark's and libxml2's. (`"\r\n"` is one `Character`, so splitting at `"\n"` alone
    /// would leave a CRLF file as a single line.)
    static func lines(of text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
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
            findings.append(Finding(rule: Finding.Rule.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
                                    message: "tier marker is not followed by a heading, so it applies to nothing"))
        }
    }

    private mutating func noteContent() {
        if let pendingMarker {
            findings.append(Finding(rule: Finding.Rule.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
                                    message: "tier marker must come right before a heading or at the top of the file"))
            self.pendingMarker = nil
        }
        sawContent = true
    }

    private mutating func enterHeading(_ node: OpaquePointer, line: Int) {
        var title = plainText(of: node).trimmingCharacters(in: .whitespaces)
        var explicitID: String?
        if let range = title.range(of: #"\s*\{#([A-Za-z0-9_\-:.]+)\}$"#, options: .regularExpression) {
            explicitID = String(title[range]).trimmingCharacters(in: CharacterSet(charactersIn: " \t{}#"))
            title.removeSubrange(range)
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
        guard let match = html.firstMatch(of: #/<!--\s*ctxmem:\s*tier\s*=\s*([A-Za-z]+)\s*-->/#) else {
            if !html.hasPrefix("<!--") { noteContent() }
            return
        }
        let value = String(match.1).lowercased()
        guard let tier = Tier(rawValue: value) else {
            findings.append(Finding(rule: Finding.Rule.invalidMarker, severity: .warning, path: path, line: line,
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
        let text = literal(node).trimmingCharacters(in: .whitespaces)
        guard PathMention.looksLikePath(text), let resolved = resolver.resolveMention(text) else { return }
        let column = locateCodeSpan(node: node, line: line, text: text)
        links.append(Reference(kind: .pathMention, target: text, resolvedPath: resolved, fragment: nil,
                               status: .inRoot, line: line, column: column))
    }

    /// cmark's inline columns are byte offsets and drift inside containers; confirm them against
    /// the source line and fall back to searching for the target text.
    private func locate(node: OpaquePointer, line: Int, url: String) -> (column: Int, syntax: String) {
        guard line >= 1, line <= lines.count else { return (1, "inline") }
        let source = lines[line - 1]
        let bytes = Array(source.utf8)
        var byteColumn = Int(cmark_node_get_start_column(node)) - 1
        let openers: Set<UInt8> = [UInt8(ascii: "["), UInt8(ascii: "!"), UInt8(ascii: "<")]
        if byteColumn < 0 || byteColumn >= bytes.count || !openers.contains(bytes[byteColumn]) {
            if let range = source.range(of: url) {
                byteColumn = source.utf8.distance(from: source.startIndex, to: range.lowerBound)
                // Step back to the opening bracket of `[text](url)` when it is on this line.
                if let open = source[..<range.lowerBound].lastIndex(of: "[") {
                    byteColumn = source.utf8.distance(from: source.startIndex, to: open)
                    if open > source.startIndex, source[source.index(before: open)] == "!" { byteColumn -= 1 }
                }
            } else {
                byteColumn = 0
            }
        }
        let prefix = bytes[..<min(byteColumn, bytes.count)]
        let column = String(decoding: prefix, as: UTF8.self).unicodeScalars.count + 1
        let rest = Array(source.utf8.dropFirst(byteColumn))
        return (column, Self.isReferenceStyle(rest) ? "reference" : "inline")
    }

    /// Whether the link starting at `rest` (`[text]...` or `![text]...`) is reference-style: its
    /// text's closing bracket is not followed by `(`. Only this link's brackets count, not a later
    /// inline link on the same line.
    static func isReferenceStyle(_ rest: [UInt8]) -> Bool {
        var i = rest.first == UInt8(ascii: "!") ? 1 : 0
        guard i < rest.count, rest[i] == UInt8(ascii: "[") else { return false }
        var depth = 0
        while i < rest.count {
            switch rest[i] {
            case UInt8(ascii: "\\"): i += 1
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return i + 1 >= rest.count || rest[i + 1] != UInt8(ascii: "(") }
            default: break
            }
            i += 1
        }
        // The link text goes on past this line: decide by whether an inline destination follows.
        return !String(decoding: rest, as: UTF8.self).contains("](")
    }

    /// The column of a code span's opening backtick. cmark reports the byte column of the span's
    /// content (which drifts on continuation lines inside containers), so pick the backtick run
    /// followed by the span's text that is nearest to it.
    private func locateCodeSpan(node: OpaquePointer, line: Int, text: String) -> Int {
        guard line >= 1, line <= lines.count else { return 1 }
        let bytes = Array(lines[line - 1].utf8)
        let reported = Int(cmark_node_get_start_column(node)) - 1
        let needle = Array(text.utf8)
        let backtick = UInt8(ascii: "`")
        var best: Int?
        var bestDistance = Int.max
        var i = 0
        while i < bytes.count {
            guard bytes[i] == backtick else { i += 1; continue }
            let open = i
            while i < bytes.count, bytes[i] == backtick { i += 1 }
            let content = i
            var start = content
            while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
            guard bytes[start...].starts(with: needle) else { continue }
            let distance = abs(content - reported)
            if distance < bestDistance { best = open; bestDistance = distance }
        }
        guard let best else { return 1 }
        return String(decoding: bytes[..<best], as: UTF8.self).unicodeScalars.count + 1
    }

    private mutating func markOpaque(_ node: OpaquePointer) {
        let start = Int(cmark_node_get_start_line(node))
        let end = max(start, Int(cmark_node_get_end_line(node)))
        opaqueLines.insert(integersIn: start...end)
    }

    private mutating func collectHTMLAnchors(_ html: String) {
        guard html.contains("id=") || html.contains("name=") else { return }
        for match in html.matches(of: #/\b(?:id|name)\s*=\s*["']([^"']+)["']/#) {
            anchors.append(String(match.1))
        }
    }

    private func literal(_ node: OpaquePointer) -> String {
        guard let pointer = cmark_node_get_literal(node) else { return "" }
        return String(cString: pointer)
    }

    /// The text of a heading as GitHub renders it: literals of text and code, breaks as spaces.
    private func plainText(of node: OpaquePointer) -> String {
        var result = ""
        var child = cmark_node_first_child(node)
        while let current = child {
            switch cmark_node_get_type(current) {
            case CMARK_NODE_TEXT, CMARK_NODE_CODE:
                result += literal(current)
            case CMARK_NODE_SOFTBREAK, CMARK_NODE_LINEBREAK:
                result += " "
            case CMARK_NODE_HTML_INLINE:
                break
            default:
                result += plainText(of: current)
            }
            child = cmark_node_next(current)
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
            if skip.contains(lineNumber) || line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                codeSpanFence = 0   // code spans end with their paragraph
                continue
            }
            guard line.contains("@") || codeSpanFence > 0 || line.contains("`") else { continue }
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
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { return false }
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
            if !text.allSatisfy(\.isWhitespace) || headings.isEmpty {
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
        return lines[(from - 1)..<min(to, lines.count)].joined(separator: "\n")
    }
}
