import ContextMemory
@testable import ContextMemoryServer
import Foundation
import Synchronization
import Testing

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
        let tree = try CLITests.Tree()
        let clock = ManualClock()
        let service = MemoryService(root: tree.root, readerConnections: 1)
        let coordinator = IndexCoordinator(service: service, now: { clock.now })
        try await coordinator.refresh()
        #expect(await coordinator.state().overdueSeconds == nil)

        // Another writer holds the index (a stuck run elsewhere): the next refresh waits on it.
        let holder = try CLITests.run(["index", "--root", tree.root.path])  // makes sure the index exists
        #expect(holder.status == 0)
        let lockPath = service.databasePath + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(flock(descriptor, LOCK_EX) == 0)
        let refreshing = Task { try await coordinator.refresh() }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await coordinator.state().refreshing)
        #expect(await coordinator.state().overdueSeconds == nil)  // not yet far longer than usual
        clock.advance(.seconds(31))
        let overdue = try #require(await coordinator.state().overdueSeconds)
        #expect(overdue >= 31)
        close(descriptor)  // the other writer is done
        _ = try await refreshing.value
        #expect(await coordinator.state().overdueSeconds == nil)
    }
}
