import ContextMemory
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import ContextMemoryServer

/// `ctxmem serve` against clients that are slow, numerous or malformed (issue 13, item 7 and
/// item 8's HTTP parts), over real sockets with short limits so each case takes about a second.
@Suite("HTTP slow and hostile clients", .serialized)
struct SlowClientTests {
    /// Short limits: the behaviour is the same at the defaults, only slower to show.
    static func limits(_ configuration: inout ServerConfiguration) {
        configuration.headerTimeout = .milliseconds(600)
        configuration.bodyTimeout = .milliseconds(600)
        configuration.idleTimeout = .milliseconds(1500)
    }

    @Test("a client that trickles its headers is answered 408 at the header timeout and closed")
    func trickledHeaders() async throws {
        try await LiveServer.with(configure: Self.limits) { server in
            let connection = try await RawConnection.open(port: server.port, sending: "GET /healthz HTTP/1.1\r\n")
            defer { connection.close() }
            // One byte every 100 ms would take 7 s to finish these headers.
            let outcome = try await connection.outcome(
                timeout: 5, trickle: "Host: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n")
            #expect(outcome.status == 408, "\(outcome)")
            #expect(outcome.code == "request_timeout")
            #expect(outcome.body.contains("--header-timeout"), "the message names the option")
            #expect(outcome.seconds < 3, "\(outcome)")
            #expect(try await connection.outcome(timeout: 2).closed, "and closes the connection")
        }
    }

    @Test("a connection that sends nothing is closed at the header timeout, without an answer")
    func silentConnection() async throws {
        try await LiveServer.with(configure: Self.limits) { server in
            let connection = try await RawConnection.open(port: server.port)
            defer { connection.close() }
            let outcome = try await connection.outcome(timeout: 5)
            #expect(outcome.closed && outcome.status == nil, "\(outcome)")
            #expect(outcome.seconds > 0.4 && outcome.seconds < 3, "\(outcome)")
        }
    }

    @Test("a request that promises 10 body bytes and sends 5 is answered 408 at the body timeout")
    func halfSentBody() async throws {
        try await LiveServer.with(configure: Self.limits) { server in
            let connection = try await RawConnection.open(
                port: server.port,
                sending:
                    "POST /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\":"
            )
            defer { connection.close() }
            let outcome = try await connection.outcome(timeout: 5)
            #expect(outcome.status == 408, "\(outcome)")
            #expect(outcome.code == "request_timeout")
            #expect(outcome.body.contains("--body-timeout"))
            #expect(outcome.seconds < 3)
            try OpenAPIValidator.validate([
                .init(
                    route: "/v1/packs", method: "post", status: outcome.status ?? 0,
                    contentType: outcome.headers["content-type"] ?? "", body: outcome.body)
            ])
            #expect(try await connection.outcome(timeout: 2).closed, "and closes the connection")
            let metrics = try await server.request("GET", "/metrics").body
            #expect(metrics.contains(#"ctxmem_http_connections_closed_total{reason="body_timeout"} 1"#), "\(metrics)")
        }
    }

