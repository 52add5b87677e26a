import CLibXML2
import Foundation

/// Writes a pack as Markdown (for people), XML (Anthropic's `<documents>` layout, through
/// libxml2; Schemas/context-pack.xsd) or JSON (Schemas/context-pack.schema.json). The fragment
/// methods render one piece as it appears in the whole, so the builder can cost it.
public struct PackRenderer: Sendable {
    public let format: PackFormat
    public let delivery: PackDelivery

    public init(format: PackFormat, delivery: PackDelivery = .document) {
        self.format = format
        self.delivery = delivery
    }

    public func render(_ content: PackContent) -> String {
        switch format {
        case .markdown where delivery == .hookContext: hookMarkdown(content)
        case .markdown: markdown(content)
        case .xml: xml(content)
        case .json: json(content)
        }
    }

    func sectionFragment(_ section: PackedSection) -> String {
        switch format {
        case .markdown: markdownSection(section)
        case .xml: XMLText.fragment { writeSection(section, to: $0) }
        case .json: encode(JSONPack.Section(section))
        }
    }

    func documentFragment(path: String) -> String {
        switch format {
        case .markdown: "\n## \(path)\n\n"
        case .xml:
            XMLText.fragment { writer in
                writer.start("document")
                writer.attribute("index", "100")
                writer.element("source", path)
                writer.start("document_content")
                writer.end()
                writer.end()
            }
        case .json: encode(JSONPack.Document(index: 100, path: path, kind: "project-management", sections: []))
        }
    }

    func pointerFragment(_ pointer: PackPointer) -> String {
        switch format {
        case .markdown: markdownPointer(pointer)
        case .xml: XMLText.fragment { writePointer(pointer, to: $0) }
        case .json: encode(pointer)
        }
    }

    /// The visible end of a trimmed section.
    static func trimMarker(_ section: PackedSection) -> String {
        "[… trimmed here to fit the budget; the whole section (\(section.fullTokens) tokens) is \(section.handle)]"
    }

    static func location(_ section: PackedSection) -> String {
        let lines =
            section.startLine == section.endLine
            ? "line \(section.startLine)" : "lines \(section.startLine)-\(section.endLine)"
        let heading = section.headingPath.isEmpty ? "" : " · " + section.headingPath.joined(separator: " > ")
        return "\(section.handle) · \(lines)\(heading) · \(section.tier.rawValue)"
    }

    // MARK: - Markdown

