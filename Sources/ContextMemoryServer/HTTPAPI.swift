import ContextMemory
import Foundation
import HTTPTypes
public import Hummingbird
public import Logging

/// The HTTP API over ``MemoryService``: routes parse the request, call the facade, format the
/// answer. Schemas/openapi.yaml describes every route; a test checks real responses against it.
public struct HTTPAPI: Sendable {
    public let coordinator: IndexCoordinator
    public let configuration: ServerConfiguration
    public let metrics: RequestMetrics
    /// The watcher's state for `/healthz` and `/metrics`, when one runs.
    public let watcherState: @Sendable () async -> WatcherState?
    /// The open connections, for the connection limit and `/metrics`.
    public let connections: ConnectionRegistry
    /// Where packs wait for a worker (``ServerConfiguration/packWorkers``, ``ServerConfiguration/packQueue``).
    let packQueue: WorkQueue
    let logger: Logger

    /// - Parameter logger: where the connection guards and the connection limit log (the limit
    ///   at warning, each slow client at info).
    public init(
        coordinator: IndexCoordinator, configuration: ServerConfiguration, metrics: RequestMetrics = RequestMetrics(),
        watcherState: @escaping @Sendable () async -> WatcherState? = { nil },
        logger: Logger = Logger(label: "ctxmem.serve")
    ) {
        self.coordinator = coordinator
        self.configuration = configuration
        self.metrics = metrics
        self.watcherState = watcherState
        self.logger = logger
        connections = ConnectionRegistry(maxConnections: configuration.maxConnections, logger: logger, metrics: metrics)
        packQueue = WorkQueue(workers: configuration.packWorkers, capacity: configuration.packQueue)
    }

    var service: MemoryService { coordinator.service }

    /// Every route and the method it takes (other methods get 405, not 404).
    static let routes: [String: HTTPRequest.Method] = [
        "/healthz": .get, "/metrics": .get, "/v1/packs": .post, "/v1/search": .get, "/v1/audit": .get,
        "/v1/agents": .get, "/v1/memory": .get, "/v1/index": .post, "/v1/hooks/claude-code": .post,
        "/v1/status": .get, "/": .get, "/console.css": .get, "/console.js": .get,
    ]

    /// The router with every route and the error, metrics and authentication middleware.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(ErrorAndMetricsMiddleware(metrics: metrics))
        if let token = configuration.token { router.middlewares.add(BearerTokenMiddleware(token: token)) }
        router.middlewares.add(LimitsMiddleware(maxQueryStringBytes: configuration.maxQueryStringBytes))
        router.middlewares.add(MethodMiddleware(routes: Self.routes))

