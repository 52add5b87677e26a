import ArgumentParser
import ContextMemory
import ContextMemoryServer
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve packs, search, audit and memory over HTTP, keeping the index in step with the files.",
        discussion: """
            Indexes the root, then answers on http://HOST:PORT (loopback by default). Open that address in a
            browser for the web console: each agent's budget and overhead, packs as treemaps, search, the
            audit (docs/console.md; --no-console turns it off). Routes:
              POST /v1/packs            {"agent", "task", "budget", "format": "json|markdown|xml", "explain"}
              GET  /v1/search?q=...     &limit &tier &path &kind
              GET  /v1/audit            &rule=ID (repeatable) &format=json|sarif
              GET  /v1/agents
              GET  /v1/memory?handle=memory://PATH%23slug   &references=true &line=N
              GET  /v1/status           &since=2d
              POST /v1/hooks/claude-code   a Claude Code HTTP hook
              POST /v1/index            re-index now (?rebuild=true starts over)
              GET  /healthz             index generation, last indexed, watcher lag and heartbeat, last error
              GET  /metrics             Prometheus text
            Errors are JSON: {"error": {"code": "...", "message": "..."}}. Schemas/openapi.yaml describes
            every route. With --token, every route but /healthz and the console's files requires \
            `Authorization: Bearer TOKEN` (the console asks for it once per tab).

            Slow and numerous clients: a request's line and headers must arrive within --header-timeout \
            and its body within --body-timeout, or it is answered 408 and closed; an idle keep-alive \
            connection is closed after --idle-timeout. At --max-connections the idle or slow connection \
            nearest its timeout makes room for the new one (logged). At most --pack-workers \
            packs are built at once and --pack-queue wait; past that POST /v1/packs is answered 503 \
            {"error": {"code": "overloaded"}} with Retry-After: 1. docs/service.md lists every limit.

            SIGTERM or Ctrl-C stops accepting connections, answers the requests in flight and exits 0.

            Examples:
              ctxmem serve --root memory
              curl -s localhost:8377/v1/search?q=VPC+peering
              curl -s -X POST localhost:8377/v1/packs -d '{"agent": "backend-manager", "task": "add the VPC peering API"}'
              ctxmem serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
            """
    )

    @OptionGroup var location: LocationOptions

    @Option(help: ArgumentHelp("Address to listen on (default loopback only).", valueName: "host"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("Port to listen on (0: any free port, printed at start).", valueName: "port"))
    var port = ServerConfiguration.defaultPort

    @Option(
        help: ArgumentHelp(
            "Require `Authorization: Bearer TOKEN` on every route but /healthz (default: the CTXMEM_TOKEN variable).",
            valueName: "token"))
    var token: String?

    @Option(
        help: ArgumentHelp(
            "Seconds a client has to send a request's line and headers, from its first byte (a new connection's from its opening).",
            valueName: "seconds"))
    var headerTimeout = 10.0

    @Option(
        help: ArgumentHelp(
            "Seconds a client has to send a request's body once its headers are in.", valueName: "seconds"))
    var bodyTimeout = 30.0

    @Flag(help: "Do not serve the web console at / (the API is unchanged).")
    var noConsole = false

    @Option(help: ArgumentHelp("Seconds an idle keep-alive connection is kept between requests.", valueName: "seconds"))
    var idleTimeout = 60.0

    @Option(
        help: ArgumentHelp(
            "Most connections open at once (default: 1,024, or the descriptor limit less \(ServerConfiguration.reservedDescriptors) if lower: \(ServerConfiguration.defaultMaxConnections()) here).",
            valueName: "count"))
    var maxConnections: Int?

    @Option(
        help: ArgumentHelp(
            "Packs built at once (default: the cores, \(ProcessInfo.processInfo.activeProcessorCount) here).",
            valueName: "count"))
    var packWorkers: Int?

    @Option(
        help: ArgumentHelp(
            "Pack requests that may wait for a worker; more are answered 503 overloaded (default: 8 per core, \(8 * ProcessInfo.processInfo.activeProcessorCount) here).",
            valueName: "count"))
    var packQueue: Int?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        for (name, seconds) in [
            ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout),
        ] {
            guard seconds >= 0.1, seconds <= 3600 else {
                throw ValidationError("\(name) must be between 0.1 and 3600 seconds, not \(seconds)")
            }
        }
        if let maxConnections, maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let packWorkers, packWorkers < 1 { throw ValidationError("--pack-workers must be at least 1") }
        if let packQueue, packQueue < 0 { throw ValidationError("--pack-queue must be 0 or more") }
        if let token {
            try Self.validate(token: token, source: "--token")
        } else if let token = ProcessInfo.processInfo.environment["CTXMEM_TOKEN"], !token.isEmpty {
            try Self.validate(token: token, source: "CTXMEM_TOKEN")
        }
    }

    /// A token a client can send as written: 8 or more visible ASCII characters. Spaces and control
    /// characters are refused because HTTP trims or forbids them in headers, so such a token would
    /// match a header other than the one configured.
    static func validate(token: String, source: String) throws {
        guard token.count >= 8 else { throw ValidationError("\(source) must have at least 8 characters") }
        guard token.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw ValidationError(
                "\(source) must be visible ASCII characters only (no spaces, tabs or control characters)")
        }
    }

    func run() async throws {
        let service = location.service(readerConnections: ProcessInfo.processInfo.activeProcessorCount)
        let token = token ?? ProcessInfo.processInfo.environment["CTXMEM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let isLoopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        if !isLoopback && token == nil {
            Terminal.standardError(
                "ctxmem: warning: serving on \(host) without --token: anyone who can reach it can read the memory")
        }
        let coordinator = IndexCoordinator(service: service)
        let report = try await coordinator.refresh()
        Terminal.standardError(
            "ctxmem: indexed \(report.documents) documents of \(service.root.path) (generation \(report.generation))")
        let watcher = MemoryWatcher(coordinator: coordinator)
        var logger = Logger(label: "ctxmem.serve")
        logger.logLevel =
            ProcessInfo.processInfo.environment["CTXMEM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var configuration = ServerConfiguration(
            host: host, port: port, token: token,
            headerTimeout: .milliseconds(Int64(headerTimeout * 1000)),
            bodyTimeout: .milliseconds(Int64(bodyTimeout * 1000)),
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            maxConnections: maxConnections ?? ServerConfiguration.defaultMaxConnections(),
            packWorkers: packWorkers ?? cores, packQueue: packQueue ?? 8 * cores)
        configuration.console = !noConsole
        if let maxConnections, let limit = ServerConfiguration.descriptorLimit(),
            maxConnections > limit - ServerConfiguration.reservedDescriptors
        {
            Terminal.standardError(
                """
                ctxmem: warning: --max-connections \(maxConnections) leaves fewer than \(ServerConfiguration.reservedDescriptors) of the \
                \(limit) descriptors (ulimit -n) for the index and the listener: raise ulimit -n or lower --max-connections
                """)
        }
        let api = HTTPAPI(
            coordinator: coordinator, configuration: configuration, watcherState: { await watcher.state() },
            logger: logger)
        let console = configuration.console
        let app = api.application { channel in
            let port = channel.localAddress?.port ?? port
            Terminal.standardError(
                "ctxmem: serving on http://\(host):\(port)"
                    + (console ? " (open it in a browser for the console; " : " (")
                    + "Ctrl-C or SIGTERM to stop)")
        }
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}
