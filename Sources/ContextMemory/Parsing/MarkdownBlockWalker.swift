import CCmark
import Foundation

/// Walks cmark's tree once and collects what the parser needs.
struct BlockWalker {
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
            findings.append(
                Finding(
                    rule: RuleID.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
                    message: "tier marker is not followed by a heading, so it applies to nothing"))
        }
    }

    private mutating func noteContent() {
        if let pendingMarker {
            findings.append(
                Finding(
                    rule: RuleID.invalidMarker, severity: .warning, path: path, line: pendingMarker.line,
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
            if !id.isEmpty,
                id.unicodeScalars.allSatisfy({
                    $0.isASCII
                        && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                            || "_-:.".unicodeScalars.contains($0))
                })
            {
                explicitID = String(id)
                title = String(title[..<open.lowerBound]).trimmingSpaces()
            }
        }
        let slug = slugs.unique(title)
        anchors.append(slug)
        if let explicitID { anchors.append(explicitID) }
        headings.append(
            Heading(level: Int(cmark_node_get_heading_level(node)), title: title, slug: explicitID ?? slug, line: line))
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
            let match = html.firstMatch(of: MarkupPatterns.tierMarker)
        else {
            if !html.hasPrefix("<!--") { noteContent() }
            return
        }
        let value = String(match.1).lowercased()
        guard let tier = Tier(rawValue: value) else {
            findings.append(
                Finding(
                    rule: RuleID.invalidMarker, severity: .warning, path: path, line: line,
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
        links.append(
            Reference(
                kind: kind, target: url, resolvedPath: resolved.path, fragment: resolved.fragment,
                status: resolved.status, line: line, column: column))
    }

    private mutating func enterCodeSpan(_ node: OpaquePointer, line: Int) {
        var text = literal(node).trimmingSpaces()
        if text.hasPrefix("@") { text.removeFirst() }  // `@docs/x.md` names docs/x.md (an import shown as code)
        guard PathMention.looksLikePath(text), let resolved = resolver.resolveMention(text) else { return }
        let column = locateCodeSpan(node: node, line: line, text: text)
        links.append(
            Reference(
                kind: .pathMention, target: text, resolvedPath: resolved, fragment: nil,
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
        return (
            scalarColumn(line: line, byteOffset: byteColumn),
            Self.isReferenceStyle(bytes, from: byteColumn) ? "reference" : "inline"
        )
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
                content == bytes.count || bytes[content] != backtick
            else { return false }
            var start = content
            while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
            if start < bytes.count, bytes[start] == UInt8(ascii: "@") { start += 1 }
            return bytes[start...].starts(with: needle)
        }
        let lower = min(max(0, reported - 512), bytes.count + 1)
        let nearby = lower..<max(lower, min(bytes.count + 1, max(0, reported) + 512))
        let content =
            opensSpan(reported)
            ? reported
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
