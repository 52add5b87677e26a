import Dispatch
import Synchronization
import Testing

@testable import ContextMemoryServer

/// The pack work queue: so many at work, so many in line, the rest refused at once.
@Suite("Work queue")
struct WorkQueueTests {
    /// Waits (polled, without a clock of its own) until the queue shows the expected load.
    static func until(_ queue: WorkQueue, running: Int, waiting: Int) async throws {
        _ = await Poll.until { queue.load.running == running && queue.load.waiting == waiting }
        #expect(queue.load.running == running && queue.load.waiting == waiting, "\(queue.load)")
    }

    @Test("one worker and one place in line: the third job is refused, the second runs when the first ends")
    func bounded() async throws {
        let queue = WorkQueue(workers: 1, capacity: 1)
        let gate = DispatchSemaphore(value: 0)
        let first = Task {
            try await queue.run {
                gate.wait()
                return 1
            }
        }
        try await Self.until(queue, running: 1, waiting: 0)
        let second = Task { try await queue.run { 2 } }
        try await Self.until(queue, running: 1, waiting: 1)
        await #expect(throws: WorkQueue.Full(running: 1, waiting: 1)) { try await queue.run { 3 } }
        #expect(queue.load.refused == 1)
        gate.signal()
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        try await Self.until(queue, running: 0, waiting: 0)
    }

    @Test("jobs wait in the order they came")
    func firstComeFirstServed() async throws {
        let queue = WorkQueue(workers: 1, capacity: 4)
        let gate = DispatchSemaphore(value: 0)
        let order = OrderRecorder()
        let blocker = Task { try await queue.run { gate.wait() } }
        try await Self.until(queue, running: 1, waiting: 0)
        var waiting: [Task<Void, any Error>] = []
        for index in 0..<4 {
            waiting.append(Task { try await queue.run { order.append(index) } })
            try await Self.until(queue, running: 1, waiting: index + 1)
        }
        gate.signal()
        try await blocker.value
        for task in waiting { try await task.value }
        #expect(order.values == [0, 1, 2, 3])
    }

    @Test("a job's error reaches its caller and frees the worker")
    func errors() async throws {
        struct Failure: Error {}
        let queue = WorkQueue(workers: 1, capacity: 0)
        await #expect(throws: Failure.self) { try await queue.run { throw Failure() } }
        #expect(try await queue.run { 7 } == 7)
    }
}

/// Values appended from jobs on other threads.
final class OrderRecorder: Sendable {
    private let store = Mutex<[Int]>([])
    var values: [Int] { store.withLock { $0 } }
    func append(_ value: Int) { store.withLock { $0.append(value) } }
}