    @Test("a keep-alive connection outlives the header timeout between requests and is closed at the idle timeout")
    func idleKeepAlive() async throws {
        try await LiveServer.with(configure: Self.limits) { server in
            let request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            let connection = try await RawConnection.open(port: server.port, sending: request)
            defer { connection.close() }
            #expect(try await connection.outcome(timeout: 3).status == 200)
            // Quiet for longer than the header timeout (0.6 s) but not the idle one (1.5 s).
            try await Task.sleep(for: .milliseconds(900))
            try await connection.send(request)
            let second = try await connection.outcome(timeout: 3)
            #expect(second.status == 200 && !second.closed, "\(second)")
            let idle = try await connection.outcome(timeout: 5)
            #expect(idle.closed && idle.status == nil, "\(idle)")
            #expect(
                idle.seconds > 1.0 && idle.seconds < 3.5, "closed after \(idle.seconds) s; the idle timeout is 1.5 s")
        }
    }

    @Test("at the connection limit the connection waiting longest makes room, /healthz is answered, and it is logged")
    func connectionLimit() async throws {
        let log = LogRecorder()
        try await LiveServer.with(
            configure: { configuration in
                configuration.maxConnections = 4
                configuration.headerTimeout = .seconds(30)  // only the limit can free a slot here
                configuration.bodyTimeout = .seconds(30)
            }, logger: log.logger
        ) { server in
            var holders: [RawConnection] = []
            defer { for holder in holders { holder.close() } }
            for _ in 0..<6 {  // half-sent requests: headers and 5 of 10 body bytes
                let holder = try await RawConnection.open(port: server.port)
                try await holder.send("POST /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"a\":")
                holders.append(holder)
                try await Task.sleep(for: .milliseconds(50))
            }
            let start = ContinuousClock.now
            let probe = try await RawConnection.open(port: server.port)
            defer { probe.close() }
            try await probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = try await probe.outcome(timeout: 5)
            #expect(answer.status == 200, "\(answer)")
            #expect(ContinuousClock.now - start < .seconds(2))
            var closed = 0
            for holder in holders where try await holder.outcome(timeout: 0.2).closed { closed += 1 }
            #expect(closed >= 3, "with 4 slots, at least 3 of the 6 half-sent requests (the oldest) make room")
            #expect(server.api.connections.count <= 4)
            #expect(
                log.messages.contains { $0.contains("connection limit reached") && $0.contains("--max-connections 4") },
                "\(log.messages)")
        }
    }

    @Test("oversized URLs, headers and header counts, and malformed requests, get the JSON error body")
    func malformedHeads() async throws {
        try await LiveServer.with { server in
            let configuration = ServerConfiguration()
            let cases: [(head: String, code: String)] = [
                (
                    "GET /v1/search?q=" + String(repeating: "a", count: configuration.maxHeaderFieldBytes + 1)
                        + " HTTP/1.1\r\nHost: x\r\n", "request_head_too_large"
                ),
                (
                    "GET /v1/search?q=x HTTP/1.1\r\nHost: x\r\nX-Big: "
                        + String(repeating: "b", count: configuration.maxHeaderFieldBytes + 1) + "\r\n",
                    "request_head_too_large"
                ),
                (
                    "GET /v1/search?q=x HTTP/1.1\r\nHost: x\r\n"
                        + (0..<(configuration.maxHeaderBytes / 4096 + 1)).map {
                            "X-H\($0): " + String(repeating: "c", count: 4000) + "\r\n"
                        }.joined(), "request_head_too_large"
                ),
                (
                    "GET /v1/search?q=x HTTP/1.1\r\nHost: x\r\n"
                        + (0..<configuration.maxHeaderCount).map { "X-N\($0): 1\r\n" }.joined(),
                    "request_head_too_large"
                ),
                ("NOTAMETHOD /v1/search?q=x HTTP/1.1\r\nHost: x\r\n", "malformed_request"),
                ("GET /v1/search?q=x HTTP/1.1\r\nHost x\r\n", "malformed_request"),
            ]
            var samples: [OpenAPIValidator.Sample] = []
            for (head, code) in cases {
                let connection = try await RawConnection.open(port: server.port)
                defer { connection.close() }
                try await connection.send(head + "\r\n")
                let outcome = try await connection.outcome(timeout: 5)
                #expect(outcome.status == 400, "\(head.prefix(60)): \(outcome)")
                #expect(outcome.code == code, "\(head.prefix(60)): \(outcome)")
                #expect(outcome.headers["content-type"]?.hasPrefix("application/json") == true)
                #expect(outcome.headers["connection"] == "close")
                samples.append(
                    .init(
                        route: "/v1/search", method: "get", status: outcome.status ?? 0,
                        contentType: outcome.headers["content-type"] ?? "", body: outcome.body))
            }
            try OpenAPIValidator.validate(samples)
            // Within the limits, the same server answers normally.
            let fits = try await server.request(
                "GET", "/v1/search?q=x", headers: ["X-Fits": String(repeating: "d", count: 8000)])
            #expect(fits.status == 200)
        }
    }

    @Test("past the pack queue, POST /v1/packs is answered 503 overloaded with Retry-After, counted in /metrics")
    func packQueueOverload() async throws {
        let log = LogRecorder()
        try await LiveServer.with(
            configure: { configuration in
                configuration.packWorkers = 1
                configuration.packQueue = 0
            }, logger: log.logger
        ) { server in
            let body = #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 4000}"#
            let request =
                "POST /v1/packs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            var connections: [RawConnection] = []
            defer { for connection in connections { connection.close() } }
            for _ in 0..<16 { connections.append(try await RawConnection.open(port: server.port)) }
            // All connected first, then sent together, so they overlap at the server.
            let outcomes = try await RawConnection.sendAll(connections, request, timeout: 20)
            let refused = outcomes.filter { $0.status == 503 }
            #expect(outcomes.allSatisfy { $0.status == 200 || $0.status == 503 }, "\(outcomes)")
            #expect(!refused.isEmpty, "one worker, no queue and 16 packs at once: some must be refused")
            #expect(outcomes.contains { $0.status == 200 })
            for outcome in refused {
                #expect(outcome.code == "overloaded")
                #expect(outcome.headers["retry-after"] == "1")
                #expect(outcome.body.contains("--pack-queue"))
            }
            let metrics = try await server.request("GET", "/metrics").body
            #expect(metrics.contains("ctxmem_pack_queue_rejected_total \(refused.count)\n"), "\(metrics)")
            #expect(
                metrics.contains(
                    #"ctxmem_http_requests_total{route="/v1/packs",method="POST",status="503"} \#(refused.count)"#))
            #expect(
                !log.messages.contains { $0.hasPrefix("error") },
                "a refusal under load is no server error: \(log.messages.prefix(3))")
            try OpenAPIValidator.validate(
                refused.prefix(1).map {
                    .init(
                        route: "/v1/packs", method: "post", status: 503, contentType: $0.headers["content-type"] ?? "",
                        body: $0.body)
                })
        }
    }

    @Test(
        "a search query of exactly the limit is searched; one character more is a 400 naming the limit",
        arguments: ["a", "é", "𝐚"])  // 1, 2 and 4 bytes of UTF-8: 3, 6 and 12 bytes percent-encoded
    func searchQueryLimit(letter: String) async throws {
        try await LiveServer.with { server in
            func search(_ length: Int) async throws -> (status: Int, body: String) {
                let q = String(repeating: letter, count: length).addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics)!
                let response = try await server.request("GET", "/v1/search?q=\(q)&limit=1")
                return (response.status, response.body)
            }
            let atLimit = try await search(SearchQuery.maxLength)
            #expect(atLimit.status == 200, "\(atLimit.body.prefix(300))")
            #expect(try await search(SearchQuery.maxLength - 1).status == 200)
            let over = try await search(SearchQuery.maxLength + 1)
            #expect(over.status == 400)
            #expect(
                over.body.contains("query_too_long") && over.body.contains("the limit is \(SearchQuery.maxLength)"),
                "\(over.body)")
        }
    }
}

/// A logger whose messages the test can read.
final class LogRecorder: Sendable {
    private let store = Mutex<[String]>([])

    var messages: [String] { store.withLock { $0 } }

    var logger: Logger {
        var logger = Logger(label: "ctxmem.test") { _ in Handler(recorder: self) }
        logger.logLevel = .info
        return logger
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.store.withLock { $0.append("\(event.level) \(event.message)") }
        }
    }
}
