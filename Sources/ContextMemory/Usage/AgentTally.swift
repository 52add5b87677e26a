/// One agent's requests, peak context, compactions and output tokens while its transcript is read.
///
/// Claude Code writes one API response as several lines (one per content block) that share the
/// request id and repeat its usage, so a request is counted once, and its output tokens are the
/// largest count any of its lines gives (streaming can write a partial count first). The lines of a
/// response are written together, so only the last ``RecentRequests/capacity`` requests are
/// remembered: memory stays flat however long the transcript.
struct AgentTally {
    var requests = 0
    var peakContext = 0
    var peakModel: String?
    var lastModel: String?
    /// A model id (or the Agent tool's `resolvedModel`) said `[1m]`: the 1M-token window.
    var oneMillionModel = false
    var compactions = 0
    var outputTokens = 0
    var transcript: String?
    private var recent = RecentRequests()

    mutating func add(_ line: TranscriptLine) {
        if let model = line.model {
            lastModel = model
            if Self.saysOneMillion(model) { oneMillionModel = true }
        }
        if line.context > peakContext || peakModel == nil {
            peakContext = max(peakContext, line.context)
            if let model = line.model { peakModel = model }
        }
        let keys = (line.requestKey, line.messageKey)
        guard keys.0 != nil || keys.1 != nil else {
            requests += 1
            outputTokens += line.output
            return
        }
        // A line of a response already counted, known by either id (some lines lack `requestId`).
        let counted = keys.0.flatMap(recent.output(of:)) ?? keys.1.flatMap(recent.output(of:))
        let output = max(counted ?? 0, line.output)
        if let counted {
            outputTokens += output - counted
        } else {
            requests += 1
            outputTokens += output
        }
        if let key = keys.0 { recent.set(key, output: output) }
        if let key = keys.1 { recent.set(key, output: output) }
    }

    /// Whether a model id names the 1M-token context window: `[1m]` in the id (Claude Code's
    /// `sonnet[1m]`, `claude-opus-4-6[1m]`), or a model whose window is 1M natively
    /// (``nativeOneMillion``, with or without a date suffix).
    static func saysOneMillion(_ model: String) -> Bool {
        let id = model.lowercased()
        if id.contains("[1m]") { return true }
        if nativeOneMillion.contains(id) { return true }
        // A dated snapshot: claude-sonnet-5-20260630.
        if let dash = id.lastIndex(of: "-"), id[id.index(after: dash)...].count == 8,
            id[id.index(after: dash)...].allSatisfy(\.isNumber)
        {
            return nativeOneMillion.contains(String(id[..<dash]))
        }
        return false
    }

    /// Models with a 1M-token window without `[1m]`, as far as a source says so: Claude Sonnet 5
    /// ("a native 1M-token context window", Claude Code v2.1.197's release notes). Others show as
    /// inferred once a request passes 200K tokens.
    static let nativeOneMillion: Set<String> = ["claude-sonnet-5"]

    /// Forgets the remembered requests (the transcript is done).
    mutating func finish() {
        recent = RecentRequests()
    }
}

/// The request and message ids seen last, with the output tokens counted for each: a ring of
/// ``capacity`` ids (two per request when a line has both).
struct RecentRequests {
    static let capacity = 1024
    private var outputs: [UInt64: Int] = [:]
    private var ring: [UInt64] = []
    private var next = 0

    func output(of key: UInt64) -> Int? { outputs[key] }

    /// Records the output counted for a request id, remembering it when it is new.
    mutating func set(_ key: UInt64, output: Int) {
        if outputs[key] != nil {
            outputs[key] = output
            return
        }
        if ring.count < Self.capacity {
            ring.append(key)
        } else {
            outputs[ring[next]] = nil
            ring[next] = key
            next = (next + 1) % Self.capacity
        }
        outputs[key] = output
    }
}
