public import Foundation

/// What Claude Code sends a hook (docs/claude-code.md, "Hooks"): the fields ctxmem reads of the
/// events it handles; anything else is ignored.
public struct ClaudeCodeHookInput: Decodable, Sendable {
    public var hookEventName: String
    public var sessionID: String?
    public var cwd: String?
    public var transcriptPath: String?
    /// `SubagentStart`: the agent's type (a custom agent's `name`, or a built-in such as `Explore`).
    public var agentType: String?
    public var agentID: String?
    /// `PreToolUse`: the tool (`Agent`, `Task` before v2.1.63) and its input.
    public var toolName: String?
    public var toolInput: [String: JSONValue]?
    /// `SessionStart`: startup, resume, clear, compact (or fork).
    public var source: String?
    /// `SubagentStop`: "the text content of the subagent's final response" (its report).
    public var lastAssistantMessage: String?
    /// `SubagentStop`: the sub-agent's own transcript, in the session's `subagents/` folder.
    public var agentTranscriptPath: String?

    enum CodingKeys: String, CodingKey {
        case hookEventName = "hook_event_name"
        case sessionID = "session_id"
        case cwd
        case transcriptPath = "transcript_path"
        case agentType = "agent_type"
        case agentID = "agent_id"
        case toolName = "tool_name"
        case toolInput = "tool_input"
        case source
        case lastAssistantMessage = "last_assistant_message"
        case agentTranscriptPath = "agent_transcript_path"
    }
}

/// What a hook run gives back: the JSON for stdout (nil: print nothing) and one line for stderr
/// (nil: none). The exit code is always 0: a hook of ctxmem never stops Claude Code.
public struct HookAnswer: Sendable, Equatable {
    public var output: String?
    public var note: String?
    /// The injected context alone (for tests and `ctxmem hook --text`).
    public var context: String?
    /// A handoff record this run wrote (relative to the root): the caller indexes it, each face
    /// its own way (``MemoryService/indexHandoffs()``, a server's index coordinator).
    public var wroteHandoff: String?

    public init(output: String? = nil, note: String? = nil, context: String? = nil, wroteHandoff: String? = nil) {
        self.output = output
        self.note = note
        self.context = context
        self.wroteHandoff = wroteHandoff
    }
}

/// Claude Code's hooks, answered (`ctxmem hook`, `POST /v1/hooks/claude-code`):
/// - `PreToolUse` on the delegation tool records the prompt for the sub-agent it starts;
/// - `SubagentStart` injects a pack for the agent and the recorded task (or its role), at most
///   ``contextLimit`` characters, as `hookSpecificOutput.additionalContext`;
/// - `SubagentStop` keeps the sub-agent's report as a handoff record, when `handoffs` is on;
/// - `SessionStart` with source `compact` injects what compaction dropped and Claude Code does
///   not reload itself: the nested CLAUDE.md files and path-scoped rules of the files the session
///   worked on, and the session's handoffs so far.
/// Everything fails open: an error gives no context (or, for an agent that starts without
/// CLAUDE.md, the fallback written at index time) and one line on stderr.
extension MemoryService {
    /// Claude Code's cap on injected hook context; past it Claude gets a file path and a preview.
    /// Counted in UTF-16 code units, as JavaScript counts a string's length (never fewer than characters).
    public static let hookContextLimit = 10_000
    /// The largest hook input read (a PreToolUse prompt is at most a few kilobytes).
    public static let hookInputLimit = 1 << 20

    /// Where hook state lives: beside the index, never in it.
    var hookFolder: URL { URL(fileURLWithPath: databasePath).deletingLastPathComponent() }
    public var delegations: DelegationLog { DelegationLog(folder: hookFolder.appendingPathComponent("delegations")) }

    /// Answers one hook input. Never throws: every failure becomes a note.
    public func answerHook(_ data: Data, now: Date = Date()) -> HookAnswer {
        let input: ClaudeCodeHookInput
        do {
            guard !data.isEmpty else { return HookAnswer(note: "ctxmem hook: no input on stdin; nothing to do") }
            input = try JSONDecoder().decode(ClaudeCodeHookInput.self, from: data)
        } catch {
            return HookAnswer(note: "ctxmem hook: the input is not Claude Code hook JSON (\(Self.brief(error)))")
        }
        switch input.hookEventName {
        case "PreToolUse": return recordDelegation(input, now: now)
        case "SubagentStart": return startSubagent(input, now: now)
        case "SubagentStop": return stopSubagent(input, now: now)
        case "SessionStart": return startSession(input)
        default: return HookAnswer(note: "ctxmem hook: \(input.hookEventName) is not an event ctxmem answers")
        }
    }