        router.get("/healthz") { _, _ in try await self.health() }
        if configuration.console {
            for (path, asset) in ConsoleAssets.byPath {
                router.get(RouterPath(path)) { _, _ in
                    Response(
                        status: .ok, headers: ConsoleAssets.headers(for: asset),
                        body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
                }
            }
        }
        router.get("/metrics") { _, _ in
            let queue = self.packQueue.load
            let load = RequestMetrics.Load(
                connections: self.connections.count, maxConnections: self.connections.maxConnections,
                packsRunning: queue.running, packsWaiting: queue.waiting, packsRefused: queue.refused)
            return JSONBody.text(
                self.metrics.render(
                    index: await self.coordinator.state(), watcher: await self.watcherState(), load: load),
                contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.post("/v1/packs") { request, context in try await self.pack(request, context) }
        router.get("/v1/search") { request, _ in try await self.search(request) }
        router.get("/v1/audit") { request, _ in try await self.audit(request) }
        router.get("/v1/agents") { _, _ in JSONBody.response(try await self.service.agents()) }
        router.get("/v1/memory") { request, _ in try await self.read(request) }
        router.get("/v1/status") { request, _ in try await self.status(request) }
        router.post("/v1/hooks/claude-code") { request, _ in try await self.hook(request) }
        router.post("/v1/index") { request, _ in
            let rebuild = try Self.flag(request, "rebuild")
            return JSONBody.response(try await self.coordinator.refresh(rebuild: rebuild))
        }
        return router
    }

    // MARK: - Routes

    private func health() async throws -> Response {
        struct Health: Encodable {
            var status: String
            var version = Release.version
            var root: String
            var index: IndexState
            var watcher: WatcherState?
        }
        let index = await coordinator.state()
        let watcher = await watcherState()
        let healthy = index.lastIndexedAt != nil && (watcher?.running ?? true) && index.overdueSeconds == nil
        return JSONBody.response(
            Health(status: healthy ? "ok" : "degraded", root: service.root.path, index: index, watcher: watcher))
    }

    private struct PackBody: Decodable {
        var agent: String?
        var task: String?
        var budget: Int?
        var format: String?
        var trimEssentials: Bool?
        var mode: String?
        var explain: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case agent, task, budget, format, trimEssentials, mode, explain
        }

        init() {}

        /// Refuses `null` as it refuses any other wrong type, as Schemas/openapi.yaml says: a field is
        /// its type or absent. Accepting `"agent": null` as "no agent" would turn a client's unfilled
        /// variable into a generic pack, a plausible answer to a question nobody asked.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            for key in CodingKeys.allCases where container.contains(key) {
                if try container.decodeNil(forKey: key) {
                    throw APIError.badRequest(
                        "invalid_json",
                        "\(key.stringValue) must not be null: give a value or leave the field out for the default")
                }
            }
            agent = try container.decodeIfPresent(String.self, forKey: .agent)
            task = try container.decodeIfPresent(String.self, forKey: .task)
            budget = try container.decodeIfPresent(Int.self, forKey: .budget)
            format = try container.decodeIfPresent(String.self, forKey: .format)
            trimEssentials = try container.decodeIfPresent(Bool.self, forKey: .trimEssentials)
            mode = try container.decodeIfPresent(String.self, forKey: .mode)
            explain = try container.decodeIfPresent(Bool.self, forKey: .explain)
        }
    }

    private func pack(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: configuration.maxBodyBytes)
        let body: PackBody
        do {
            body =
                bytes.readableBytes == 0
                ? PackBody() : try JSONDecoder().decode(PackBody.self, from: Data(buffer: bytes))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.badRequest(
                "invalid_json",
                "the body must be a JSON object {agent?, task?, budget?, format?, trimEssentials?, mode?, explain?}: \(Self.describe(error))"
            )
        }
        let formatName = body.format ?? "json"
        guard let format = PackFormat(rawValue: formatName) else {
            throw APIError.badRequest(
                "invalid_format", "format must be one of \(PackFormat.choices), not '\(formatName)'")
        }
        let modeName = body.mode ?? PackMode.auto.rawValue
        guard let mode = PackMode(rawValue: modeName) else {
            throw APIError.badRequest("invalid_mode", "mode must be one of \(PackMode.choices), not '\(modeName)'")
        }
        let packRequest = PackRequest(
            agent: body.agent, task: body.task, budget: body.budget, format: format,
            trimEssentials: body.trimEssentials ?? false, mode: mode)
        try packRequest.validate()  // before it waits in the pack queue
        let service = service
        // Bounded: past the queue's capacity this throws WorkQueue.Full, a 503 with Retry-After. The
        // queue's own threads run the pack (the synchronous entry point): the async one would run
        // it on a reader's connection thread, without a bound on how many wait.
        let pack = try await packQueue.run { try service.pack(packRequest) }
        metrics.recordPack(tokens: pack.manifest.tokens)
        var response =
            body.explain == true
            ? JSONBody.response(ExplainedPack(pack: pack.text, explanation: pack.explanation))
            : JSONBody.text(pack.text, contentType: Self.contentType(of: format))
        response.headers[HTTPField.Name("Ctxmem-Pack-Id")!] = pack.manifest.packId
        response.headers[HTTPField.Name("Ctxmem-Tokens")!] = String(pack.manifest.tokens)
        return response
    }

    /// `explain: true`: the pack as a string, byte for byte what it is without, and every
    /// candidate's decision (`ctxmem pack --explain`).
    private struct ExplainedPack: Encodable {
        var pack: String
        var explanation: [PackDecision]
    }

    private static func contentType(of format: PackFormat) -> String {
        switch format {
        case .json: "application/json; charset=utf-8"
        case .markdown: "text/markdown; charset=utf-8"
        case .xml: "application/xml; charset=utf-8"
        }
    }

    /// A Claude Code HTTP hook: the same input and answer as `ctxmem hook`, without a process start.
    /// It fails open like the command: whatever goes wrong, Claude Code gets 200 and `{}` (no
    /// context), and the reason is logged; a full pack queue is one such reason.
    private func hook(_ request: Request) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: MemoryService.hookInputLimit)
        let data = Data(buffer: bytes)
        let service = service
        let answer: HookAnswer
        do {
            answer =
                MemoryService.hookMayPack(data)
                ? try await packQueue.run { service.answerHook(data) } : service.answerHook(data)
        } catch {
            answer = HookAnswer(note: "ctxmem hook: \(error)")
        }
        if let note = answer.note { logger.info("\(note)") }
        if answer.wroteHandoff != nil {
            // Through the coordinator, which runs one refresh after another (and the watcher's).
            do { try await coordinator.refresh() } catch {
                logger.info("ctxmem hook: handoff not indexed yet: \(error)")
            }
        }
        return JSONBody.text(answer.output ?? "{}", contentType: "application/json")
    }

    private func search(_ request: Request) async throws -> Response {
        let parameters = FormQuery(request.uri.query)
        guard let query = parameters.get("q"), !query.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.badRequest(
                "missing_parameter", "q is required: the search query (words, \"phrases\", OR, -exclusion, prefix*)")
        }
        // Counted as the core counts (Unicode scalars, JSON Schema's `maxLength`), so the schema and the code agree.
        let length = query.unicodeScalars.count
        guard length <= SearchQuery.maxLength else {
            throw APIError.badRequest(
                "query_too_long",
                "q is \(length) characters; the limit is \(SearchQuery.maxLength) (and \(SearchQuery.maxTerms) terms)")
        }
        var options = SearchOptions(limit: try Self.integer(request, "limit") ?? 10)
        if let tier = parameters.get("tier") {
            guard let value = Tier(rawValue: tier) else {
                throw APIError.badRequest("invalid_parameter", "tier must be one of \(Tier.choices)")
            }
            options.tier = value
        }
        if let kind = parameters.get("kind") {
            guard let value = DocumentKind(rawValue: kind) else {
                throw APIError.badRequest("invalid_parameter", "kind must be one of \(DocumentKind.choices)")
            }
            options.kind = value
        }
        options.pathGlob = parameters.get("path").map(Glob.init)
        return JSONBody.text(
            SearchResultsJSON.encode(query: query, hits: try await service.search(query, options: options)),
            contentType: "application/json; charset=utf-8")
    }

    private func audit(_ request: Request) async throws -> Response {
        let parameters = FormQuery(request.uri.query)
        let formatName = parameters.get("format") ?? "json"
        guard let format = AuditFormat(rawValue: formatName), format != .text else {
            throw APIError.badRequest("invalid_format", "format must be json or sarif, not '\(formatName)'")
        }
        var options = AuditOptions(refreshIndex: false)
        let rules = parameters.getAll("rule")
        // `?rule=` names no rule: refused rather than read as "every rule", which the absent parameter means.
        if rules.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw APIError.badRequest(
                "invalid_rule",
                "rule must name a rule (docs/audit-rules.md), e.g. rule=broken-link; leave it out for every rule")
        }
        if !rules.isEmpty { options.rules = try AuditError.rules(rules) }
        try await coordinator.refresh()
        let report = try await service.audit(options)
        return JSONBody.text(
            try AuditRenderer.render(report, as: format),
            contentType: format == .sarif ? "application/sarif+json" : "application/json; charset=utf-8")
    }

    /// Every agent's latest handoff report, merged (`ctxmem status`); `since` as the CLI takes it.
    private func status(_ request: Request) async throws -> Response {
        var since: Date?
        if let text = FormQuery(request.uri.query).get("since") {
            guard let moment = TimeSpan.moment(text) else {
                throw APIError.badRequest("invalid_parameter", "since must be \(TimeSpan.accepted), not '\(text)'")
            }
            since = moment
        }
        return JSONBody.response(try await service.status(since: since))
    }

    private func read(_ request: Request) async throws -> Response {
        guard let handle = FormQuery(request.uri.query).get("handle"), !handle.isEmpty else {
            throw APIError.badRequest("missing_parameter", "handle is required, e.g. handle=memory://CLAUDE.md%23build")
        }
        let line = try Self.integer(request, "line")
        if let line, line < 1 {
            throw APIError.badRequest("invalid_parameter", "line must be a line number from 1, not \(line)")
        }
        return JSONBody.response(
            try await service.read(handle: handle, line: line, references: try Self.flag(request, "references")))
    }

    // MARK: - Parameters

    static func integer(_ request: Request, _ name: String) throws -> Int? {
        guard let text = FormQuery(request.uri.query).get(name) else { return nil }
        guard let value = Int(text) else {
            throw APIError.badRequest("invalid_parameter", "\(name) must be a whole number, not '\(text)'")
        }
        return value
    }

    static func flag(_ request: Request, _ name: String) throws -> Bool {
        switch FormQuery(request.uri.query).get(name) {
        case nil, "false", "0": false
        case "true", "1": true
        case let other?: throw APIError.badRequest("invalid_parameter", "\(name) must be true or false, not '\(other)'")
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(let type, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) must be \(type == Int.self ? "a whole number" : type == Bool.self ? "true or false" : "a string")"
        case DecodingError.dataCorrupted(let context):
            context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
        case DecodingError.valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")) must not be null"
        default: "\(error)"
        }
    }
}