    private func markdown(_ content: PackContent) -> String {
        let manifest = content.manifest
        var out = "# Context pack" + (manifest.agent.map { " for \($0)" } ?? "") + "\n\n"
        out += "Pack `\(manifest.packId)`: \(manifest.tokens) of \(manifest.budget) tokens (\(manifest.counter)). "
        out +=
            "Tokens by tier: "
            + Tier.allCases.map { "\($0.rawValue) \(manifest.tokensByTier[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        out += "; pointers \(manifest.pointerTokens). \(manifest.documents) documents, \(manifest.sections) sections"
        if !manifest.trimmed.isEmpty {
            out +=
                "; trimmed: "
                + manifest.trimmed.map { "\($0.handle) (\($0.keptTokens) of \($0.fullTokens))" }.joined(separator: ", ")
        }
        let leftOut = Tier.allCases.compactMap { tier in
            manifest.leftOut[tier.rawValue].map { "\($0) \(tier.rawValue)" }
        }
        if !leftOut.isEmpty { out += "; left out: " + leftOut.joined(separator: ", ") }
        if manifest.duplicatesSkipped > 0 { out += "; duplicates skipped: \(manifest.duplicatesSkipped)" }
        out += ".\n"
        out += "\n" + Self.modeLine(manifest) + "\n"
        for document in content.documents {
            out += "\n## \(document.path)\n\n"
            for section in document.sections { out += markdownSection(section) }
        }
        if !content.pointers.isEmpty || content.unlistedPointers > 0 {
            out +=
                "\n## More available\n\nRead any of these with `ctxmem read HANDLE` (or the read_memory tool) when you need it.\n\n"
            for pointer in content.pointers { out += markdownPointer(pointer) }
            if content.unlistedPointers > 0 {
                out += "- … and \(content.unlistedPointers) more relevant sections: search with `ctxmem search`.\n"
            }
        }
        if let role = content.role {
            out += "\n## Your role: \(role.name)\n\n_\(role.path)_: \(role.description)\n\n\(role.text)\n"
        }
        if let task = content.task {
            out += "\n## Task\n\n\(task)\n"
        }
        return out
    }

    /// What a hook injects: facts about the project for an agent that has its definition and its
    /// prompt already (so neither is repeated), and where the rest of the memory is.
    private func hookMarkdown(_ content: PackContent) -> String {
        let manifest = content.manifest
        var out = "# Project memory" + (manifest.agent.map { " for the \($0) agent" } ?? "") + "\n\n"
        out +=
            "ctxmem pack `\(manifest.packId)`, \(manifest.tokens) of \(manifest.budget) tokens, mode \(manifest.mode.rawValue): "
            + "the sections of this project's memory that bear most on this role"
            + (manifest.task == nil ? "" : " and task") + ". memory:// handles name sections; the search_memory "
            + "and read_memory tools of the ctxmem MCP server (and `ctxmem read HANDLE`) give their full text "
            + "and the rest of the memory.\n"
        for document in content.documents {
            out += "\n## \(document.path)\n\n"
            for section in document.sections { out += markdownSection(section) }
        }
        if !content.pointers.isEmpty || content.unlistedPointers > 0 {
            out += "\n## More in project memory on this\n\n"
            for pointer in content.pointers { out += markdownPointer(pointer) }
            if content.unlistedPointers > 0 {
                out += "- … and \(content.unlistedPointers) more relevant sections (search_memory finds them).\n"
            }
        }
        return out
    }

    /// The manifest's mode and coordination overhead in one sentence (Markdown packs, and `ctxmem hook`).
    static func modeLine(_ manifest: PackManifest) -> String {
        let overhead = manifest.overhead
        var line =
            "Mode \(manifest.mode.rawValue). Coordination overhead \(overhead.tokens) tokens, "
            + "\(Self.percent(overhead.share)) of the budget (essentials \(overhead.essentialTokens), "
            + "role brief and manifest \(overhead.fixedTokens)"
        let loaded = manifest.loadedByClaudeCode
        if manifest.mode == .supplement {
            let shown = loaded.files.prefix(6).joined(separator: ", ")
            let more = loaded.files.count > 6 ? " and \(loaded.files.count - 6) more" : ""
            line +=
                ", loaded by Claude Code \(overhead.claudeCodeTokens)). Left out because Claude Code loads them: "
                + (loaded.files.isEmpty ? "nothing" : shown + more) + "."
        } else {
            line += ")."
        }
        return line
    }

    /// `0.123` as `12.3%`.
    static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }

    private func markdownSection(_ section: PackedSection) -> String {
        var text = "_\(Self.location(section))_\n\n" + section.text.trimmingTrailingNewlines() + "\n"
        if section.trimmed { text += "\n" + Self.trimMarker(section) + "\n" }
        return text + "\n"
    }

    private func markdownPointer(_ pointer: PackPointer) -> String {
        "- \(pointer.handle): \(pointer.title) (\(pointer.tier.rawValue), \(pointer.tokens) tokens)\n"
    }

    // MARK: - XML

