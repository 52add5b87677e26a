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
        guard let key = line.requestKey else {
            requests += 1
            outputTokens += line.output
            return
        }
        if let counted = recent.output(of: key) {
            if line.output > counted {
                outputTokens += line.output - counted
                recent.update(key, output: line.output)
            }
        } else {
            requests += 1
            outputTokens += line.output
            recent.insert(key, output: line.output)
        }
    }

    /// Whether a model id names the 1M-token context window (`claude-opus-4-6[1m]`).
    static func saysOneMillion(_ model: String) -> Bool {
        model.lowercased().contains("[1m]")
    }

    /// Forgets the remembered requests (the transcript is done).
    mutating func finish() {
        recent = RecentRequests()
    }
}

/// The request ids seen last, with the output tokens counted for each: a ring of ``capacity``.
struct RecentRequests {
    static let capacity = 512
    private var outputs: [UInt64: Int] = [:]
    private var ring: [UInt64] = []
    private var next = 0

    func output(of key: UInt64) -> Int? { outputs[key] }

    mutating func update(_ key: UInt64, output: Int) { outputs[key] = output }

    mutating func insert(_ key: UInt64, output: Int) {
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
