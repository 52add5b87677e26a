public import Foundation

/// Context use of Claude Code sessions, read from their transcripts: per session and per agent,
/// requests, the peak context of one request, its share of the window, compactions and output
/// tokens (docs/claude-code.md, "Context use").
///
/// Claude Code keeps a project's transcripts in `<claude dir>/projects/<encoded project path>/`:
/// `<session id>.jsonl` for each session's main agent and `<session id>/subagents/agent-<agent
/// id>.jsonl` for its sub-agents (beside `agent-<agent id>.meta.json`, which names the agent's
/// type); versions before the `subagents/` folder wrote `agent-<agent id>.jsonl` beside the
/// sessions, and put sub-agent lines (`"isSidechain": true`) in the main transcript. All three are
/// read.
///
///     let folder = TranscriptUsage.projectFolder(
///         claudeDirectory: TranscriptUsage.claudeDirectory(), project: URL(fileURLWithPath: "."))
///     let report = try TranscriptUsage.scan(projectFolder: folder)
///
/// Every file is streamed (``LineReader``) and only the lines that matter are parsed
/// (``TranscriptLine``): memory stays flat whatever the size of the transcripts. Malformed and
/// unknown lines are counted and skipped, never fatal; so are unreadable files.
public enum TranscriptUsage {
    /// The window of a model with no sign of a larger one.
    public static let defaultWindow = 200_000
    /// The window of a model whose id says `[1m]`, or of one that held more than 200,000 tokens.
    public static let extendedWindow = 1_000_000
    /// The share of the window over which an agent stands out.
    public static let threshold = 0.8

    public struct Options: Sendable {
        /// Only sessions whose id starts with this.
        public var session: String?
        /// The window every agent is measured against, instead of the model's.
        public var window: Int?

        public init(session: String? = nil, window: Int? = nil) {
            self.session = session
            self.window = window
        }
    }

    /// Claude Code's configuration folder: `$CLAUDE_CONFIG_DIR` when set, else `~/.claude`.
    public static func claudeDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let configured = environment["CLAUDE_CONFIG_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".claude")
    }

    /// The name of a project's transcript folder: the absolute path with every UTF-16 code unit
    /// that is not an ASCII letter or digit replaced by `-` (`/home/u/my.proj` is
    /// `-home-u-my-proj`).
    public static func projectFolderName(for absolutePath: String) -> String {
        let units = absolutePath.utf16.map { unit -> UInt16 in
            switch unit {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: unit
            default: 0x2D
            }
        }
        return String(decoding: units, as: UTF16.self)
    }

    /// The transcript folder of `project` under `claudeDirectory`. The project's path is made
    /// absolute and its symbolic links resolved, as Claude Code sees its working directory.
    public static func projectFolder(claudeDirectory: URL, project: URL) -> URL {
        let path = project.standardizedFileURL.resolvingSymlinksInPath().path
        return claudeDirectory.appendingPathComponent("projects").appendingPathComponent(projectFolderName(for: path))
    }

