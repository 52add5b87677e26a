import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `ctxmem serve` as a process: start-up, SIGTERM and kill -9.
@Suite("ctxmem serve end to end")
struct ServeCLITests {
    /// A `ctxmem serve --port 0` process and the port it printed.
    /// Unchecked: its properties are set once in init; Process itself is thread-safe to signal and wait on.
    final class Serving: @unchecked Sendable {
        let process = Process()
        let port: Int
        private let errors = Pipe()

        init(root: URL) throws {
            process.executableURL = CLITests.binary
            process.arguments = ["serve", "--root", root.path, "--port", "0"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            // "ctxmem: serving on http://127.0.0.1:PORT ..." once it listens.
            var seen = ""
            var port: Int?
            let deadline = Date().addingTimeInterval(20)
            while port == nil, Date() < deadline {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
                if let match = seen.firstMatch(of: /serving on http:\/\/127\.0\.0\.1:(\d+)/) { port = Int(match.1) }
            }
            guard let port else {
                process.terminate()
                throw CocoaError(
                    .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve did not start: \(seen)"])
            }
            self.port = port
        }

        func get(_ path: String, method: String = "GET") async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
        }

        func exit() -> Int32 {
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    /// The fixture plus enough generated documents that a rebuild lasts long enough to be caught.
    static func largerTree() throws -> CLITests.Tree {
        let tree = try CLITests.Tree()
        let folder = tree.root.appendingPathComponent("project_management/generated")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let paragraph = String(
            repeating: "The sync engine reconciles fabric state with the GitOps repository. ", count: 40)
        for number in 0..<400 {
            let text = (0..<6).map { "## Part \($0)\n\n\(paragraph)\n" }.joined()
            try Data("# Note \(number)\n\n\(text)".utf8).write(to: folder.appendingPathComponent("note-\(number).md"))
        }
        return tree
    }

    @Test("SIGTERM answers the request in flight and exits 0")
    func sigterm() async throws {
        let tree = try Self.largerTree()
        let server = try Serving(root: tree.root)
        let inFlight = Task { try await server.get("/v1/index?rebuild=true", method: "POST") }
        // Signal only once the server is inside the rebuild (health is answered meanwhile).
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(20), !(try await server.get("/healthz").1.contains("\"refreshing\":true")) {
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(server.process.processIdentifier, SIGTERM)
        let (status, body) = try await inFlight.value
        #expect(status == 200, "\(body.prefix(200))")
        #expect(server.exit() == 0)
        #expect(server.process.terminationReason == .exit)
    }

    @Test("after kill -9 during a rebuild, the next start opens or rebuilds the index by itself")
    func killNine() async throws {
        let tree = try Self.largerTree()
        let first = try Serving(root: tree.root)
        let rebuilding = Task { try? await first.get("/v1/index?rebuild=true", method: "POST") }
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(20), !(try await first.get("/healthz").1.contains("\"refreshing\":true")) {
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(first.process.processIdentifier, SIGKILL)
        _ = await rebuilding.value
        _ = first.exit()
        #expect(first.process.terminationReason == .uncaughtSignal)

        let second = try Serving(root: tree.root)
        let (status, health) = try await second.get("/healthz")
        #expect(status == 200)
        #expect(health.contains("\"status\":\"ok\""), "\(health)")
        let (searchStatus, results) = try await second.get("/v1/search?q=fabric")
        #expect(searchStatus == 200)
        #expect(results.contains("\"handle\""))
        kill(second.process.processIdentifier, SIGTERM)
        #expect(second.exit() == 0)
    }

    @Test("--help documents the slow-client limits and the pack queue; nonsense values are refused")
    func limitOptions() throws {
        let help = try CLITests.run(["serve", "--help"])
        for option in [
            "--header-timeout", "--body-timeout", "--idle-timeout", "--max-connections", "--pack-workers",
            "--pack-queue",
        ] {
            #expect(help.stdout.contains(option), "\(option) in serve --help")
        }
        #expect(help.stdout.contains("503"), "the help says what a full pack queue answers")
        let tree = try CLITests.Tree()
        for (arguments, message) in [
            (["--header-timeout", "0"], "--header-timeout must be between 0.1 and 3600 seconds"),
            (["--max-connections", "0"], "--max-connections must be at least 1"),
            (["--pack-workers", "0"], "--pack-workers must be at least 1"),
        ] {
            let run = try CLITests.run(["serve", "--root", tree.root.path, "--port", "0"] + arguments)
            #expect(run.status != 0)
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }
}
