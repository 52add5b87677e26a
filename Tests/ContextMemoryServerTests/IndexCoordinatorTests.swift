import ContextMemory
import Foundation
import Synchronization
import Testing

@testable import ContextMemoryServer

@Suite("Index refreshes in the service")
struct IndexCoordinatorTests {
    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        private let offset = Mutex<Duration>(.zero)
        private let start = ContinuousClock.now
        func advance(_ by: Duration) { offset.withLock { $0 += by } }
        var now: ContinuousClock.Instant { start + offset.withLock { $0 } }
    }

    @Test("a refresh that runs far longer than usual makes /healthz degraded until it ends")
    func overdueRefresh() async throws {
        let tree = try FixtureTree()
        let clock = ManualClock()
        let service = MemoryService(root: tree.root, readerConnections: 1)
        let coordinator = IndexCoordinator(service: service, now: { clock.now })
        try await coordinator.refresh()
        #expect(await coordinator.state().overdueSeconds == nil)

        // Another writer holds the index (a stuck run elsewhere): the next refresh waits on it.
        let lockPath = service.databasePath + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(flock(descriptor, LOCK_EX) == 0)
        let refreshing = Task { try await coordinator.refresh() }
        #expect(await Poll.until { await coordinator.state().refreshing })
        #expect(await coordinator.state().overdueSeconds == nil)  // not yet far longer than usual
        // 31 s more on the test's clock each round, until the refresh has started timing (it may
        // not have when `refreshing` shows: the wait on the clock is what is checked, not the start).
        #expect(
            await Poll.until {
                clock.advance(.seconds(31))
                return await coordinator.state().overdueSeconds != nil
            })
        let overdue = try #require(await coordinator.state().overdueSeconds)
        #expect(overdue >= 31)
        close(descriptor)  // the other writer is done
        _ = try await refreshing.value
        #expect(await coordinator.state().overdueSeconds == nil)
    }
}