    private func xml(_ content: PackContent) -> String {
        XMLText.document { writer in
            let manifest = content.manifest
            writer.start("context_pack")
            writer.newline()
            writer.start("manifest")
            writer.attribute("pack_id", manifest.packId)
            if let agent = manifest.agent { writer.attribute("agent", agent) }
            writer.attribute("budget", String(manifest.budget))
            writer.attribute("tokens", String(manifest.tokens))
            writer.attribute("counter", manifest.counter)
            writer.attribute("model_factor", String(manifest.modelFactor))
            writer.attribute("safety_margin", String(manifest.safetyMargin))
            writer.attribute("documents", String(manifest.documents))
            writer.attribute("sections", String(manifest.sections))
            writer.attribute("pointer_tokens", String(manifest.pointerTokens))
            writer.attribute("duplicates_skipped", String(manifest.duplicatesSkipped))
            writer.attribute("mode", manifest.mode.rawValue)
            writer.newline()
            writer.start("overhead")
            writer.attribute("tokens", String(manifest.overhead.tokens))
            writer.attribute("share", String(manifest.overhead.share))
            writer.attribute("limit", String(manifest.overhead.limit))
            writer.attribute("essential_tokens", String(manifest.overhead.essentialTokens))
            writer.attribute("fixed_tokens", String(manifest.overhead.fixedTokens))
            writer.attribute("claude_code_tokens", String(manifest.overhead.claudeCodeTokens))
            writer.end()
            for file in manifest.loadedByClaudeCode.files {
                writer.newline()
                writer.element("loaded_by_claude_code", file)
            }
            for tier in Tier.allCases {
                writer.newline()
                writer.start("tier_tokens")
                writer.attribute("tier", tier.rawValue)
                writer.text(String(manifest.tokensByTier[tier.rawValue] ?? 0))
                writer.end()
            }
            for trim in manifest.trimmed {
                writer.newline()
                writer.start("trimmed")
                writer.attribute("handle", trim.handle)
                writer.attribute("kept_tokens", String(trim.keptTokens))
                writer.attribute("full_tokens", String(trim.fullTokens))
                writer.end()
            }
            for tier in Tier.allCases {
                guard let count = manifest.leftOut[tier.rawValue] else { continue }
                writer.newline()
                writer.start("left_out")
                writer.attribute("tier", tier.rawValue)
                writer.text(String(count))
                writer.end()
            }
            writer.newline()
            writer.end()
            writer.newline()
            writer.start("documents")
            for (index, document) in content.documents.enumerated() {
                writer.newline()
                writer.start("document")
                writer.attribute("index", String(index + 1))
                writer.element("source", document.path)
                writer.start("document_content")
                for section in document.sections {
                    writer.newline()
                    writeSection(section, to: writer)
                }
                writer.newline()
                writer.end()
                writer.end()
            }
            writer.newline()
            writer.end()
            if !content.pointers.isEmpty || content.unlistedPointers > 0 {
                writer.newline()
                writer.start("more_available")
                writer.attribute("unlisted", String(content.unlistedPointers))
                for pointer in content.pointers {
                    writer.newline()
                    writePointer(pointer, to: writer)
                }
                writer.newline()
                writer.end()
            }
            if let role = content.role {
                writer.newline()
                writer.start("role_brief")
                writer.attribute("name", role.name)
                writer.attribute("source", role.path)
                writer.newline()
                writer.element("description", role.description)
                writer.newline()
                writer.element("instructions", role.text)
                writer.newline()
                writer.end()
            }
            if let task = content.task {
                writer.newline()
                writer.element("task", task)
            }
            writer.newline()
            writer.end()
        }
    }

    private func writeSection(_ section: PackedSection, to writer: XMLText) {
        writer.start("section")
        writer.attribute("handle", section.handle)  // the document's <source> is the path
        writer.attribute("lines", "\(section.startLine)-\(section.endLine)")
        writer.attribute("heading_path", section.headingPath.joined(separator: " > "))
        writer.attribute("tier", section.tier.rawValue)
        if section.trimmed { writer.attribute("trimmed", "true") }
        var text = "\n" + section.text.trimmingTrailingNewlines() + "\n"
        if section.trimmed { text += Self.trimMarker(section) + "\n" }
        writer.text(text)
        writer.end()
    }

    private func writePointer(_ pointer: PackPointer, to writer: XMLText) {
        writer.start("pointer")
        writer.attribute("handle", pointer.handle)
        writer.attribute("tier", pointer.tier.rawValue)
        writer.attribute("tokens", String(pointer.tokens))
        writer.text(pointer.title)
        writer.end()
    }

    // MARK: - JSON

    private func json(_ content: PackContent) -> String {
        encode(JSONPack(content)) + "\n"
    }