/// A query string as `application/x-www-form-urlencoded` reads it: `+` is a space, `%XX` a byte
/// (Hummingbird's `queryParameters` leaves `+` alone, so `q=VPC+peering` would search for "VPC+peering").
struct FormQuery {
    private var pairs: [(name: String, value: String)] = []

    init(_ query: String?) {
        for part in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(pieces[0]), pieces.count > 1 ? Self.decode(pieces[1]) : ""))
        }
    }

    func get(_ name: String) -> String? { pairs.first { $0.name == name }?.value }
    func getAll(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

// MARK: - Middleware

/// The path as Hummingbird's trie router matches it: its non-empty parts joined by `/`
/// (`//v1//agents/` is `/v1/agents`). Middleware that decides by path decides on this.
enum RoutedPath {
    static func of(_ path: String) -> String {
        "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}

/// Turns every error into the JSON error body, and records each request's route, status and time.
struct ErrorAndMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            // A refusal under load (503 with Retry-After) is the server working as meant, counted in
            // /metrics; logged as an error it would add a line per refused request, thousands a second.
            if apiError.status.code >= 500, apiError.retryAfter == nil {
                context.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            response = apiError.response()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.record(
            route: context.endpointPath ?? "unmatched", method: request.method.rawValue,
            status: response.status.code, seconds: seconds)
        return response
    }
}

/// A known path asked with another method: 405 with `Allow`, whatever the method (QUERY included).
struct MethodMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [String: HTTPRequest.Method]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let allowed = routes[RoutedPath.of(request.uri.path)], request.method != allowed,
            !(allowed == .get && request.method == .head)
        {
            var response = APIError(
                .methodNotAllowed, code: "method_not_allowed",
                "\(request.uri.path) takes \(allowed.rawValue) only"
            ).response()
            response.headers[.allow] = allowed.rawValue
            return response
        }
        return try await next(request, context)
    }
}

