import ContextMemory
import Foundation
import Hummingbird
import Logging
import Testing

@testable import ContextMemoryServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `ctxmem serve`'s server (``HTTPAPI/application(onServerRunning:)``) listening on a free loopback
/// port, in process, on a copy of the fixture tree: for what only a real socket shows (NIO's
/// parsing, the connection guard and its timeouts, the connection limit, concurrent clients).
/// The routes themselves are tested without a socket in ContextMemoryServerTests.
struct LiveServer {
    let tree: CLITests.Tree
    let base: URL
    let api: HTTPAPI

    var port: Int { base.port ?? 0 }

    func request(
        _ method: String = "GET", _ path: String, body: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, body: String, headers: [String: String]) {
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

    /// The server `ctxmem serve` runs, with the default limits unless `configure` changes them;
    /// stopped when `body` returns.
    /// - Parameter logger: where the server logs; by default nothing is shown (cancelling the
    ///   server at the end logs errors that mean nothing here).
    static func with(
        fixture: String = "project", token: String? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in }, logger: Logger? = nil,
        _ body: (LiveServer) async throws -> Void
    ) async throws {
        let tree = try CLITests.Tree(fixture)
        let coordinator = IndexCoordinator(service: MemoryService(root: tree.root, readerConnections: 2))
        try await coordinator.refresh()
        var configuration = ServerConfiguration(port: 0, token: token)
        configure(&configuration)
        var quiet = Logger(label: "ctxmem.test")
        quiet.logLevel = .critical
        let api = HTTPAPI(coordinator: coordinator, configuration: configuration, logger: logger ?? quiet)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = api.application { channel in continuation.yield(channel.localAddress?.port ?? 0) }
        let serving = Task { try await app.run() }
        defer { serving.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(LiveServer(tree: tree, base: URL(string: "http://127.0.0.1:\(port)")!, api: api))
    }
}
