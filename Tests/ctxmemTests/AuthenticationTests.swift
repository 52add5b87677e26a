import ContextMemory
import Foundation
import Testing

@testable import ContextMemoryServer

/// `serve --token`: every request needs the token except the open probes, whatever the spelling of
/// its path. Requests go over a real socket, byte for byte as written (URLSession would tidy the
/// paths), so NIO's parsing and Hummingbird's routing are the ones a client meets.
@Suite("HTTP authentication", .serialized)
struct AuthenticationTests {
    static let token = "s3cret-token-for-tests"

    /// Every route and method in Schemas/openapi.yaml, and whether it is open (`security: [{}]`).
    static func documentedRoutes() throws -> [(method: String, path: String, open: Bool)] {
        let spec = try String(contentsOf: TestPaths.schemas.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var routes: [(String, String, Bool)] = []
        var path: String?
        for line in spec.split(separator: "\n", omittingEmptySubsequences: false) {
            if let match = line.wholeMatch(of: #/  (\/[^:]*):/#) {
                path = String(match.1)
                continue
            }
            if line.first.map({ $0 != " " }) == true { path = nil }
            if let path, let match = line.wholeMatch(of: #/    (get|post|put|delete|patch):/#) {
                routes.append((match.1.uppercased(), path, false))
            }
            if line.trimmingCharacters(in: CharacterSet.whitespaces) == "security: [{}]", !routes.isEmpty,
                routes[routes.count - 1].1 == path
            {
                routes[routes.count - 1].2 = true
            }
        }
        return routes
    }

    /// The spellings of `path` a client might send to slip past a check on the raw path.
    static func variants(of path: String) -> [String] {
        let parts = path.split(separator: "/").map(String.init)
        let encoded =
            "/"
            + parts.map { part in
                part.unicodeScalars.first.map { String(format: "%%%02X", $0.value) + part.dropFirst() } ?? part
            }
            .joined(separator: "/")
        return [
            path, "/" + path, "//" + path, "/" + parts.joined(separator: "//"), path + "/", path + "//",
            "/." + path, "/" + parts.joined(separator: "/./"), "/nowhere/.." + path, path + "/.", path + "/..",
            encoded, path.uppercased(), path + "?x=1", "/" + path + "?rebuild=true", path + ";x",
        ]
    }

    /// Sends one request as written and returns the status code (0 when the server closed without one).
    static func send(port: Int, method: String, target: String, headers: [String] = []) async throws -> Int {
        let connection = try await RawConnection.open(port: port)
        defer { connection.close() }
        let request =
            (["\(method) \(target) HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0", "Connection: close"] + headers)
            .joined(separator: "\r\n") + "\r\n\r\n"
        _ = try await connection.send(request)
        return try await connection.outcome(timeout: 5).status ?? 0
    }

    @Test("every documented route needs the token in every spelling of its path; only /healthz is open")
    func everyRouteEverySpelling() async throws {
        let routes = try Self.documentedRoutes()
        #expect(routes.count >= 8)
        #expect(routes.filter(\.open).map(\.path) == ["/healthz"])
        try await LiveServer.with(token: Self.token) { server in
            let port = try #require(server.base.port)
            var checked = 0
            for route in routes {
                for target in Self.variants(of: route.path) + ["http://127.0.0.1:\(port)\(route.path)"] {
                    let anonymous = try await Self.send(port: port, method: route.method, target: target)
                    let path = target.replacingOccurrences(of: "http://127.0.0.1:\(port)", with: "").prefix {
                        $0 != "?"
                    }
                    let opensAProbe = route.open && RoutedPath.of(String(path)) == route.path
                    if opensAProbe {
                        #expect(anonymous == 200, "\(route.method) \(target)")
                    } else {
                        #expect(
                            anonymous == 401 || anonymous == 400,
                            "\(route.method) \(target) without the token: \(anonymous)")
                    }
                    let authorised = try await Self.send(
                        port: port, method: route.method, target: target,
                        headers: ["Authorization: Bearer \(Self.token)"])
                    #expect(
                        authorised != 401 && authorised != 0, "\(route.method) \(target) with the token: \(authorised)")
                    checked += 1
                }
            }
            #expect(checked == routes.count * 17)
        }
    }

    @Test(
        "the header must carry exactly the token",
        arguments: [
            "Bearer \(token)x", "Bearer \(String(token.dropLast()))", "Bearer  \(token)", "Basic \(token)", "Bearer",
            "\(token)",
            "Bearer \(token.uppercased())", "Bearer \(token),Bearer \(token)",
        ])
    func wrongHeaders(header: String) async throws {
        try await LiveServer.with(token: Self.token) { server in
            let port = try #require(server.base.port)
            for target in ["/v1/agents", "//v1/agents"] {
                let status = try await Self.send(
                    port: port, method: "GET", target: target, headers: ["Authorization: \(header)"])
                #expect(status == 401, "\(target) with '\(header)': \(status)")
            }
        }
    }
}
