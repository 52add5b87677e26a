import ContextMemory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

@testable import ContextMemoryServer

/// The application `ctxmem serve` runs (``HTTPAPI/application(onServerRunning:)``: the router and
/// its middleware), driven in process by Hummingbird's router test framework: each request goes
/// straight to the router, without a socket. What only a socket shows (NIO's parsing, the
/// connection guard, timeouts, concurrent clients) is tested in ctxmemTests.
struct InProcessServer: Sendable {
    /// What the server reads: a copy of the example memory/ (the default) or of a fixture tree.
    enum Source: Sendable {
        case memory
        case fixture(String)

        func copy() throws -> FixtureTree {
            switch self {
            case .memory: try FixtureTree(repositoryFolder: "memory")
            case .fixture(let name): try FixtureTree(name)
            }
        }
    }

    /// A response, its body as text.
    struct Reply: Sendable, CustomStringConvertible {
        var status: Int
        var headers: HTTPFields
        var body: String

        /// The body as a JSON object; empty when it is not one.
        var object: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }

        /// `error.code` of an error body (`{"error": {"code": ..., "message": ...}}`).
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String { (object["error"] as? [String: Any])?["message"] as? String ?? "" }

        var contentType: String { headers[.contentType] ?? "" }

        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }

        var description: String { "\(status) \(body.prefix(300))" }
    }

    let tree: FixtureTree
    let api: HTTPAPI
    /// The watcher, on ``clock``; it runs and `/healthz` shows it when `with(watch: true)`.
    let watcher: MemoryWatcher<TestClock>
    let clock: TestClock
    let client: any TestClientProtocol

    func request(
        _ method: HTTPRequest.Method = .get, _ uri: String, body: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        let response = try await client.execute(
            uri: uri, method: method, headers: headers,
            body: body.map { ByteBuffer(string: $0) })
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
    }

    /// A `POST /v1/packs` with a JSON body.
    func pack(_ json: String) async throws -> Reply {
        try await request(.post, "/v1/packs", body: json, headers: [.contentType: "application/json"])
    }

    /// Runs `body` against the application `ctxmem serve` builds, on a copy of `source` indexed
    /// first (as `serve` indexes before it listens), with the default limits unless `configure`
    /// changes them.
    static func with(
        _ source: Source = .memory, token: String? = nil, watch: Bool = false,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (InProcessServer) async throws -> Void
    ) async throws {
        let tree = try source.copy()
        let coordinator = IndexCoordinator(service: MemoryService(root: tree.root, readerConnections: 2))
        try await coordinator.refresh()
        let clock = TestClock()
        let watcher = MemoryWatcher(coordinator: coordinator, clock: clock)
        var configuration = ServerConfiguration(port: 0, token: token)
        configure(&configuration)
        var quiet = Logger(label: "ctxmem.test")
        quiet.logLevel = .critical
        var watcherState: @Sendable () async -> WatcherState? = { nil }
        if watch { watcherState = { await watcher.state() } }
        let api = HTTPAPI(
            coordinator: coordinator, configuration: configuration, watcherState: watcherState, logger: quiet)
        let watching = watch ? Task { await watcher.run() } : nil
        defer { watching?.cancel() }
        if watch { await clock.untilSleeping() }  // inotify watches the tree and the loop waits on the clock
        try await api.application().test(.router) { client in
            try await body(InProcessServer(tree: tree, api: api, watcher: watcher, clock: clock, client: client))
        }
    }
}