    private func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The JSON layout of a pack (Schemas/context-pack.schema.json).
struct JSONPack: Encodable {
    var schema = "https://ctxmem.dev/schemas/context-pack.schema.json"
    var manifest: PackManifest
    var documents: [Document]
    var moreAvailable: MoreAvailable
    var role: Role?
    var task: String?

    struct Document: Encodable {
        var index: Int
        var path: String
        var kind: String
        var sections: [Section]
    }

    struct Section: Encodable {
        var handle: String
        var path: String
        var startLine: Int
        var endLine: Int
        var headingPath: [String]
        var tier: String
        var trimmed: Bool
        var fullTokens: Int
        /// The tokens of `text` in this pack (the kept part when trimmed): by tier they sum to the
        /// manifest's `tokensByTier` (with the role brief in `essential`).
        var tokens: Int
        var text: String

        init(_ section: PackedSection) {
            handle = section.handle
            path = section.path
            startLine = section.startLine
            endLine = section.endLine
            headingPath = section.headingPath
            tier = section.tier.rawValue
            trimmed = section.trimmed
            fullTokens = section.fullTokens
            tokens = section.textTokens
            text =
                section.text.trimmingTrailingNewlines()
                + (section.trimmed ? "\n" + PackRenderer.trimMarker(section) : "")
        }
    }

    struct MoreAvailable: Encodable {
        var pointers: [PackPointer]
        var unlisted: Int
    }

    struct Role: Encodable {
        var name: String
        var description: String
        var source: String
        var instructions: String
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case manifest, documents, moreAvailable, role, task
    }

    init(_ content: PackContent) {
        manifest = content.manifest
        documents = content.documents.enumerated().map { index, document in
            Document(
                index: index + 1, path: document.path, kind: document.kind.rawValue,
                sections: document.sections.map(Section.init))
        }
        moreAvailable = MoreAvailable(pointers: content.pointers, unlisted: content.unlistedPointers)
        role = content.role.map {
            Role(name: $0.name, description: $0.description, source: $0.path, instructions: $0.text)
        }
        task = content.task
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(manifest, forKey: .manifest)
        try container.encode(documents, forKey: .documents)
        try container.encode(moreAvailable, forKey: .moreAvailable)
        // Always present (null when absent), so every pack has the same keys.
        try container.encode(role, forKey: .role)
        try container.encode(task, forKey: .task)
    }
}

/// A libxml2 text writer into memory. Text is made valid XML 1.0 first: characters XML cannot
/// carry (C0 controls other than tab, newline and carriage return; U+FFFE, U+FFFF) become U+FFFD;
/// libxml2 escapes `&`, `<`, `>` (so `]]>` is harmless) and quotes in attributes.
final class XMLText {
    private let buffer: xmlBufferPtr
    private let writer: xmlTextWriterPtr

    private init() {
        buffer = xmlBufferCreate()
        writer = xmlNewTextWriterMemory(buffer, 0)
    }

    static func document(_ body: (XMLText) -> Void) -> String {
        let xml = XMLText()
        xmlTextWriterStartDocument(xml.writer, "1.0", "UTF-8", nil)
        body(xml)
        xmlTextWriterEndDocument(xml.writer)
        return xml.finish()
    }

    static func fragment(_ body: (XMLText) -> Void) -> String {
        let xml = XMLText()
        body(xml)
        return xml.finish()
    }

    private func finish() -> String {
        xmlFreeTextWriter(writer)  // flushes into the buffer
        let text =
            xmlBufferContent(buffer).map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            ?? ""
        xmlBufferFree(buffer)
        return text
    }

    func start(_ name: String) { xmlTextWriterStartElement(writer, name) }
    func end() { xmlTextWriterEndElement(writer) }
    func attribute(_ name: String, _ value: String) { xmlTextWriterWriteAttribute(writer, name, Self.clean(value)) }
    func text(_ value: String) { xmlTextWriterWriteString(writer, Self.clean(value)) }
    func newline() { xmlTextWriterWriteString(writer, "\n") }

    func element(_ name: String, _ value: String) {
        start(name)
        text(value)
        end()
    }

    static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !isAllowed($0) }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(isAllowed(scalar) ? scalar : "\u{FFFD}") }
        return String(scalars)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }
}
