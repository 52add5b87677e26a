public import Foundation

/// A sub-agent's report, kept as memory when it stops (Claude Code's `SubagentStop` hook, `ctxmem
/// hook`): one Markdown file per report under the handoff folder, whose frontmatter says who wrote
/// it, when and for what task. ctxmem writes these files and reads them back from the index; the
/// `ctxmem: handoff` key marks the files it wrote (the only ones `ctxmem handoffs prune` deletes).
///
/// ```markdown
/// ---
/// ctxmem: handoff
/// agent_type: backend-manager
/// agent_id: a1b2c3d4e5f6
/// session: 8f2e0c1a-...
/// time: 2026-12-05T10:42:17Z
/// task: "add the VPC peering API"
/// tier: detailed
/// ---
/// # Handoff: backend-manager, 2026-12-05 10:42 UTC
/// ...the report...
/// ```
///
/// The agent is named by `agent_type`, never `agent`: a file whose frontmatter has `agent` is
/// pinned into that agent's every pack, and a report must compete on relevance like other detail.
public struct Handoff: Sendable, Equatable, Codable {
    /// The file, relative to the root.
    public var path: String
    /// The sub-agent's type: a custom agent's `name`, or a built-in such as `Explore`.
    public var agentType: String
    public var agentID: String?
    public var session: String?
    /// When the sub-agent stopped.
    public var time: Date
    /// The delegation prompt, when `PreToolUse` recorded it (redacted, at most 4,000 characters).
    public var task: String?
    /// The report's length in UTF-8 bytes before it was cut; nil when it was kept whole.
    public var cutFromBytes: Int?

    /// The frontmatter value of the `ctxmem` key that marks a handoff record.
    public static let marker = "handoff"

    public init(
        path: String, agentType: String, agentID: String? = nil, session: String? = nil, time: Date,
        task: String? = nil, cutFromBytes: Int? = nil
    ) {
        self.path = path
        self.agentType = agentType
        self.agentID = agentID
        self.session = session
        self.time = time
        self.task = task
        self.cutFromBytes = cutFromBytes
    }

    /// The record a document's frontmatter describes; nil when it is not a handoff ctxmem wrote.
    public static func parse(path: String, frontmatter: [String: JSONValue]?) -> Handoff? {
        guard let frontmatter, frontmatter["ctxmem"]?.stringValue == marker,
            let agentType = frontmatter["agent_type"]?.stringValue, !agentType.isEmpty,
            let timeText = frontmatter["time"]?.stringValue, let time = Self.parseTime(timeText)
        else { return nil }
        return Handoff(
            path: path, agentType: agentType, agentID: frontmatter["agent_id"]?.stringValue,
            session: frontmatter["session"]?.stringValue, time: time, task: frontmatter["task"]?.stringValue,
            cutFromBytes: frontmatter["cut_from_bytes"]?.numberValue.map { Int($0) })
    }

    /// `2026-12-05T10:42:17Z` (YAML reads it as text when quoted; ctxmem quotes it).
    public static func formatTime(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(fields.tm_year) + 1900, Int(fields.tm_mon) + 1,
            Int(fields.tm_mday), Int(fields.tm_hour), Int(fields.tm_min), Int(fields.tm_sec))
    }

    /// Reads what ``formatTime(_:)`` writes (and the same with fractional seconds or an offset).
    public static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions.insert(.withFractionalSeconds)
        return formatter.date(from: text)
    }
}
