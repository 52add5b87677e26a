public import Foundation

/// The team's status for the orchestrator (`ctxmem status`, `GET /v1/status`, MCP `status_digest`):
/// the latest handoff of every agent, merged into one block in the reporting format the project's
/// AGENTS.md defines (a section whose heading names a reporting format, with the report as a
/// fenced template), or else ctxmem's default: per agent what was done, blockers and next steps.
extension MemoryService {
    /// The status block and what it was made of.
    public struct StatusDigest: Sendable, Codable, Equatable {
        /// `AGENTS.md#reporting-format` (the handle of the template used), or `default`.
        public var format: String
        /// Only reports from this time on were read (ISO 8601), when asked.
        public var since: String?
        public var agents: [AgentStatus]
        /// The merged block, Markdown.
        public var text: String
    }

    /// One agent's latest report.
    public struct AgentStatus: Sendable, Codable, Equatable {
        public var agent: String
        public var time: String
        public var task: String?
        /// The record's handle: `ctxmem read` or MCP `read_memory` gives the whole report.
        public var handle: String
        public var path: String
        /// The template's fields with the report's values (or the default's `done`, `blockers`,
        /// `next steps`), in template order; a field the report does not state is "not reported".
        public var fields: [Field]
        /// How many reports of this agent the period has (the latest is shown).
        public var reports: Int
        /// The report's own heading line in the template's shape, when it has one.
        public var heading: String?
    }

    public struct Field: Sendable, Codable, Equatable {
        public var name: String
        public var value: String
    }

    /// The latest report of every agent, since `since` when given.
    /// - Throws: ``IndexError`` (no index).
    public func status(since: Date? = nil) throws -> StatusDigest {
        try reading { try Self.status(reader: $0, since: since) }
    }

    /// ``status(since:)`` off the cooperative pool.
    public func status(since: Date? = nil) async throws -> StatusDigest {
        try await reading { try Self.status(reader: $0, since: since) }
    }

    static func status(reader: any MemoryReader, since: Date?) throws -> StatusDigest {
        do {
            let all = try Self.handoffs(in: reader).filter { since == nil || $0.time >= since! }
            var latest: [String: Handoff] = [:]
            var counts: [String: Int] = [:]
            for handoff in all {
                counts[handoff.agentType, default: 0] += 1
                if latest[handoff.agentType] == nil { latest[handoff.agentType] = handoff }  // newest first
            }
            let template = try ReportTemplate.find(in: reader)
            var agents: [AgentStatus] = []
            for handoff in latest.values.sorted(by: { ($0.time, $0.agentType) > ($1.time, $1.agentType) }) {
                let sections = try reader.sections(inPaths: [handoff.path], withBody: true)
                let report = Self.reportText(sections.map { $0.body ?? "" })
                let fields = ReportTemplate.fields(of: report, in: template)
                agents.append(
                    AgentStatus(
                        agent: handoff.agentType, time: Handoff.formatTime(handoff.time), task: handoff.task,
                        handle: MemoryHandle.make(path: handoff.path, slug: ""),
                        path: handoff.path, fields: fields, reports: counts[handoff.agentType] ?? 1,
                        heading: template?.ownHeading(in: report)))
            }
            return StatusDigest(
                format: template?.handle ?? "default", since: since.map(Handoff.formatTime), agents: agents,
                text: Self.statusText(agents, template: template, since: since))
        }
    }

    /// The report as the sub-agent wrote it: the record's text without ctxmem's heading and task line.
    static func reportText(_ bodies: [String]) -> String {
        var lines = bodies.joined(separator: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        if let first = lines.first, first.hasPrefix("# Handoff: ") { lines.removeFirst() }
        while let first = lines.first, first.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeFirst() }
        if let first = lines.first, first.hasPrefix("Task: ") { lines.removeFirst() }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func statusText(_ agents: [AgentStatus], template: ReportTemplate?, since: Date?) -> String {
        var text = "# Team status\n\n"
        let period = since.map { " since \(Handoff.formatTime($0))" } ?? ""
        guard !agents.isEmpty else {
            return text + "No handoff reports\(period). Sub-agents' reports are kept when `handoffs: true` is set "
                + "in .ctxmem.yaml (`ctxmem init --handoffs`).\n"
        }
        text +=
            "The latest report of each of \(agents.count) agent\(agents.count == 1 ? "" : "s")\(period), "
            + (template.map { "in the reporting format of \($0.handle)" } ?? "in ctxmem's default format")
            + "; read_memory (or `ctxmem read`) gives a whole report.\n"
        for agent in agents {
            text += "\n"
            if let template {
                text += template.heading(of: agent) + "\n"
            } else {
                text += "### \(agent.agent), \(agent.time.prefix(10)) \(agent.time.dropFirst(11).prefix(5)) UTC\n"
                if let task = agent.task { text += "- Task: \(Self.oneLine(String(task.prefix(200))))\n" }
            }
            for field in agent.fields { text += "- \(field.name): \(field.value)\n" }
            let more = agent.reports > 1 ? " (the latest of \(agent.reports))" : ""
            text += "- Full report: \(agent.handle)\(more), \(agent.time)\n"
        }
        return text
    }
}

/// A reporting format a project defines: in AGENTS.md, a section whose heading says "report" and
/// "format" (memory/'s "Reporting format"), holding a fenced block whose first heading line is
/// the report's heading and whose `- Name: ...` lines are its fields.
struct ReportTemplate: Sendable, Equatable {
    var handle: String
    /// The heading line, placeholders as written (`### Report: <agent-name> — <work item id>`).
    var headingLine: String
    var fieldNames: [String]

