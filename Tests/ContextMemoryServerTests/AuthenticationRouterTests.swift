import HTTPTypes
import Hummingbird
import Testing

@testable import ContextMemoryServer

/// `serve --token` in process: which routes need the token, and what a refusal looks like. Every
/// spelling of every path, sent byte for byte over a socket, is checked in ctxmemTests.
@Suite("HTTP authentication in process")
struct AuthenticationRouterTests {
    static let token = "s3cret-token-for-tests"

    /// A request each route serves: its path with the parameters it requires.
    static func target(_ path: String) -> String {
        switch path {
        case "/v1/search": "/v1/search?q=VPC"
        case "/v1/memory": "/v1/memory?handle=memory://CLAUDE.md"
        default: path
        }
    }

    @Test("with a token every route but /healthz answers 401 without it or with a wrong one, and serves with it")
    func everyRoute() async throws {
        try await InProcessServer.with(token: Self.token) { server in
            var samples: [OpenAPIValidator.Sample] = []
            for (path, method) in HTTPAPI.routes.sorted(by: { $0.key < $1.key }) {
                let open = BearerTokenMiddleware<BasicRequestContext>.openPaths.contains(path)
                // (A trailing space cannot be sent here: HTTPFields trims values. ``trailingSpace()`` checks it.)
                for header in [
                    nil, "Bearer wrong-token", "Bearer \(Self.token)x", "Basic \(Self.token)", "bearer \(Self.token)",
                ] {
                    var headers: HTTPFields = [:]
                    if let header { headers[.authorization] = header }
                    let response = try await server.request(method, Self.target(path), headers: headers)
                    if open {
                        #expect(response.status == 200, "\(path) is open: \(response)")
                        continue
                    }
                    #expect(response.status == 401, "\(method) \(path) with \(header ?? "no header"): \(response)")
                    #expect(response.errorCode == "unauthorized")
                    #expect(response.header("WWW-Authenticate") == #"Bearer realm="ctxmem""#)
                    if header == nil {
                        samples.append(
                            .init(
                                route: path, method: method.rawValue.lowercased(), status: response.status,
                                contentType: response.contentType, body: response.body))
                    }
                }
                let authorised = try await server.request(
                    method, Self.target(path), headers: [.authorization: "Bearer \(Self.token)"])
                #expect(authorised.status == 200, "\(method) \(path) with the token: \(authorised)")
            }
            #expect(samples.count == HTTPAPI.routes.count - BearerTokenMiddleware<BasicRequestContext>.openPaths.count)
            try OpenAPIValidator.validate(samples)
        }
    }

    @Test("without a token every route is open")
    func noToken() async throws {
        try await InProcessServer.with { server in
            for (path, method) in HTTPAPI.routes.sorted(by: { $0.key < $1.key }) {
                let response = try await server.request(method, Self.target(path))
                #expect(response.status == 200, "\(path): \(response)")
            }
        }
    }

    @Test("the middleware compares the header as received: a trailing space is not the token")
    func trailingSpace() {
        let token = BearerToken(Self.token)
        #expect(token.accepts(authorization: "Bearer \(Self.token)"))
        #expect(!token.accepts(authorization: "Bearer \(Self.token) "))
        #expect(!token.accepts(authorization: "Bearer \(Self.token)\t"))
        #expect(!token.accepts(authorization: nil))
    }
}
