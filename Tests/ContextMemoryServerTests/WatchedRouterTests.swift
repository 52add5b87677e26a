import Foundation
import Testing

@testable import ContextMemoryServer

/// The watcher on real inotify beside the HTTP API in process: an edit reaches search by itself,
/// and `/healthz` shows the watcher. The watcher's clock is a ``TestClock``; the one thing waited
/// for in real time is inotify's event (polled). ``MemoryWatcherTests`` check its timing in detail.
@Suite("Watcher behind the HTTP API", .timeLimit(.minutes(10)))
struct WatchedRouterTests {
    static func found(_ word: String, _ server: InProcessServer) async throws -> Bool {
        !((try await server.request(.get, "/v1/search?q=\(word)").object["results"] as? [Any]) ?? []).isEmpty
    }

    @Test("the watcher brings an edit into search by itself; its lag and heartbeat show in /healthz")
    func liveReindex() async throws {
        try await InProcessServer.with(watch: true) { server in
            try server.tree.append("project_management/README.md", "\n## Zebracorn\n\nThe zebracorn relay.\n")
            // The one thing not on the test clock: inotify's event, from the reader's thread.
            #expect(await Poll.until { await server.watcher.state().pendingEvents > 0 }, "no inotify event")
            #expect(try await Self.found("zebracorn", server) == false, "indexed before the watcher's refresh")
            // A save may come in several reads of events; 1 s after the first (the longest wait)
            // the burst is refreshed whatever arrived last.
            await server.clock.advance(by: .seconds(1))
            #expect(try await Self.found("zebracorn", server))
            let health = try await server.request(.get, "/healthz").object
            #expect(health["status"] as? String == "ok")
            let watcher = try #require(health["watcher"] as? [String: Any])
            #expect(watcher["mode"] as? String == "inotify")
            #expect(watcher["running"] as? Bool == true)
            #expect(watcher["lagSeconds"] as? Double == 1)
            #expect(watcher["heartbeatAt"] is String)
            #expect(watcher["lastEventAt"] is String)
        }
    }

    @Test("a stalled watcher is detected and restarted, and watches again")
    func stalledWatcher() async throws {
        try await InProcessServer.with(watch: true) { server in
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
            try server.tree.append("project_management/README.md", "\nQuokkaphant.\n")
            #expect(
                await Poll.until { await server.watcher.state().pendingEvents > 0 },
                "no inotify event after the restart")
            await server.clock.advance(by: .seconds(1))
            #expect(try await Self.found("quokkaphant", server))
        }
    }
}