    static func find(in reader: any MemoryReader) throws -> ReportTemplate? {
        for section in try reader.sections(inPaths: ["AGENTS.md"], withBody: true) {
            let title = section.title.lowercased()
            guard title.contains("report"), title.contains("format"), let body = section.body,
                let template = parse(body, handle: section.handle)
            else { continue }
            return template
        }
        return nil
    }

    /// The template in the first fenced block of `body` that has a heading and fields.
    static func parse(_ body: String, handle: String) -> ReportTemplate? {
        var inFence = false
        var heading: String?
        var fields: [String] = []
        for rawLine in body.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") || line.hasPrefix("~~~") {
                if inFence, let heading, !fields.isEmpty {
                    return ReportTemplate(handle: handle, headingLine: heading, fieldNames: fields)
                }
                inFence.toggle()
                heading = nil
                fields = []
                continue
            }
            guard inFence else { continue }
            if line.hasPrefix("#"), heading == nil {
                heading = line
            } else if let name = Self.fieldName(line) {
                fields.append(name)
            }
        }
        return nil
    }

    /// `Status` of `- Status: done | blocked` (also `* **Status**: ...`).
    static func fieldName(_ line: String) -> String? {
        var rest = Substring(line)
        guard let first = rest.first, first == "-" || first == "*" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let name = rest[..<colon].replacingOccurrences(of: "*", with: "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 40 else { return nil }
        return name
    }

    /// The report's value for each field: the text after `Name:` on a line of the report (any
    /// bullet, bold or case), else "not reported".
    func fields(of report: String) -> [MemoryService.Field] {
        fieldNames.map { MemoryService.Field(name: $0, value: Self.value(of: $0, in: report) ?? "not reported") }
    }

    /// The fields of `report` in `template`'s format, or ctxmem's default when the project has none.
    static func fields(of report: String, in template: ReportTemplate?) -> [MemoryService.Field] {
        template?.fields(of: report) ?? defaultFields(of: report)
    }

    /// The report's heading line in the template's shape (the template's fixed words before its
    /// first placeholder), if it has one.
    func ownHeading(in report: String) -> String? {
        let fixed = headingLine.components(separatedBy: "<").first?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !fixed.isEmpty else { return nil }
        return report.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(fixed) }.map { MemoryService.oneLine(String($0.prefix(300))) }
    }

    /// The report's own heading when it has one, else the template's with the agent filled in.
    func heading(of agent: MemoryService.AgentStatus) -> String {
        if let own = agent.heading { return own }
        var line = headingLine
        line = line.replacingOccurrences(of: "<agent-name>", with: agent.agent)
        line = line.replacingOccurrences(of: "<agent>", with: agent.agent)
        // Other placeholders the report did not fill.
        while let open = line.range(of: "<"), let close = line.range(of: ">", range: open.upperBound..<line.endIndex) {
            line.replaceSubrange(open.lowerBound..<close.upperBound, with: "n/a")
        }
        return line
    }

    static func value(of name: String, in report: String) -> String? {
        let wanted = name.lowercased()
        for rawLine in report.split(separator: "\n") {
            var line = Substring(rawLine.trimmingCharacters(in: .whitespaces))
            line = line.drop(while: { $0 == "-" || $0 == "*" || $0 == " " || $0 == ">" })
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].replacingOccurrences(of: "*", with: "").trimmingCharacters(in: .whitespaces)
            guard key.lowercased() == wanted else { continue }
            let value = line[line.index(after: colon)...].replacingOccurrences(of: "**", with: "")
                .trimmingCharacters(in: .whitespaces)
            return value.isEmpty ? nil : MemoryService.oneLine(String(value.prefix(400)))
        }
        return nil
    }

    /// ctxmem's default fields: done, blockers, next steps, each from a `Name:` line or a heading
    /// of that name; what was done falls back to the report's first paragraph.
    static func defaultFields(of report: String) -> [MemoryService.Field] {
        func find(_ names: [String]) -> String? {
            for name in names { if let value = value(of: name, in: report) { return value } }
            return underHeading(names, in: report)
        }
        let done =
            find(["Done", "Summary", "Completed", "Status", "Result"])
            ?? firstParagraph(of: report) ?? "not reported"
        return [
            MemoryService.Field(name: "Done", value: done),
            MemoryService.Field(
                name: "Blockers", value: find(["Blockers", "Blocker", "Blocked on", "Blocked"]) ?? "none reported"),
            MemoryService.Field(
                name: "Next steps", value: find(["Next steps", "Next", "Follow-up", "Todo"]) ?? "none reported"),
        ]
    }

    /// The lines under a heading named like one of `names`, on one line.
    private static func underHeading(_ names: [String], in report: String) -> String? {
        let wanted = Set(names.map { $0.lowercased() })
        var collecting = false
        var collected: [String] = []
        for rawLine in report.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                if collecting { break }
                let title = line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces).lowercased()
                collecting = wanted.contains(title)
                continue
            }
            if collecting, !line.isEmpty {
                collected.append(String(line.drop(while: { $0 == "-" || $0 == "*" || $0 == " " })))
            }
        }
        guard !collected.isEmpty else { return nil }
        return MemoryService.oneLine(String(collected.joined(separator: "; ").prefix(400)))
    }

    private static func firstParagraph(of report: String) -> String? {
        let paragraph = report.components(separatedBy: "\n\n").first {
            let trimmed = $0.trimmingCharacters(in: .whitespacesAndNewlines)
            return !trimmed.isEmpty && !trimmed.hasPrefix("#")
        }
        return paragraph.map { MemoryService.oneLine(String($0.prefix(300))) }
    }
}
