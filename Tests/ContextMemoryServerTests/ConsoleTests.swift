import ContextMemory
import Foundation
import HTTPTypes
import Testing

@testable import ContextMemoryServer

/// The web console's files as `ctxmem serve` sends them (docs/console.md). What the page does is
/// tested in a real browser by scripts/console-test; here, what the server promises about it.
@Suite("Web console assets")
struct ConsoleTests {
    @Test("GET / and its two files: the console, with a CSP that allows no inline script, open without the token")
    func served() async throws {
        try await InProcessServer.with(token: "console-token") { server in
            for (path, type) in [
                ("/", "text/html; charset=utf-8"), ("/console.js", "text/javascript; charset=utf-8"),
                ("/console.css", "text/css; charset=utf-8"),
            ] {
                let response = try await server.request(.get, path)
                #expect(response.status == 200, "\(path): \(response)")
                #expect(response.contentType == type)
                let policy = try #require(response.header("Content-Security-Policy"))
                #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
                #expect(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"))
                #expect(response.header("X-Content-Type-Options") == "nosniff")
            }
            // The API behind it still wants the token.
            #expect(try await server.request(.get, "/v1/agents").status == 401)
        }
    }

    @Test("ctxmem serve --no-console: / is an unknown route")
    func turnedOff() async throws {
        try await InProcessServer.with(configure: { $0.console = false }) { server in
            for path in ["/", "/console.js", "/console.css"] {
                let response = try await server.request(.get, path)
                #expect(response.status == 404 && response.errorCode == "unknown_route", "\(path): \(response)")
            }
            #expect(try await server.request(.get, "/v1/agents").status == 200)
        }
    }

    @Test("the page's own files stay under 150 KB, and the script never parses text as HTML or code")
    func smallAndSafe() throws {
        let total = ConsoleAssets.byPath.values.reduce(0) { $0 + $1.bytes.count }
        #expect(total < 150 * 1024, "\(total) bytes")
        let script = String(decoding: PackageResources.console_js, as: UTF8.self)
        for sink in [
            "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
            "setAttribute(\"href\"",
        ] {
            #expect(!script.contains(sink), "console.js uses \(sink): memory text must only ever be textContent")
        }
        let page = String(decoding: PackageResources.index_html, as: UTF8.self)
        #expect(
            !page.contains("<script>") && !page.contains(" style="), "no inline script or style: the CSP forbids them")
    }
}
