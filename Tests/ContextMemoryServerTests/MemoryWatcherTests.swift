import ContextMemory
import Foundation
import Synchronization
import Testing

@testable import ContextMemoryServer

/// The watcher's timing on a ``TestClock`` the test advances, with a stand-in for the inotify
/// thread (``WatchedRouterTests`` run it on real inotify). The durations are the defaults
/// docs/service.md states: 150 ms debounce, 1 s longest wait, 60 s rescan, 5 s stall, 2 s polling.
/// The time limit only guards against a hang (a watcher that never waits on the clock again): the
/// suite starts every test at once on two cores, so a test may wait a minute or more for its turn.
@Suite("File watcher", .timeLimit(.minutes(10)))
struct MemoryWatcherTests {
    /// A stand-in for the inotify thread: alive (its heartbeat is the clock's now) until frozen.
    final class FakeReader: EventReader {
        private struct State {
            var frozenAt: TestClock.Instant?
            var stopped = false
        }

        private let clock: TestClock
        private let state = Mutex(State())

        init(clock: TestClock) { self.clock = clock }

        var lastHeartbeat: TestClock.Instant { state.withLock { $0.frozenAt } ?? clock.now }
        var lastHeartbeatDate: Date { MemoryWatcherTests.date(at: lastHeartbeat.offset) }
        var folderCount: Int { 3 }
        var stopped: Bool { state.withLock { $0.stopped } }

        func stop() { state.withLock { $0.stopped = true } }
        func freeze() {
            let now = clock.now
            state.withLock { $0.frozenAt = $0.frozenAt ?? now }
        }
    }

    /// The readers a watcher started, in order.
    final class Readers: Sendable {
        private let started = Mutex<[FakeReader]>([])
        var all: [FakeReader] { started.withLock { $0 } }
        func start(_ clock: TestClock) -> FakeReader {
            let reader = FakeReader(clock: clock)
            started.withLock { $0.append(reader) }
            return reader
        }
    }

    struct Unavailable: Error {}

    /// The wall-clock time the watcher's timestamps show, `offset` after the test clock started.
    static func date(at offset: Duration) -> Date { Date(timeIntervalSince1970: 1_800_000_000 + offset.seconds) }
    static func timestamp(at offset: Duration) -> String { IndexCoordinator.timestamp(date(at: offset)) }

    /// A running watcher on a fixture copy; stopped when the test's closure returns.
    struct Harness {
        let tree: FixtureTree
        let clock: TestClock
        let coordinator: IndexCoordinator
        let watcher: MemoryWatcher<TestClock>
        let readers: Readers
        let watching: Task<Void, Never>

        /// Index refreshes so far (the watcher's are the only ones).
        var refreshes: Int { get async { await coordinator.state().runs } }
        var state: WatcherState { get async { await watcher.state() } }

        func stop() async {
            watching.cancel()
            await watching.value
        }
    }

    /// - Parameter readerFails: no reader can be started (no inotify, or out of watches).
    static func withWatcher(readerFails: Bool = false, _ body: (Harness) async throws -> Void) async throws {
        let tree = try FixtureTree()
        let clock = TestClock()
        let coordinator = IndexCoordinator(service: MemoryService(root: tree.root, readerConnections: 1))
        let readers = Readers()
        let watcher = MemoryWatcher(
            coordinator: coordinator, timing: .init(), clock: clock,
            wallClock: { date(at: clock.now.offset) }
        ) { _, _, _ in
            if readerFails { throw Unavailable() }
            return readers.start(clock)
        }
        let watching = Task { await watcher.run() }
        await clock.untilSleeping()  // the reader is started and the loop waits on the clock
        let harness = Harness(
            tree: tree, clock: clock, coordinator: coordinator, watcher: watcher, readers: readers,
            watching: watching)
        defer { watching.cancel() }
        try await body(harness)
        await harness.stop()
    }