    /// Reads every transcript in `projectFolder`.
    ///
    /// - Throws: ``UsageError/noProjectFolder(_:)`` when the folder does not exist or is not a folder.
    public static func scan(projectFolder: URL, options: Options = Options()) throws -> UsageReport {
        let folder = projectFolder.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError.noProjectFolder(folder)
        }
        var scanner = Scanner(window: options.window)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        let transcripts = names.filter { $0.hasSuffix(".jsonl") }
        // Older versions: sub-agents beside the sessions; their lines name the session.
        var legacy: [String: [Scanner.Legacy]] = [:]
        for name in transcripts where name.hasPrefix("agent-") {
            let path = projectFolder.appendingPathComponent(name).path
            let agentId = String(name.dropFirst("agent-".count).dropLast(".jsonl".count))
            if var agent = scanner.legacyAgent(path: path) {
                agent.id = agentId
                legacy[agent.session ?? "", default: []].append(agent)
            }
        }
        var sessions: [(modified: Date, usage: SessionUsage)] = []
        var ids = Set(transcripts.filter { !$0.hasPrefix("agent-") }.map { String($0.dropLast(".jsonl".count)) })
        ids.formUnion(legacy.keys.filter { !$0.isEmpty })
        for id in ids.sorted() {
            if let prefix = options.session, !id.hasPrefix(prefix) { continue }
            let main = projectFolder.appendingPathComponent(id + ".jsonl")
            let subagents = projectFolder.appendingPathComponent(id).appendingPathComponent("subagents")
            var session = scanner.session(main: main, subagents: subagents, legacy: legacy[id] ?? [])
            session.usage.id = id
            sessions.append(session)
        }
        sessions.sort { $0.modified != $1.modified ? $0.modified > $1.modified : $0.usage.id < $1.usage.id }
        return UsageReport(
            projectFolder: folder, threshold: threshold, sessions: sessions.map(\.usage), totals: scanner.totals)
    }

    /// Reads transcripts into tallies, counting every line.
    private struct Scanner {
        let window: Int?
        var totals = UsageReport.Totals()

        init(window: Int?) { self.window = window }

        /// What one transcript holds: requests and compactions by agent ("" for the file's own agent,
        /// else the `agentId` of a sidechain line), and the sub-agents that Agent tool results name.
        struct FileResult {
            var tallies: [String: AgentTally] = [:]
            var agentTypes: [String: String] = [:]
            var oneMillionAgents: Set<String> = []
            var sessionId: String?
            /// What the file held, line by line (added to ``totals`` when its session is reported).
            var counts = UsageReport.Totals()
        }

        mutating func add(_ counts: UsageReport.Totals) {
            totals.files += counts.files
            totals.bytes += counts.bytes
            totals.lines += counts.lines
            totals.requests += counts.requests
            totals.compactions += counts.compactions
            totals.skipped += counts.skipped
            totals.malformed += counts.malformed
            totals.tooLong += counts.tooLong
        }

        /// Reads one transcript. `sidechains`: attribute sidechain lines to their agent (a main
        /// transcript of an older version) rather than to the file's own agent.
        mutating func read(_ path: String, sidechains: Bool) -> FileResult? {
            var result = FileResult()
            result.tallies[""] = AgentTally()
            var counts = UsageReport.Totals()
            do {
                let read = try LineReader.forEachLine(path: path) { bytes in
                    let line = TranscriptLine(bytes)
                    if line.kind != .blank { counts.lines += 1 }
                    switch line.kind {
                    case .request:
                        let key = sidechains && line.isSidechain ? (line.agentId ?? "sidechain") : ""
                        result.tallies[key, default: AgentTally()].add(line)
                        if result.sessionId == nil { result.sessionId = line.sessionId }
                    case .compaction:
                        let key = sidechains && line.isSidechain ? (line.agentId ?? "sidechain") : ""
                        result.tallies[key, default: AgentTally()].compactions += 1
                        counts.compactions += 1
                    case .agentResult:
                        counts.skipped += 1
                        if let agent = line.resultAgentId {
                            if let type = line.resultAgentType { result.agentTypes[agent] = type }
                            if let model = line.resultModel, AgentTally.saysOneMillion(model) {
                                result.oneMillionAgents.insert(agent)
                            }
                        }
                    case .other: counts.skipped += 1
                    case .malformed: counts.malformed += 1
                    case .blank: break
                    }
                }
                counts.bytes = read.bytes
                counts.tooLong = read.tooLong
            } catch {
                totals.unreadable.append("\(path): \(error)")
                return nil
            }
            for key in result.tallies.keys {
                result.tallies[key]?.finish()
                result.tallies[key]?.transcript = path
                counts.requests += result.tallies[key]?.requests ?? 0
            }
            counts.files = 1
            result.counts = counts
            return result
        }

        mutating func legacyAgent(path: String) -> Legacy? {
            guard let result = read(path, sidechains: false) else { return nil }
            return Legacy(tally: result.tallies[""] ?? AgentTally(), counts: result.counts, session: result.sessionId)
        }

        /// A sub-agent transcript beside the sessions (older versions): counted only with its session.
        struct Legacy {
            var id = ""
            var tally: AgentTally
            var counts: UsageReport.Totals
            var session: String?
        }

        mutating func session(main: URL, subagents: URL, legacy: [Legacy]) -> (modified: Date, usage: SessionUsage) {
            var modified = Date.distantPast
            var tallies: [String: AgentTally] = [:]
            var types: [String: String] = [:]
            var oneMillion: Set<String> = []
            if let date = Self.modified(main.path) {
                modified = date
                if let result = read(main.path, sidechains: true) {
                    add(result.counts)
                    tallies = result.tallies
                    types = result.agentTypes
                    oneMillion = result.oneMillionAgents
                }
            }
            for agent in legacy where tallies[agent.id] == nil {
                add(agent.counts)
                tallies[agent.id] = agent.tally
                if let date = Self.modified(agent.tally.transcript ?? ""), modified == .distantPast { modified = date }
            }
            for file in Self.subagentTranscripts(in: subagents) {
                let name = file.lastPathComponent
                let id = String(name.dropFirst("agent-".count).dropLast(".jsonl".count))
                guard let result = read(file.path, sidechains: false) else { continue }
                add(result.counts)
                if let type = Self.metaAgentType(file) { types[id] = type }
                for (agent, type) in result.agentTypes where types[agent] == nil { types[agent] = type }
                oneMillion.formUnion(result.oneMillionAgents)
                let own = result.tallies[""] ?? AgentTally()
                if var earlier = tallies[id], earlier.requests > 0 {
                    // Sidechain lines of the main transcript and this file: the larger account.
                    if own.requests > earlier.requests { earlier = own }
                    tallies[id] = earlier
                } else {
                    tallies[id] = own
                }
            }
            var agents: [AgentUsage] = []
            if let main = tallies[""] {
                agents.append(usage(id: "main", kind: .main, type: nil, tally: main, oneMillion: false))
            }
            for id in tallies.keys.sorted() where !id.isEmpty {
                let tally = tallies[id]!
                agents.append(
                    usage(id: id, kind: .subagent, type: types[id], tally: tally, oneMillion: oneMillion.contains(id)))
            }
            let stamp = modified == .distantPast ? nil : ISO8601DateFormatter().string(from: modified)
            return (modified, SessionUsage(id: "", modified: stamp, agents: agents))
        }

        private func usage(
            id: String, kind: AgentUsage.Kind, type: String?, tally: AgentTally, oneMillion: Bool
        ) -> AgentUsage {
            let window: Int
            let source: AgentUsage.WindowSource
            if let forced = self.window {
                (window, source) = (forced, .option)
            } else if oneMillion || tally.oneMillionModel {
                (window, source) = (TranscriptUsage.extendedWindow, .model)
            } else if tally.peakContext > TranscriptUsage.defaultWindow {
                (window, source) = (TranscriptUsage.extendedWindow, .inferred)
            } else {
                (window, source) = (TranscriptUsage.defaultWindow, .default)
            }
            let share = window > 0 ? Double(tally.peakContext) / Double(window) : 0
            return AgentUsage(
                id: id, kind: kind, agentType: type, model: tally.peakModel ?? tally.lastModel,
                requests: tally.requests, peakContext: tally.peakContext, window: window, windowSource: source,
                peakShare: (share * 1000).rounded() / 1000, overThreshold: share > TranscriptUsage.threshold,
                compactions: tally.compactions, outputTokens: tally.outputTokens, transcript: tally.transcript)
        }

        static func modified(_ path: String) -> Date? {
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
            return Date(
                timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
        }

        /// `agent-*.jsonl` under a session's `subagents/` folder, at any depth (workflow steps are in
        /// `workflows/wf_<id>/`), by path.
        static func subagentTranscripts(in folder: URL) -> [URL] {
            guard
                let walker = FileManager.default.enumerator(
                    at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            else { return [] }
            var found: [URL] = []
            for case let file as URL in walker {
                let name = file.lastPathComponent
                guard name.hasPrefix("agent-"), name.hasSuffix(".jsonl"),
                    (try? file.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true
                else { continue }
                found.append(file)
            }
            return found.sorted { $0.path < $1.path }
        }

        /// `agentType` of the `agent-<id>.meta.json` beside a sub-agent's transcript.
        static func metaAgentType(_ transcript: URL) -> String? {
            let meta = transcript.deletingPathExtension().appendingPathExtension("meta.json")
            guard let data = try? BoundedRead.contents(of: meta, limit: 64 * 1024),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let type = object["agentType"] as? String, !type.isEmpty
            else { return nil }
            return type.count > JSONCursor.textLimit ? String(type.prefix(JSONCursor.textLimit)) + "…" : type
        }
    }
}

/// Why `ctxmem usage` found nothing to read.
public enum UsageError: Error, CustomStringConvertible, Equatable {
    /// The project's transcript folder does not exist (Claude Code never ran there, or it ran with
    /// another configuration folder or from another path).
    case noProjectFolder(String)

    public var description: String {
        switch self {
        case .noProjectFolder(let folder):
            "no Claude Code transcripts at \(folder) (the folder does not exist); pass --project with the folder "
                + "Claude Code ran in, or --claude-dir with its configuration folder (default: $CLAUDE_CONFIG_DIR, else ~/.claude)"
        }
    }
}