    /// Whether answering this input may build a pack (`SubagentStart`, `SessionStart`): a server
    /// runs those on its pack queue, which refuses work past its bound; recording a delegation or a
    /// report is a small write that must not be refused, or a report would be lost.
    public static func hookMayPack(_ data: Data) -> Bool {
        struct Event: Decodable {
            var name: String?
            enum CodingKeys: String, CodingKey { case name = "hook_event_name" }
        }
        guard let event = (try? JSONDecoder().decode(Event.self, from: data))?.name else { return true }
        return event != "SubagentStop" && event != "PreToolUse"
    }

    // MARK: - Events

    private func recordDelegation(_ input: ClaudeCodeHookInput, now: Date) -> HookAnswer {
        guard input.toolName == "Agent" || input.toolName == "Task" else {
            return HookAnswer(note: "ctxmem hook: PreToolUse of \(input.toolName ?? "no tool") is not a delegation")
        }
        guard let session = input.sessionID, let type = input.toolInput?["subagent_type"]?.stringValue,
            let prompt = input.toolInput?["prompt"]?.stringValue
        else {
            return HookAnswer(note: "ctxmem hook: the delegation has no session, subagent_type or prompt to record")
        }
        do {
            let scanner = (try? configuration().secrets.scanner) ?? SecretScanner()
            try delegations.record(prompt: scanner.redact(prompt).text, session: session, agentType: type, now: now)
            return HookAnswer()
        } catch {
            return HookAnswer(note: "ctxmem hook: cannot record the delegation: \(Self.brief(error))")
        }
    }

    private func startSubagent(_ input: ClaudeCodeHookInput, now: Date) -> HookAnswer {
        guard let type = input.agentType, !type.isEmpty else {
            return HookAnswer(note: "ctxmem hook: SubagentStart without agent_type; nothing injected")
        }
        let task = input.sessionID.flatMap { delegations.take(session: $0, agentType: type, now: now) }
        if let task, let session = input.sessionID, let agentID = input.agentID {
            delegations.keep(task: task, session: session, agentID: agentID)
        }
        do {
            let context: String
            do {
                context = try hookContext(agent: type, task: task)
            } catch PackError.unknownAgent(_, _) {
                // A built-in or plugin agent: the task alone still says what is relevant.
                guard let task else {
                    return HookAnswer(note: "ctxmem hook: no agent named '\(type)' in .claude/agents; nothing injected")
                }
                context = try hookContext(agent: nil, task: task)
            }
            return Self.answer(event: "SubagentStart", context: context)
        } catch {
            let note = "ctxmem hook: no pack for \(type): \(Self.brief(error))"
            guard let fallback = hookFallback(agent: type) else { return HookAnswer(note: note) }
            var answer = Self.answer(event: "SubagentStart", context: fallback)
            answer.note = note + " (sent its pinned essentials from the last index)"
            return answer
        }
    }

