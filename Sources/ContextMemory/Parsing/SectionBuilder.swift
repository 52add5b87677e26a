import Foundation

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
                sections.append(
                    Section(
                        ordinal: 0, headingPath: [], level: 0, slug: "", startLine: bodyStartLine,
                        endLine: max(bodyStartLine, firstHeadingLine - 1), text: text,
                        tier: .detailed, tierReason: "", tokens: 0))
            }
        }
        for (index, heading) in headings.enumerated() {
            while let last = path.last, last.level >= heading.level { path.removeLast() }
            path.append((heading.level, heading.title))
            let end = index + 1 < headings.count ? headings[index + 1].line - 1 : lastLine
            let endLine = max(heading.line, end)
            sections.append(
                Section(
                    ordinal: sections.count, headingPath: path.map(\.title), level: heading.level,
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
