import ContextMemory
import Foundation
public import Logging
public import MCP

/// `ctxmem mcp`: the tools context_pack, search_memory, read_memory, audit_references and status_digest over an
/// MCP transport (stdio), each result within a cap in tokens and bytes.
public struct MCPFace: Sendable {
    public struct Limits: Sendable {
        /// Claude Code warns above 10,000 tokens and cuts a tool result at MAX_MCP_OUTPUT_TOKENS (25,000 by default).
        public var maxTokens: Int = 10_000
        public var maxBytes: Int = 256 * 1024

        public init(maxTokens: Int = 10_000, maxBytes: Int = 256 * 1024) {
            self.maxTokens = maxTokens
            self.maxBytes = maxBytes
        }
    }

    public let coordinator: IndexCoordinator
    public let limits: Limits
    private let logger: Logger

    public init(coordinator: IndexCoordinator, limits: Limits = Limits(), logger: Logger = Logger(label: "ctxmem.mcp"))
    {
        self.coordinator = coordinator
        self.limits = limits
        self.logger = logger
    }

    var service: MemoryService { coordinator.service }

    /// Serves until the transport's input ends, then answers every request still in flight.
    public func run(transport: any Transport) async throws {
        let counting = AnsweringTransport(base: transport, logger: logger)
        let server = Server(
            name: "ctxmem", version: Release.version,
            instructions: """
                Project memory of \(service.root.lastPathComponent): call context_pack first (with your agent name and task) \
                for what to start with; search_memory and read_memory for more (handles are memory://PATH#slug); \
                audit_references for broken imports and links.
                """,
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { parameters in
            await self.call(parameters)
        }
        try await server.start(transport: counting)
        await server.waitUntilCompleted()
        // The receive loop ends at EOF while handlers may still run: answer them before leaving.
        await counting.waitUntilAnswered()
        await server.stop()
    }

    // MARK: - Tools

    static let tools: [Tool] = [
        Tool(
            name: "context_pack",
            description:
                "What a new agent should start with: the project's essential memory, the detail relevant to the agent's role and task, and memory:// pointers to the rest, never over the token budget.",
            inputSchema: schema(
                properties: [
                    "agent": [
                        "type": "string",
                        "description": "The agent's name from .claude/agents (omit for a generic pack).",
                    ],
                    "task": [
                        "type": "string", "maxLength": .int(PackRequest.maxTaskLength),
                        "description": "What the agent is asked to do.",
                    ],
                    "budget": [
                        "type": "integer", "minimum": .int(PackRequest.budgetRange.lowerBound),
                        "description": "Token budget; capped at the server's result limit.",
                    ],
                    "format": ["type": "string", "enum": ["markdown", "xml", "json"], "default": "markdown"],
                    "mode": [
                        "type": "string", "enum": ["auto", "replace", "supplement"], "default": "auto",
                        "description":
                            "supplement leaves out what Claude Code loads itself (CLAUDE.md, its imports, unconditional rules); replace includes it; auto follows the agent's omitClaudeMd.",
                    ],
                ], required: [])),
        Tool(
            name: "search_memory",
            description:
                "Search project memory: sections best first, each with path, lines, heading path, tier, snippet and a memory:// handle for read_memory.",
            inputSchema: schema(
                properties: [
                    "query": [
                        "type": "string", "minLength": 1, "maxLength": .int(SearchQuery.maxLength),
                        "description": .string(
                            "Words (all must match), \"phrases\", OR, -exclusion, prefix*; at most \(SearchQuery.maxTerms) terms."
                        ),
                    ],
                    "limit": ["type": "integer", "minimum": 1, "maximum": 100, "default": 10],
                    "tier": ["type": "string", "enum": ["essential", "detailed", "operational"]],
                    "path": [
                        "type": "string", "description": "Only files matching this glob, e.g. project_management/**.",
                    ],
                ], required: ["query"])),
        Tool(
            name: "read_memory",
            description: "Read the section or file a memory:// handle names (from context_pack or search_memory).",
            inputSchema: schema(
                properties: [
                    "handle": [
                        "type": "string", "pattern": "^memory://", "description": "memory://PATH or memory://PATH#slug",
                    ]
                ], required: ["handle"])),
        Tool(
            name: "audit_references",
            description:
                "Broken @imports, links and anchors, stale references and orphaned documents in project memory, at file:line:column with suggested fixes.",
            inputSchema: schema(
                properties: [
                    "rules": [
                        "type": "array",
                        "items": ["type": "string", "enum": .array(RuleID.auditRules.map { .string($0.rawValue) })],
                        "description": "Only these rules (default: all).",
                    ]
                ], required: [])),
        Tool(
            name: "status_digest",
            description:
                "The team's status: every agent's latest handoff report (kept when sub-agents stop), merged into one block in the reporting format of the project's AGENTS.md, each with a memory:// handle to the whole report.",
            inputSchema: schema(
                properties: [
                    "since": [
                        "type": "string",
                        "description":
                            "Only reports from then on: an age such as 2d or 12h, or a date such as 2026-12-01.",
                    ]
                ], required: [])),
    ]

    private static func schema(properties: [String: Value], required: [String]) -> Value {
        [
            "type": "object", "properties": .object(properties), "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ]
    }

    func call(_ parameters: CallTool.Parameters) async -> CallTool.Result {
        let arguments = parameters.arguments ?? [:]
        do {
            let text: String
            switch parameters.name {
            case "context_pack": text = try await pack(arguments)
            case "search_memory": text = try await search(arguments)
            case "read_memory": text = try await read(arguments)
            case "audit_references": text = try await audit(arguments)
            case "status_digest": text = try await status(arguments)
            default:
                return CallTool.Result(
                    content: [
                        .text(
                            text:
                                "unknown tool '\(parameters.name)'; tools: context_pack, search_memory, read_memory, audit_references, status_digest",
                            annotations: nil, _meta: nil)
                    ], isError: true)
            }
            return CallTool.Result(content: [.text(text: capped(text), annotations: nil, _meta: nil)], isError: false)
        } catch {
            logger.debug("tool failed", metadata: ["tool": "\(parameters.name)", "error": "\(error)"])
            return CallTool.Result(content: [.text(text: "\(error)", annotations: nil, _meta: nil)], isError: true)
        }
    }

    private func pack(_ arguments: [String: Value]) async throws -> String {
        let format = try PackFormat(rawValue: Self.string(arguments, "format") ?? "markdown")
            .orThrow(ToolError("format must be markdown, xml or json"))
        let requested = try Self.integer(arguments, "budget")
        let agent = try Self.string(arguments, "agent")
        let mode = try PackMode(rawValue: Self.string(arguments, "mode") ?? "auto")
            .orThrow(ToolError("mode must be auto, replace or supplement"))
        try PackRequest(agent: agent, task: try Self.string(arguments, "task"), budget: requested).validate()
        // The pack is the result: its budget is also the cap on what this call returns.
        // Only this agent's profile: `agents()` would compute every agent's essentials to find it.
        var profileBudget: Int?
        if let agent { profileBudget = try await service.budget(forAgent: agent) }
        let wanted = requested ?? profileBudget ?? PackRequest.defaultBudget
        let budget = max(PackRequest.budgetRange.lowerBound, min(wanted, limits.maxTokens))
        // Cut to the server's limit rather than asked for: trim essentials too, rather than fail.
        let pack = try await service.pack(
            PackRequest(
                agent: agent, task: try Self.string(arguments, "task"), budget: budget,
                format: format, trimEssentials: budget < wanted, mode: mode))
        return pack.text
    }

    /// The merged status block as Markdown (the agent reads it; the handles lead to the reports).
    private func status(_ arguments: [String: Value]) async throws -> String {
        var since: Date?
        if let text = try Self.string(arguments, "since") {
            since = try TimeSpan.moment(text).orThrow(ToolError("since must be \(TimeSpan.accepted)"))
        }
        return try await service.status(since: since).text
    }

    private func search(_ arguments: [String: Value]) async throws -> String {
        guard let query = try Self.string(arguments, "query"), !query.isEmpty else {
            throw ToolError("query is required")
        }
        var options = SearchOptions(limit: min(100, max(1, try Self.integer(arguments, "limit") ?? 10)))
        if let tier = try Self.string(arguments, "tier") {
            options.tier = try Tier(rawValue: tier).orThrow(ToolError("tier must be one of \(Tier.choices)"))
        }
        options.pathGlob = try Self.string(arguments, "path").map(Glob.init)
        struct Results: Encodable {
            var query: String
            var results: [SearchHit]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var hits = try await service.search(query, options: options)
        // Fewer results rather than a cut JSON document.
        while true {
            let text = String(decoding: try encoder.encode(Results(query: query, results: hits)), as: UTF8.self)
            if hits.count <= 1 || fits(text) { return text }
            hits.removeLast()
        }
    }

    private func read(_ arguments: [String: Value]) async throws -> String {
        guard let handle = try Self.string(arguments, "handle") else {
            throw ToolError("handle is required (memory://PATH#slug)")
        }
        let result = try await service.read(handle: handle)
        return
            "\(result.handle) (\(result.path):\(result.startLine)-\(result.endLine), \(result.tier.rawValue), \(result.tokens) tokens)\n\n\(result.text)"
    }

    private func audit(_ arguments: [String: Value]) async throws -> String {
        var options = AuditOptions(refreshIndex: false)
        if case .array(let values)? = arguments["rules"] {
            options.rules = try AuditError.rules(values.compactMap(\.stringValue))
        }
        try await coordinator.refresh()
        var report = try await service.audit(options)
        var text = try AuditRenderer.render(report, as: .json)
        // Keep the report valid JSON: drop findings from the end until it fits, and say so.
        let total = report.findings.count
        while !fits(text), !report.findings.isEmpty {
            report.findings.removeLast(max(1, report.findings.count / 4))
            text = try AuditRenderer.render(report, as: .json)
        }
        if report.findings.count < total {
            text =
                "\(total - report.findings.count) of \(total) findings left out to stay within the result limit; ask for fewer rules.\n"
                + text
        }
        return text
    }

    // MARK: - Limits

    private func fits(_ text: String) -> Bool {
        text.utf8.count <= limits.maxBytes && ClaudeTokenEstimator().count(text) <= limits.maxTokens
    }

    /// Cuts text over a limit at a line boundary, with a note that says so.
    func capped(_ text: String) -> String {
        guard !fits(text) else { return text }
        let note =
            "\n\n[ctxmem: result cut at the server's limit (\(limits.maxTokens) tokens, \(limits.maxBytes) bytes); read a narrower section or ask for less]"
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var low = 0
        var high = lines.count
        while low < high {  // the most lines that fit, with the note
            let middle = (low + high + 1) / 2
            if fits(lines[..<middle].joined(separator: "\n") + note) { low = middle } else { high = middle - 1 }
        }
        lines = Array(lines[..<low])
        return lines.joined(separator: "\n") + note
    }

    // MARK: - Arguments

    struct ToolError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func string(_ arguments: [String: Value], _ name: String) throws -> String? {
        guard let value = arguments[name], value != .null else { return nil }
        guard let text = value.stringValue else { throw ToolError("\(name) must be a string") }
        return text
    }

    static func integer(_ arguments: [String: Value], _ name: String) throws -> Int? {
        guard let value = arguments[name], value != .null else { return nil }
        if let number = value.intValue { return number }
        if let number = value.doubleValue, number == number.rounded(), abs(number) < 1e15 { return Int(number) }
        throw ToolError("\(name) must be a whole number")
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> some Error) throws -> Wrapped {
        guard let self else { throw error() }
        return self
    }
}

/// Passes messages through and keeps the ids of requests not yet answered, so the server can
/// answer everything in flight after its input ends (the SDK's receive loop ends first).
///
/// It also gives an error reply to a message whose id could not be read the id JSON-RPC 2.0
/// requires, `null` ("If there was an error in detecting the id in the Request object (e.g.
/// Parse error/Invalid Request), it MUST be Null"). The SDK (0.12) sends a random id there, which
/// a client cannot match and might take for the answer to a request of its own. The ids the
/// client did send are known here, so an error reply to any other id is rewritten to `null`.
actor AnsweringTransport: Transport {
    nonisolated let logger: Logger
    private let base: any Transport
    /// Ids the client sent and that have no reply yet, with how many times each is pending (a
    /// client may reuse an id).
    private var unanswered: [String: Int] = [:]
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(base: any Transport, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    func connect() async throws { try await base.connect() }
    func disconnect() async { await base.disconnect() }

    func send(_ data: Data) async throws {
        let (data, replied) = Self.repliesWithKnownIDs(data, known: { self.unanswered[$0] != nil })
        try await base.send(data)
        for id in replied {
            if let count = unanswered[id], count > 1 { unanswered[id] = count - 1 } else { unanswered[id] = nil }
        }
        if unanswered.isEmpty { resumeWaiters() }
    }

    func receive() -> AsyncThrowingStream<Data, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self, throwing: (any Error).self)
        let task = Task {
            do {
                for try await data in await base.receive() {
                    self.noteRequests(in: data)
                    continuation.yield(data)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func noteRequests(in data: Data) {
        for id in Self.requestIDs(in: data) { unanswered[id, default: 0] += 1 }
    }

    /// Returns when every request received so far has its response sent.
    func waitUntilAnswered() async {
        guard !unanswered.isEmpty else { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func resumeWaiters() {
        let ready = waiters
        waiters = []
        for waiter in ready { waiter.resume() }
    }

    /// An id as a key, for the ids the SDK can echo (strings and integers, its `ID`, read as it
    /// reads them); nil for others (`null`, fractions, booleans), which it never answers with.
    static func key(of id: Value?) -> String? {
        switch id {
        case .string(let text)?: "s:" + text
        case .int(let number)?: "n:\(number)"
        default: nil
        }
    }

    private static func messages(_ data: Data) -> (messages: [[String: Value]], batch: Bool)? {
        switch try? JSONDecoder().decode(Value.self, from: data) {
        case .object(let message)?: ([message], false)
        case .array(let items)?: (items.compactMap(\.objectValue), true)
        default: nil
        }
    }

    /// Ids the SDK will answer: of the requests in a message or batch, and of a single message
    /// that is no response (it answers an invalid one with the id it finds in it).
    static func requestIDs(in data: Data) -> [String] {
        guard let (messages, batch) = messages(data) else { return [] }
        return messages.compactMap { message in
            let answered = message["method"] != nil || (!batch && message["result"] == nil && message["error"] == nil)
            return answered ? key(of: message["id"]) : nil
        }
    }

    /// `data` with the id of every error reply to an id the client never sent set to `null`, and
    /// the ids of the replies it carries.
    static func repliesWithKnownIDs(_ data: Data, known: (String) -> Bool) -> (Data, [String]) {
        guard case (var messages, let batch)? = messages(data) else { return (data, []) }
        var replied: [String] = []
        var rewritten = false
        for index in messages.indices where messages[index]["method"] == nil {
            if let id = key(of: messages[index]["id"]), known(id) {
                replied.append(id)
            } else if messages[index]["error"] != nil, let id = messages[index]["id"], id != .null {
                messages[index]["id"] = .null
                rewritten = true
            }
        }
        guard rewritten else { return (data, replied) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let value: Value = batch ? .array(messages.map { .object($0) }) : .object(messages[0])
        return ((try? encoder.encode(value)) ?? data, replied)
    }
}