    private func stopSubagent(_ input: ClaudeCodeHookInput, now: Date) -> HookAnswer {
        do {
            guard try configuration().handoffs.enabled else { return HookAnswer() }  // off: nothing to do
        } catch {
            return HookAnswer(note: "ctxmem hook: no handoff kept: \(Self.brief(error))")
        }
        guard let type = input.agentType, !type.isEmpty else {
            return HookAnswer(note: "ctxmem hook: SubagentStop without agent_type; no handoff kept")
        }
        guard let report = input.lastAssistantMessage, !report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            return HookAnswer(note: "ctxmem hook: \(type) stopped without a final message; no handoff kept")
        }
        let task = input.sessionID.flatMap { session in
            input.agentID.flatMap { delegations.startedTask(session: session, agentID: $0) }
        }
        do {
            let written = try recordHandoff(
                report: report, agentType: type, agentID: input.agentID, session: input.sessionID, task: task, now: now)
            let note = written.cutFromBytes.map {
                "ctxmem hook: \(type)'s report was cut from \($0) bytes to fit handoffs.max_report_bytes (\(written.path))"
            }
            return HookAnswer(note: note, wroteHandoff: written.path)
        } catch {
            return HookAnswer(note: "ctxmem hook: no handoff kept for \(type): \(Self.brief(error))")
        }
    }

    private func startSession(_ input: ClaudeCodeHookInput) -> HookAnswer {
        guard input.source == "compact" else { return HookAnswer() }  // Claude Code loads the rest itself
        // The session's handoffs first (short), then the memory of the files it touched in what is left.
        var notes: [String] = []
        var handoffs: String?
        if let session = input.sessionID {
            do { handoffs = try sessionHandoffs(session: session) } catch {
                notes.append("no handoffs restored: \(Self.brief(error))")
            }
        }
        var restored: String?
        if let transcript = input.transcriptPath {
            do {
                let touched = try TranscriptFiles.paths(in: URL(fileURLWithPath: transcript), relativeTo: root)
                restored = try compactionContext(
                    touched: touched, limit: Self.hookContextLimit - (handoffs.map { $0.utf16.count + 2 } ?? 0))
            } catch {
                notes.append("nothing restored after compaction: \(Self.brief(error))")
            }
        } else {
            notes.append("SessionStart without transcript_path; no files' memory to restore")
        }
        let note = notes.isEmpty ? nil : "ctxmem hook: " + notes.joined(separator: "; ")
        let context = [restored, handoffs].compactMap { $0 }.joined(separator: "\n")
        guard !context.isEmpty else { return HookAnswer(note: note) }
        var answer = Self.answer(event: "SessionStart", context: context)
        answer.note = note
        return answer
    }

    /// The handoffs sub-agents of `session` left so far, as handles with one line each, newest
    /// first, within ``sessionHandoffLimit`` characters; nil when there are none.
    func sessionHandoffs(session: String) throws -> String? {
        try reading { reader in
            let records = try Self.handoffs(in: reader).filter { $0.session == session }
            guard !records.isEmpty else { return nil }
            let template = try ReportTemplate.find(in: reader)
            var text =
                "# Handoffs of this session\n\nctxmem: the reports sub-agents of this session left before compaction, "
                + "newest first; read_memory gives one whole.\n\n"
            for (index, record) in records.enumerated() {
                let report = Self.reportText(
                    try reader.sections(inPaths: [record.path], withBody: true).map { $0.body ?? "" })
                let fields = ReportTemplate.fields(of: report, in: template)
                let summary = fields.first { $0.value != "not reported" }.map { "\($0.name): \($0.value)" } ?? ""
                let line =
                    "- \(MemoryHandle.make(path: record.path, slug: "")) (\(record.agentType), "
                    + "\(Handoff.formatTime(record.time))): \(String(summary.prefix(160)))\n"
                guard text.utf16.count + line.utf16.count <= Self.sessionHandoffLimit - 80 else {
                    text += "- … and \(records.count - index) older (`ctxmem handoffs list`, search_memory).\n"
                    break
                }
                text += line
            }
            return text
        }
    }

    /// The most of a compaction's context the session's handoffs take (the rest is for the files' memory).
    static let sessionHandoffLimit = 3_000

    // MARK: - Context

    /// A pack for `agent` and `task` as a hook injects it: pinned essentials first, then what bears
    /// most on the task, then handles, within ``hookContextLimit`` characters and the tokens of the
    /// budget that gives.
    public func hookContext(agent: String?, task: String?) throws -> String {
        var budget = Self.hookStartBudget
        for _ in 0..<4 {
            var request = PackRequest(
                agent: agent, task: task, budget: budget, format: .markdown, trimEssentials: true, mode: .auto)
            request.delivery = .hookContext
            let text = try pack(request).text
            let length = text.utf16.count
            if length <= Self.hookContextLimit { return text }
            // Over: shrink by the overrun, aiming a little under (the next length is an estimate).
            let next = budget * (Self.hookContextLimit * 19 / 20) / length
            guard next >= PackRequest.budgetRange.lowerBound, next < budget else { break }
            budget = next
        }
        throw PackError.invalidBudget(budget)
    }

    /// The first budget a hook packs with: Markdown memory runs 3.5 to 4 characters a token by the
    /// estimator, so 2,700 tokens usually render within 10,000 characters in one pack (each pack is
    /// most of a hook's time; a second is made only when the first overruns).
    static let hookStartBudget = 2_700

    /// The nested memory and path-scoped rules of the files a session worked on, which compaction
    /// drops and Claude Code reloads only when they are read again: their text while it fits, then handles.
    func compactionContext(touched: Set<String>, limit: Int = hookContextLimit) throws -> String? {
        guard !touched.isEmpty else { return nil }
        let reader = try storage.reader()
        let wanted: [String] = try reader.snapshot {
            var paths: Set<String> = []
            for document in try reader.documents(kind: .claudeMD)
            where !DocumentKind.rootMemoryPaths.contains(document.path) {
                let folder = (document.path as NSString).deletingLastPathComponent + "/"
                if touched.contains(where: { $0.hasPrefix(folder) }) { paths.insert(document.path) }
            }
            for document in try reader.documents(kind: .rule) {
                guard let value = document.frontmatter?["paths"] else { continue }
                let globs = (value.arrayValue ?? [value]).compactMap(\.stringValue).map(Glob.init)
                if touched.contains(where: { file in globs.contains { $0.matches(file) } }) {
                    paths.insert(document.path)
                }
            }
            return paths.sorted()
        }
        guard !wanted.isEmpty else { return nil }
        let sections = try reader.snapshot { try reader.sections(inPaths: wanted, withBody: true) }
            .sorted { ($0.path, $0.ordinal) < ($1.path, $1.ordinal) }
        return Self.sectionsWithinLimit(
            header: "# Project memory restored after compaction\n\nctxmem: the nested CLAUDE.md files and path-scoped "
                + "rules of the files this session worked on, which compaction dropped (Claude Code reloads the "
                + "root CLAUDE.md and the unconditional rules itself). read_memory gives any handle's full text.\n",
            sections: sections, handlesHeading: "Also restored, by handle", limit: limit)
    }

    // MARK: - Fallback

    /// Where the fallback context of an agent that starts without CLAUDE.md is kept.
    func hookFallbackURL(agent: String) -> URL {
        hookFolder.appendingPathComponent("hook-fallback").appendingPathComponent(
            ContentHash(agent).hex + ".md")
    }

    /// The fallback written at the last index for `agent`, if any.
    func hookFallback(agent: String) -> String? {
        (try? Data(contentsOf: hookFallbackURL(agent: agent))).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes, for every agent whose definition sets `omitClaudeMd: true`, its pinned sections as
    /// a hook would inject them, so that when a later hook cannot pack (index locked, damaged,
    /// gone) the agent still starts with what it must keep rather than with no project memory.
    /// No ranking: one read of the essential tier serves every agent, and a file is rewritten only
    /// when its text changed (an index run that touched one file stays fast).
    public func writeHookFallbacks() throws {
        let reader = try storage.reader()
        // Most projects have no such agent: their definitions alone say so, before the essential tier is read.
        let omitting = try reader.documents(kind: .agent).compactMap {
            AgentProfile.parse(path: $0.path, frontmatter: $0.frontmatter).profile
        }.filter(\.omitClaudeMd)
        guard !omitting.isEmpty else { return }
        let builder = try packBuilderParts().builder(reading: reader)
        for profile in omitting {
            let pinned = PackBuilder.inPackOrder(try builder.essentials(for: profile).pinned)
            let text = Self.fallbackContext(agent: profile.name, pinned: pinned.map(\.record))
            let url = hookFallbackURL(agent: profile.name)
            if hookFallback(agent: profile.name) == text { continue }
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        }
    }

    /// The pinned sections' text while it fits in ``hookContextLimit``, then their handles.
    static func fallbackContext(agent: String, pinned: [SectionRecord]) -> String {
        sectionsWithinLimit(
            header: "# Project memory for the \(agent) agent\n\nctxmem, from the last index (the hook could not pack "
                + "just now): the sections every pack for this agent holds. The search_memory and read_memory "
                + "tools of the ctxmem MCP server give the rest of the memory.\n",
            sections: pinned, handlesHeading: "Also pinned, by handle")
    }

    /// `header`, then the sections' text under their files' paths while it fits in
    /// ``hookContextLimit`` (keeping room for the list), then the handles of the rest while they fit.
    static func sectionsWithinLimit(
        header: String, sections: [SectionRecord], handlesHeading: String, limit: Int = hookContextLimit
    ) -> String {
        var text = header
        var handles: [String] = []
        var currentPath = ""
        for section in sections {
            var piece = section.path == currentPath ? "" : "\n## \(section.path)\n\n"
            piece += (section.body ?? "").trimmingCharacters(in: .newlines) + "\n"
            if handles.isEmpty, text.utf16.count + piece.utf16.count <= limit - 1_500 {
                text += piece
                currentPath = section.path
            } else {
                handles.append(section.handle)
            }
        }
        guard !handles.isEmpty else { return text }
        text += "\n## \(handlesHeading)\n\n"
        for (index, handle) in handles.enumerated() {
            let line = "- \(handle)\n"
            guard text.utf16.count + line.utf16.count <= limit - 80 else {
                text += "- … and \(handles.count - index) more (search_memory finds them).\n"
                break
            }
            text += line
        }
        return text
    }

    // MARK: - Output

    /// Claude Code's hook output with `context` as the event's `additionalContext`.
    static func answer(event: String, context: String) -> HookAnswer {
        struct Output: Encodable {
            struct Specific: Encodable {
                var hookEventName: String
                var additionalContext: String
            }
            var hookSpecificOutput: Specific
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data =
            (try? encoder.encode(Output(hookSpecificOutput: .init(hookEventName: event, additionalContext: context))))
            ?? Data()
        return HookAnswer(output: String(decoding: data, as: UTF8.self), note: nil, context: context)
    }

    /// An error in one line.
    static func brief(_ error: any Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}
