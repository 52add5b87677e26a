/// How much context each agent of each Claude Code session used: what `ctxmem usage` prints
/// (``TranscriptUsage/scan(projectFolder:options:)`` makes it).
///
/// JSON (`ctxmem usage --json`), keys sorted:
///
/// ```json
/// {"projectFolder": "/home/u/.claude/projects/-home-u-app", "threshold": 0.8,
///  "totals": {"files": 3, "bytes": 81234, "lines": 420, "requests": 57, "compactions": 1,
///             "skipped": 350, "malformed": 2, "tooLong": 0, "unreadable": []},
///  "sessions": [{"id": "5f0c..", "modified": "2026-12-05T10:22:31Z", "agents": [
///    {"id": "main", "kind": "main", "requests": 40, "peakContext": 171000, "window": 200000,
///     "windowSource": "default", "peakShare": 0.855, "overThreshold": true, "compactions": 1,
///     "outputTokens": 9000, "model": "claude-opus-4-5", "transcript": ".."},
///    {"id": "a1b2c3", "kind": "subagent", "agentType": "qa-manager", ..}]}]}
/// ```
public struct UsageReport: Codable, Sendable, Equatable {
    /// The folder of the project's transcripts (`<claude dir>/projects/<encoded project path>`).
    public var projectFolder: String
    /// The share of the window over which an agent is marked (0.8).
    public var threshold: Double
    /// Newest first (by the main transcript's modification time).
    public var sessions: [SessionUsage]
    public var totals: Totals

    public init(projectFolder: String, threshold: Double, sessions: [SessionUsage], totals: Totals) {
        self.projectFolder = projectFolder
        self.threshold = threshold
        self.sessions = sessions
        self.totals = totals
    }

    /// What was read: files, bytes and lines, and how many lines counted, were skipped or broken.
    public struct Totals: Codable, Sendable, Equatable {
        /// Transcript files read.
        public var files = 0
        public var bytes = 0
        /// Non-blank lines.
        public var lines = 0
        /// Requests counted (a response written as several lines counts once).
        public var requests = 0
        public var compactions = 0
        /// Well-formed lines that say nothing about usage: user lines and tool results, summaries,
        /// snapshots, attachments, other system lines, unknown types.
        public var skipped = 0
        /// Lines that are not a JSON object, or that look like usage and do not parse.
        public var malformed = 0
        /// Lines over 64 MiB, skipped unread.
        public var tooLong = 0
        /// Transcripts that could not be read, with the reason (`path: reason`).
        public var unreadable: [String] = []

        public init() {}
    }
}

/// One Claude Code session: its main agent first, then its sub-agents.
public struct SessionUsage: Codable, Sendable, Equatable {
    /// The session id (the main transcript's name).
    public var id: String
    /// The main transcript's modification time (ISO 8601, UTC).
    public var modified: String?
    public var agents: [AgentUsage]

    public init(id: String, modified: String?, agents: [AgentUsage]) {
        self.id = id
        self.modified = modified
        self.agents = agents
    }
}

/// One agent's context use over its transcript.
public struct AgentUsage: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case main
        case subagent
    }

    /// Where the window came from.
    public enum WindowSource: String, Codable, Sendable {
        /// 200,000 tokens: no sign of a larger one.
        case `default`
        /// The model id says 1M (`[1m]`).
        case model
        /// A request's context was over 200,000 tokens, so the window must be 1M.
        case inferred
        /// `--window`.
        case option
    }

    /// `main`, or the sub-agent's id.
    public var id: String
    public var kind: Kind
    /// The sub-agent's type (`agent-<id>.meta.json`, else the Agent tool's result); nil for the main
    /// agent and when neither says.
    public var agentType: String?
    /// The model of the request with the peak context.
    public var model: String?
    public var requests: Int
    /// The largest context of one request: input + cache read + cache creation tokens.
    public var peakContext: Int
    public var window: Int
    public var windowSource: WindowSource
    /// peakContext / window.
    public var peakShare: Double
    /// Whether peakShare is over the report's threshold.
    public var overThreshold: Bool
    public var compactions: Int
    public var outputTokens: Int
    /// The transcript the agent's requests came from.
    public var transcript: String?

    public init(
        id: String, kind: Kind, agentType: String?, model: String?, requests: Int, peakContext: Int, window: Int,
        windowSource: WindowSource, peakShare: Double, overThreshold: Bool, compactions: Int, outputTokens: Int,
        transcript: String?
    ) {
        self.id = id
        self.kind = kind
        self.agentType = agentType
        self.model = model
        self.requests = requests
        self.peakContext = peakContext
        self.window = window
        self.windowSource = windowSource
        self.peakShare = peakShare
        self.overThreshold = overThreshold
        self.compactions = compactions
        self.outputTokens = outputTokens
        self.transcript = transcript
    }
}
