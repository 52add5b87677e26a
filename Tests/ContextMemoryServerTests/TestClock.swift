import Synchronization

/// A `Clock` that moves only when the test moves it. ``sleep(until:tolerance:)`` suspends until
/// ``advance(by:)`` reaches the deadline, and ``advance(by:)`` returns once the tasks it woke sleep
/// on the clock again, so their work in between (a watcher's round, an index refresh) is done
/// when the test looks.
///
/// ```swift
/// let clock = TestClock()
/// let loop = Task { while !Task.isCancelled { try? await clock.sleep(for: .seconds(1)); work() } }
/// await clock.untilSleeping()        // the loop waits on the clock
/// await clock.advance(by: .seconds(1))  // work() ran once, and the loop waits again
/// ```
///
/// A task that never sleeps on it again makes ``advance(by:)`` wait until the test is cancelled:
/// the tests using it set a time limit.
final class TestClock: Clock {
    struct Instant: InstantProtocol {
        /// Time since the clock was made.
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Tests waiting until this many tasks sleep.
        var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        mutating func newID() -> Int {
            nextID += 1
            return nextID
        }

        /// Takes out the waiters whose count of sleepers is reached.
        mutating func satisfiedWaiters() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            let ready = waiters.filter { $0.count <= count }.map(\.continuation)
            waiters.removeAll { $0.count <= count }
            return ready
        }
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { $0.newID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome {
                    case cancelled, due
                    case asleep([CheckedContinuation<Void, Never>])
                }
                // Checked under the lock: a cancellation either comes first and is seen here, or
                // comes after and finds the sleeper in the list.
                let outcome = state.withLock { state -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return .asleep(state.satisfiedWaiters())
                }
                switch outcome {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .asleep(let waiters): for waiter in waiters { waiter.resume() }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time on by `duration`, wakes the tasks whose deadline that reaches, and returns once
    /// as many tasks sleep on the clock as before (the woken ones are waiting again).
    func advance(by duration: Duration) async {
        let (woken, sleeping) = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let woken = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return (woken, state.sleepers.count + woken.count)
        }
        for sleeper in woken { sleeper.continuation.resume() }
        await untilSleeping(sleeping)
    }

    /// Returns once at least `count` tasks sleep on the clock, or the waiting task is cancelled
    /// (by a test's time limit, say).
    func untilSleeping(_ count: Int = 1) async {
        let id = state.withLock { $0.newID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if Task.isCancelled || state.sleepers.count >= count { return true }
                    state.waiters.append((id, count, continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
    }
}
