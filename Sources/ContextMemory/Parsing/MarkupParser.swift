import CLibXML2
import Foundation

/// Parses HTML and XML files through libxml2: HTML headings (`h1`-`h6`) become sections, `a href`
/// and `img src` become references, `id`/`name` attributes anchors; an XML file is one section of
/// its text. Line numbers come from libxml2's node lines.
public enum MarkupParser {
    public static func parse(text: String, path: String, rootPath: String, format: Document.Format) -> Document {
        var lines = MarkdownParser.lines(of: text)
        if lines.last?.isEmpty == true, lines.count > 1 { lines.removeLast() }  // as MarkdownParser counts
        var document = Document(
            path: path, format: format, frontmatter: nil, bodyStartLine: 1,
            lineCount: lines.count, title: nil, sections: [], references: [], markers: [],
            findings: [], anchors: [])
        var copy = text
        let parsed: xmlDocPtr? = copy.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                let options = Int32(
                    HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                        | HTML_PARSE_NONET.rawValue)
                if format == .html {
                    return htmlReadMemory(chars.baseAddress, Int32(chars.count), path, "UTF-8", options)
                }
                let xmlOptions = Int32(
                    XML_PARSE_RECOVER.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue
                        | XML_PARSE_NONET.rawValue)
                return xmlReadMemory(chars.baseAddress, Int32(chars.count), path, "UTF-8", xmlOptions)
            }
        }
        guard let parsed else {
            document.sections = [SectionBuilder.plain(text: text, lines: lines)]
            return document
        }
        defer { xmlFreeDoc(parsed) }
        var collector = Collector(resolver: ReferenceResolver(documentPath: path, rootPath: rootPath), format: format)
        collector.visit(xmlDocGetRootElement(parsed))
        document.references = collector.references
        document.anchors = collector.anchors
        document.title = collector.title ?? collector.headings.first?.title
        if format == .html, !collector.headings.isEmpty {
            document.sections = SectionBuilder.build(headings: collector.headings, lines: lines, bodyStartLine: 1)
        } else {
            document.sections = [SectionBuilder.plain(text: text, lines: lines)]
        }
        return document
    }

    private struct Collector {
        let resolver: ReferenceResolver
        let format: Document.Format
        var headings: [Heading] = []
        var references: [Reference] = []
        var anchors: [String] = []
        var title: String?
        var slugs = SlugCounter()

        mutating func visit(_ node: xmlNodePtr?) {
            var current = node
            while let node = current {
                if node.pointee.type == XML_ELEMENT_NODE {
                    element(node)
                }
                visit(node.pointee.children)
                current = node.pointee.next
            }
        }

        private mutating func element(_ node: xmlNodePtr) {
            let name = String(cString: node.pointee.name).lowercased()
            let line = Int(xmlGetLineNo(node))
            for attribute in ["id", "name"] {
                if let value = Self.attribute(node, attribute), !value.isEmpty { anchors.append(value) }
            }
            guard format == .html else { return }
            switch name {
            case "title":
                title = Self.text(node)
            case "h1", "h2", "h3", "h4", "h5", "h6":
                let text = Self.text(node).trimmingCharacters(in: .whitespacesAndNewlines)
                let slug = slugs.unique(text)
                anchors.append(slug)
                headings.append(
                    Heading(level: Int(String(name.dropFirst())) ?? 1, title: text, slug: slug, line: max(1, line)))
            case "a", "img", "link":
                guard let target = Self.attribute(node, name == "img" ? "src" : "href"), !target.isEmpty else { return }
                let resolved = resolver.resolveLink(target)
                let kind: Reference.Kind = resolved.isAnchor ? .anchor : (name == "img" ? .image : .link)
                references.append(
                    Reference(
                        kind: kind, target: target, resolvedPath: resolved.path, fragment: resolved.fragment,
                        status: resolved.status, line: max(1, line), column: 1))
            default:
                break
            }
        }

        private static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
            guard let value = xmlGetProp(node, name) else { return nil }
            defer { ctxmem_xml_free(value) }
            return String(cString: value)
        }

        private static func text(_ node: xmlNodePtr) -> String {
            guard let content = xmlNodeGetContent(node) else { return "" }
            defer { ctxmem_xml_free(content) }
            return String(cString: content)
        }
    }
}

extension SectionBuilder {
    /// A whole file as one preamble section (plain text and XML).
    static func plain(text: String, lines: [Substring]) -> Section {
        Section(
            ordinal: 0, headingPath: [], level: 0, slug: "", startLine: 1, endLine: max(1, lines.count),
            text: text, tier: .detailed, tierReason: "", tokens: 0)
    }
}