/// Refuses over-long query strings before any route parses them.
struct LimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxQueryStringBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if let query = request.uri.query, query.utf8.count > maxQueryStringBytes {
            throw APIError(
                .uriTooLong, code: "query_too_long",
                "the query string is \(query.utf8.count) bytes; the limit is \(maxQueryStringBytes)")
        }
        return try await next(request, context)
    }
}

/// `Authorization: Bearer <token>` on every request but the ``openPaths`` (probes).
///
/// Decided on the path as the router matches it, not on its spelling: the router splits the path
/// on `/` and drops empty parts, so `//v1/agents` reaches `/v1/agents` and a prefix test on the
/// raw path (the first wave's check) let it through without the token. Here a request is open
/// only when the router's parts are exactly an open path's; anything else, unknown paths,
/// dot segments and percent-encodings included, needs the token. The header must be exactly
/// `Bearer ` and the token: no trimming, so `Bearer TOKEN ` does not match.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: BearerToken

    init(token: String) { self.token = BearerToken(token) }

    /// Liveness probes and the console's static files need no credentials (the console asks for
    /// the token and sends it to the API); everything else does (`/metrics` included).
    static var openPaths: Set<String> { Set(["/healthz"]).union(ConsoleAssets.byPath.keys) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if Self.openPaths.contains(RoutedPath.of(request.uri.path)) { return try await next(request, context) }
        guard token.accepts(authorization: request.headers[.authorization]) else {
            throw APIError(
                .unauthorized, code: "unauthorized",
                "this server requires Authorization: Bearer <token> (ctxmem serve --token)")
        }
        return try await next(request, context)
    }
}

/// The token `serve --token` was given, and the one test of a request's `Authorization` header.
struct BearerToken: Sendable {
    private let expected: [UInt8]

    init(_ token: String) { expected = Array("Bearer \(token)".utf8) }

    /// True when the header is exactly `Bearer ` and the token, byte for byte.
    func accepts(authorization header: String?) -> Bool {
        guard let header else { return false }
        return Self.constantTimeEqual(Array(header.utf8), expected)
    }

    /// Compares without stopping at the first difference, so timing does not reveal the token.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
