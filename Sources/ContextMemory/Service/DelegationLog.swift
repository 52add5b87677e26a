public import Foundation

/// The delegation prompts `PreToolUse` sees on Claude Code's delegation tool, kept briefly so that
/// the `SubagentStart` that follows can pack for the task (its own input has no prompt).
///
/// One file per delegation in `<index folder>/delegations/`, never in the index: written whole and
/// renamed into place, taken by renaming it away (so twenty sub-agents starting at once each take
/// a different one), oldest first for the same session and agent type. Prompts are redacted before
/// they are written, and files older than ``lifetime`` are deleted whenever one is written or read.
public struct DelegationLog: Sendable {
    public let folder: URL
    /// How long a recorded prompt waits for its sub-agent.
    public static let lifetime: TimeInterval = 600
    /// Longer prompts are cut: ranking reads the first words, and the task limit is 4,000 characters.
    static let maxPromptLength = PackRequest.maxTaskLength

    public init(folder: URL) {
        self.folder = folder
    }

    /// Records `prompt` for the next `agentType` sub-agent of `session`.
    public func record(prompt: String, session: String, agentType: String, now: Date = Date()) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        prune(now: now)
        let name =
            "\(Self.key(session: session, agentType: agentType))-\(String(Int64(now.timeIntervalSince1970 * 1e9)))"
            + "-\(UUID().uuidString.prefix(8)).task"
        let temporary = folder.appendingPathComponent(".\(name).tmp")
        try Data(String(prompt.unicodeScalars.prefix(Self.maxPromptLength)).utf8).write(to: temporary)
        try FileManager.default.moveItem(at: temporary, to: folder.appendingPathComponent(name))
    }

    /// The oldest prompt recorded for `agentType` in `session` within ``lifetime``, removed; nil when none.
    public func take(session: String, agentType: String, now: Date = Date()) -> String? {
        prune(now: now)
        let prefix = Self.key(session: session, agentType: agentType) + "-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        for name in names.filter({ $0.hasPrefix(prefix) && $0.hasSuffix(".task") }).sorted() {
            // Renaming claims it: of hooks racing for one file, one rename succeeds.
            let claimed = folder.appendingPathComponent(".\(name).\(UUID().uuidString.prefix(8)).taken")
            guard (try? FileManager.default.moveItem(at: folder.appendingPathComponent(name), to: claimed)) != nil
            else { continue }
            defer { try? FileManager.default.removeItem(at: claimed) }
            if let data = try? Data(contentsOf: claimed) { return String(decoding: data, as: UTF8.self) }
        }
        return nil
    }

    /// How long the task of a started sub-agent is kept for its `SubagentStop` (sub-agents can work for hours).
    public static let startedLifetime: TimeInterval = 24 * 3600

    /// Keeps the task a sub-agent started with, for the handoff record its `SubagentStop` writes.
    public func keep(task: String, session: String, agentID: String) {
        let url = folder.appendingPathComponent(Self.key(session: session, agentType: agentID) + ".started")
        try? Data(task.utf8).write(to: url, options: .atomic)
    }

    /// The task kept for this sub-agent by ``keep(task:session:agentID:)``, if any (kept: an agent
    /// woken again stops again).
    public func startedTask(session: String, agentID: String) -> String? {
        let url = folder.appendingPathComponent(Self.key(session: session, agentType: agentID) + ".started")
        return (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Deletes what is older than ``lifetime``: a recorded prompt by the time in its name, a
    /// stray (a write or a take cut short) by its file time; a started agent's task after
    /// ``startedLifetime``.
    private func prune(now: Date) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names {
            let url = folder.appendingPathComponent(name)
            let recorded =
                name.hasSuffix(".task")
                ? name.split(separator: "-").dropFirst().first.flatMap { Double($0) }.map {
                    Date(timeIntervalSince1970: $0 / 1e9)
                }
                : (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date)
            let lifetime = name.hasSuffix(".started") ? Self.startedLifetime : Self.lifetime
            if let recorded, now.timeIntervalSince(recorded) > lifetime {
                try? FileManager.default.removeItem(at: url)
            }
        }
    }

    /// A file-name-safe key of a session and agent type (both come from Claude Code's input).
    static func key(session: String, agentType: String) -> String {
        ContentHash("\(session)\u{1}\(agentType)").hex
    }
}
