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
            findings.append(
                Finding(
                    rule: RuleID.invalidFrontmatter, severity: .warning, path: path,
                    line: problem.line, message: problem.message))
        }
        // Blank the frontmatter instead of cutting it, so cmark's line numbers are the file's.
        let markdown: String
        if frontmatter.lineCount > 0 {
            markdown =
                String(repeating: "\n", count: frontmatter.lineCount)
                + lines.dropFirst(frontmatter.lineCount).joined(separator: "\n") + "\n"
        } else {
            markdown = text
        }
        var walker = BlockWalker(
            lines: lines, path: path, resolver: ReferenceResolver(documentPath: path, rootPath: rootPath))
        walker.walk(markdown: markdown, bodyStartLine: frontmatter.lineCount + 1)
        findings += walker.findings

        let sections = SectionBuilder.build(
            headings: walker.headings, lines: lines, bodyStartLine: frontmatter.lineCount + 1)
        var references =
            walker.links
            + ImportScanner.scan(
                lines: lines, skip: walker.opaqueLines, firstLine: frontmatter.lineCount + 1, resolver: walker.resolver)
        references.sort { ($0.line, $0.column) < ($1.line, $1.column) }

        let title =
            frontmatter.values?["title"]?.stringValue
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
