import ContextMemory
@testable import ContextMemoryServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import Testing

/// `ctxmem serve`'s HTTP API, in process on a free port, on a copy of the fixture tree.
@Suite("HTTP API")
struct ServerTests {
    /// A running server on a fixture copy; stopped when the test's closure returns.
    struct Server {
        let tree: CLITests.Tree
        let base: URL
        /// The watcher, on ``clock``; it runs when `withServer(watch: true)`.
        let watcher: MemoryWatcher<TestClock>
        let clock: TestClock
        let api: HTTPAPI

        var port: Int { base.port ?? 0 }

        func request(_ method: String = "GET", _ path: String, body: String? = nil,
                     headers: [String: String] = [:]) async throws -> (status: Int, body: String, headers: [String: String]) {
            var request = URLRequest(url: URL(string: path, relativeTo: base)!)
            request.httpMethod = method
            request.httpBody = body.map { Data($0.utf8) }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            var fields: [String: String] = [:]
            for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
            return (http.statusCode, String(decoding: data, as: UTF8.self), fields)
        }

        func json(_ method: String = "GET", _ path: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            let response = try await request(method, path, body: body)
            return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]) ?? [:])
        }
    }

    /// The server `ctxmem serve` runs (``HTTPAPI/application(onServerRunning:)``), with the
    /// default limits unless `configure` changes them, and with `watch` its watcher on a test clock.
    /// - Parameter logger: where the server logs; by default nothing is shown (cancelling the
    ///   server at the end logs errors that mean nothing here).
    static func withServer(fixture: String = "project", token: String? = nil, watch: Bool = false,
                           configure: (inout ServerConfiguration) -> Void = { _ in }, logger: Logger? = nil,
                           _ body: (Server) async throws -> Void) async throws {
        let tree = try CLITests.Tree(fixture)
        let coordinator = IndexCoordinator(service: MemoryService(root: tree.root, readerConnections: 2))
        try await coordinator.refresh()
        let clock = TestClock()
        let watcher = MemoryWatcher(coordinator: coordinator, clock: clock)
        var configuration = ServerConfiguration(port: 0, token: token)
        configure(&configuration)
        var quiet = Logger(label: "ctxmem.test")
        quiet.logLevel = .critical
        let api = HTTPAPI(coordinator: coordinator, configuration: configuration, watcherState: { await watcher.state() },
                          logger: logger ?? quiet)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = api.application { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        let serving = Task { try await app.run() }
        let watching = watch ? Task { await watcher.run() } : nil
        defer {
            serving.cancel()
            watching?.cancel()
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        if watch { await clock.untilSleeping() }  // inotify watches the tree and the loop waits on the clock
        try await body(Server(tree: tree, base: URL(string: "http://127.0.0.1:\(port)")!, watcher: watcher, clock: clock,
                              api: api))
    }

    /// Waits for what a real thread brings about (an inotify event), polling every 10 ms for at
    /// most 30 s (it takes milliseconds, but the whole suite runs at once on two cores); whether it came.
    static func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    @Test("every route answers as Schemas/openapi.yaml says, errors included")
    func openAPI() async throws {
        try await Self.withServer { server in
            var samples: [OpenAPIValidator.Sample] = []
            func sample(_ method: String, _ path: String, _ route: String, body: String? = nil, status: Int) async throws {
                let response = try await server.request(method, path, body: body)
                #expect(response.status == status, "\(method) \(path): \(response.status) \(response.body.prefix(300))")
                samples.append(.init(route: route, method: method.lowercased(), status: response.status,
                                     contentType: response.headers["content-type"] ?? "", body: response.body))
            }
            try await sample("GET", "/healthz", "/healthz", status: 200)
            try await sample("GET", "/v1/search?q=VPC+peering&limit=3", "/v1/search", status: 200)
            try await sample("GET", "/v1/search?q=%22unclosed", "/v1/search", status: 400)
            try await sample("GET", "/v1/search", "/v1/search", status: 400)
            try await sample("GET", "/v1/search?q=x&limit=nope", "/v1/search", status: 400)
            try await sample("GET", "/v1/search?q=" + String(repeating: "a", count: 4096), "/v1/search", status: 200)
            try await sample("GET", "/v1/search?q=" + String(repeating: "a", count: 4097), "/v1/search", status: 400)
            try await sample("POST", "/v1/packs", "/v1/packs", body: #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 4000}"#, status: 200)
            try await sample("POST", "/v1/packs", "/v1/packs", body: #"{"format": "markdown", "budget": 3000}"#, status: 200)
            try await sample("POST", "/v1/packs", "/v1/packs", body: #"{"agent": "nobody"}"#, status: 404)
            try await sample("POST", "/v1/packs", "/v1/packs", body: #"{"budget": 10}"#, status: 400)
            try await sample("POST", "/v1/packs", "/v1/packs", body: "{not json", status: 400)
            try await sample("POST", "/v1/packs", "/v1/packs", body: #"{"agent": null}"#, status: 400)
            try await sample("POST", "/v1/packs", "/v1/packs", body: String(repeating: "x", count: 70_000), status: 413)
            try await sample("GET", "/v1/audit", "/v1/audit", status: 200)
            try await sample("GET", "/v1/audit?format=sarif&rule=broken-link", "/v1/audit", status: 200)
            try await sample("GET", "/v1/audit?rule=nope", "/v1/audit", status: 400)
            try await sample("GET", "/v1/audit?rule=", "/v1/audit", status: 400)
            try await sample("GET", "/v1/agents", "/v1/agents", status: 200)
            try await sample("GET", "/v1/memory?handle=memory://CLAUDE.md", "/v1/memory", status: 200)
            try await sample("GET", "/v1/memory?handle=memory://../../etc/passwd", "/v1/memory", status: 400)
            try await sample("GET", "/v1/memory?handle=memory://no/such.md", "/v1/memory", status: 404)
            try await sample("POST", "/v1/index", "/v1/index", status: 200)
            try await sample("GET", "/metrics", "/metrics", status: 200)
            try OpenAPIValidator.validate(samples)
        }
    }

    @Test("bad input gets a 4xx with a stable code and never reads outside the root")
    func robustness() async throws {
        try await Self.withServer { server in
            let (status, body) = try await server.json("GET", "/v1/memory?handle=memory://..%2F..%2Fetc%2Fpasswd")
            #expect(status == 400)
            #expect((body["error"] as? [String: Any])?["code"] as? String == "invalid_handle")
            let unknown = try await server.json("GET", "/v2/nothing")
            #expect(unknown.0 == 404)
            #expect((unknown.1["error"] as? [String: Any])?["code"] as? String == "unknown_route")
            let wrongType = try await server.json("POST", "/v1/packs", body: #"{"task": 42}"#)
            #expect(wrongType.0 == 400)
            #expect(((wrongType.1["error"] as? [String: Any])?["message"] as? String)?.contains("task must be a string") == true)
            // Over the query-string limit (12 bytes per character of the longest q, the most
            // percent-encoding takes, and 4 KiB for the other parameters): 414 before any route.
            let longQuery = try await server.request("GET", "/v1/search?q=" + String(repeating: "a", count: 60_000))
            #expect(longQuery.status == 414)
            let tooLongQ = try await server.json("GET", "/v1/search?q=" + String(repeating: "a", count: 20_000))
            #expect(tooLongQ.0 == 400)
            #expect((tooLongQ.1["error"] as? [String: Any])?["code"] as? String == "query_too_long")
            for body in [#"{"agent": null}"#, #"{"task": null}"#, #"{"budget": null}"#, #"{"format": null}"#, #"{"trimEssentials": null}"#] {
                let null = try await server.json("POST", "/v1/packs", body: body)
                #expect(null.0 == 400, "\(body)")
                let message = (null.1["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("must not be null"), "\(body): \(message)")
            }
            for target in ["/v1/audit?rule=", "/v1/audit?rule=broken-link&rule=", "/v1/audit?rule=+"] {
                let empty = try await server.json("GET", target)
                #expect(empty.0 == 400, "\(target)")
                #expect((empty.1["error"] as? [String: Any])?["code"] as? String == "invalid_rule", "\(target)")
            }
            let huge = try await server.json("POST", "/v1/packs", body: #"{"budget": 99999999999999999999}"#)
            #expect(huge.0 == 400)
            let search = try await server.json("GET", "/v1/search?q=fabric+OR+ファブリック")
            #expect(search.0 == 200)
            #expect(search.1["query"] as? String == "fabric OR ファブリック", "+ is a space in a query string")
        }
    }

    @Test("with a token every route but /healthz needs Authorization: Bearer")
    func bearerToken() async throws {
        try await Self.withServer(token: "s3cret-token") { server in
            #expect(try await server.request("GET", "/v1/agents").status == 401)
            #expect(try await server.request("GET", "/v1/agents", headers: ["Authorization": "Bearer wrong-token"]).status == 401)
            let denied = try await server.request("GET", "/v1/search?q=x")
            #expect(denied.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect(try await server.request("GET", "/v1/agents", headers: ["Authorization": "Bearer s3cret-token"]).status == 200)
            #expect(try await server.request("GET", "/healthz").status == 200)
            #expect(try await server.request("GET", "/metrics").status == 401)
            #expect(try await server.request("GET", "/metrics", headers: ["Authorization": "Bearer s3cret-token"]).status == 200)
        }
    }

    @Test("the watcher brings an edit into search by itself; its lag and heartbeat show in /healthz", .timeLimit(.minutes(10)))
    func liveReindex() async throws {
        try await Self.withServer(watch: true) { server in
            func found() async throws -> Bool {
                !(((try await server.json("GET", "/v1/search?q=zebracorn")).1["results"] as? [Any]) ?? []).isEmpty
            }
            let file = server.tree.root.appendingPathComponent("project_management/README.md")
            try Data(((try String(contentsOf: file, encoding: .utf8)) + "\n## Zebracorn\n\nThe zebracorn relay.\n").utf8).write(to: file)
            // The one thing not on the test clock: inotify's event, from the reader's thread.
            #expect(await Self.eventually { await server.watcher.state().pendingEvents > 0 }, "no inotify event")
            #expect(try await found() == false, "indexed before the watcher's refresh")
            // A save may come in several reads of events; 1 s after the first (the longest wait)
            // the burst is refreshed whatever arrived last.
            await server.clock.advance(by: .seconds(1))
            #expect(try await found())
            let (_, health) = try await server.json("GET", "/healthz")
            let watcher = try #require(health["watcher"] as? [String: Any])
            #expect(watcher["mode"] as? String == "inotify")
            #expect(watcher["running"] as? Bool == true)
            #expect(watcher["lagSeconds"] as? Double == 1)
            #expect(watcher["heartbeatAt"] is String)
            #expect(watcher["lastEventAt"] is String)
        }
    }

    @Test("a stalled watcher is detected and restarted, and watches again", .timeLimit(.minutes(10)))
    func stalledWatcher() async throws {
        try await Self.withServer(watch: true) { server in
            await server.watcher.simulateStall()  // the inotify thread stops beating
            await server.clock.advance(by: .milliseconds(4950))
            #expect(await server.watcher.state().restarts == 0)
            await server.clock.advance(by: .milliseconds(100))  // silent for more than 5 s
            let state = await server.watcher.state()
            #expect(state.restarts == 1)
            #expect(state.running)
            #expect(state.mode == "inotify")
            #expect(state.folders > 0)
            // Still watching after the restart.
            let file = server.tree.root.appendingPathComponent("project_management/README.md")
            try Data(((try String(contentsOf: file, encoding: .utf8)) + "\nQuokkaphant.\n").utf8).write(to: file)
            #expect(await Self.eventually { await server.watcher.state().pendingEvents > 0 }, "no inotify event after the restart")
            await server.clock.advance(by: .seconds(1))
            #expect(!(((try await server.json("GET", "/v1/search?q=quokkaphant")).1["results"] as? [Any]) ?? []).isEmpty)
        }
    }
}