    @Test("a burst of events is refreshed once, 150 ms after its last event; the lag counts from its first")
    func debounce() async throws {
        try await Self.withWatcher { w in
            await w.watcher.note(events: 2)  // t = 0
            await w.clock.advance(by: .milliseconds(100))
            #expect(await w.refreshes == 0, "100 ms of quiet is not enough")
            await w.watcher.note(events: 1)  // t = 100 ms: the save goes on
            await w.clock.advance(by: .milliseconds(100))
            #expect(await w.refreshes == 0, "the quiet time starts again at each event")
            #expect(await w.state.pendingEvents == 3)
            #expect(await w.state.lastEventAt == Self.timestamp(at: .milliseconds(100)))
            await w.clock.advance(by: .milliseconds(50))  // t = 250 ms: 150 ms after the last event
            #expect(await w.refreshes == 1)
            let state = await w.state
            #expect(state.pendingEvents == 0)
            #expect(state.lagSeconds == 0.25)
            await w.clock.advance(by: .seconds(5))
            #expect(await w.refreshes == 1, "no refresh without new events")
        }
    }

    @Test("under a continuous stream of events the refresh comes 1 s after the first")
    func maximumDelay() async throws {
        try await Self.withWatcher { w in
            await w.watcher.note(events: 1)
            for step in 1...9 {
                await w.clock.advance(by: .milliseconds(100))
                #expect(await w.refreshes == 0, "at \(step * 100) ms")
                await w.watcher.note(events: 1)
            }
            await w.clock.advance(by: .milliseconds(100))
            #expect(await w.refreshes == 1)
            #expect(await w.state.lagSeconds == 1)
        }
    }

    @Test("without events a full rescan runs every 60 s, and /healthz says when; a live reader is kept")
    func periodicRescan() async throws {
        try await Self.withWatcher { w in
            await w.clock.advance(by: .seconds(59))
            #expect(await w.refreshes == 0)
            #expect(await w.state.lastRescanAt == nil)
            await w.clock.advance(by: .seconds(1))
            #expect(await w.refreshes == 1)
            #expect(await w.state.lastRescanAt == Self.timestamp(at: .seconds(60)))
            await w.clock.advance(by: .seconds(60))
            #expect(await w.refreshes == 2)
            #expect(await w.state.lastRescanAt == Self.timestamp(at: .seconds(120)))
            #expect(await w.state.restarts == 0)
            #expect(w.readers.all.count == 1)
        }
    }

    @Test("a reader silent for 5 s is replaced and counted, and the index rescanned for events it lost")
    func stalledReader() async throws {
        try await Self.withWatcher { w in
            await w.clock.advance(by: .seconds(1))
            await w.watcher.simulateStall()  // silent from t = 1 s
            await w.clock.advance(by: .milliseconds(4950))
            #expect(await w.state.restarts == 0, "silent for 4.95 s only")
            #expect(await w.refreshes == 0)
            await w.clock.advance(by: .milliseconds(100))
            let state = await w.state
            #expect(state.restarts == 1)
            #expect(state.running)
            #expect(state.mode == "inotify")
            let readers = w.readers.all
            #expect(readers.count == 2)
            #expect(readers.first?.stopped == true)
            #expect(readers.last?.stopped == false)
            #expect(await w.refreshes == 1)
            await w.clock.advance(by: .seconds(10))
            #expect(await w.state.restarts == 1, "the new reader beats")
        }
    }

    @Test("without a reader (no inotify, or out of watches) the watcher polls: a rescan every 2 s")
    func polling() async throws {
        try await Self.withWatcher(readerFails: true) { w in
            let state = await w.state
            #expect(state.mode == "polling")
            #expect(state.running)
            #expect(state.heartbeatAt == nil)
            await w.clock.advance(by: .milliseconds(1950))
            #expect(await w.refreshes == 0)
            await w.clock.advance(by: .milliseconds(50))
            #expect(await w.refreshes == 1)
            await w.clock.advance(by: .seconds(2))
            #expect(await w.refreshes == 2)
        }
    }

    @Test("cancelling run() stops the reader, and /healthz shows the watcher down")
    func cancellation() async throws {
        try await Self.withWatcher { w in
            #expect(await w.state.running)
            #expect(await w.state.folders == 3)
            await w.stop()
            #expect(await w.state.running == false)
            #expect(w.readers.all.first?.stopped == true)
        }
    }
}
