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
            Indexes the root, then answers on http://HOST:PORT (loopback by default). Routes:
              POST /v1/packs            {"agent", "task", "budget", "format": "json|markdown|xml"}
              GET  /v1/search?q=...     &limit &tier &path &kind
              GET  /v1/audit            &rule=ID (repeatable) &format=json|sarif
              GET  /v1/agents
              GET  /v1/memory?handle=memory://PATH%23slug
              POST /v1/index            re-index now (?rebuild=true starts over)
              GET  /healthz             index generation, last indexed, watcher lag and heartbeat, last error
              GET  /metrics             Prometheus text
            Errors are JSON: {"error": {"code": "...", "message": "..."}}. Schemas/openapi.yaml describes
            every route. With --token, every route but /healthz requires `Authorization: Bearer TOKEN`.

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

    @Option(help: ArgumentHelp("Require `Authorization: Bearer TOKEN` on every route but /healthz (default: the CTXMEM_TOKEN variable).", valueName: "token"))
    var token: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let token { try Self.validate(token: token, source: "--token") }
        else if let token = ProcessInfo.processInfo.environment["CTXMEM_TOKEN"], !token.isEmpty {
            try Self.validate(token: token, source: "CTXMEM_TOKEN")
        }
    }

    /// A token a client can send as written: 8 or more visible ASCII characters. Spaces and control
    /// characters are refused because HTTP trims or forbids them in headers, so such a token would
    /// match a header other than the one configured.
    static func validate(token: String, source: String) throws {
        guard token.count >= 8 else { throw ValidationError("\(source) must have at least 8 characters") }
        guard token.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw ValidationError("\(source) must be visible ASCII characters only (no spaces, tabs or control characters)")
        }
    }

    func run() async throws {
        let service = location.service(readerConnections: ProcessInfo.processInfo.activeProcessorCount)
        let token = token ?? ProcessInfo.processInfo.environment["CTXMEM_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let isLoopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        if !isLoopback && token == nil {
            Terminal.standardError("ctxmem: warning: serving on \(host) without --token: anyone who can reach it can read the memory")
        }
        let coordinator = IndexCoordinator(service: service)
        do {
            let report = try await coordinator.refresh()
            Terminal.standardError("ctxmem: indexed \(report.documents) documents of \(service.root.path) (generation \(report.generation))")
        } catch {
            throw Failure.exit(error)
        }
        let watcher = MemoryWatcher(coordinator: coordinator)
        let api = HTTPAPI(coordinator: coordinator, configuration: ServerConfiguration(host: host, port: port, token: token),
                          watcherState: { await watcher.state() })
        var logger = Logger(label: "ctxmem.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["CTXMEM_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "ctxmem/\(MemoryService.version)"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? port
                Terminal.standardError("ctxmem: serving on http://\(host):\(port) (Ctrl-C or SIGTERM to stop)")
            },
            logger: logger
        )
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            Terminal.standardError("ctxmem: error: \(error)")
            throw ExitCode(1)
        }
    }
}
