import NIOPosix
import Synchronization

/// Runs CPU-bound jobs (packs) on ``workers`` threads of its own with at most ``capacity`` more
/// waiting, first come first served; a job beyond that is refused at once with ``Full``.
///
/// Why bounded: a pack is tens of milliseconds of CPU, so 500 clients asking at once cannot all be
/// served quickly; with an unbounded queue every one of them waits behind all the others, latency
/// grows until clients time out and the work done for them is wasted (before this queue, 500
/// connections got 332 packs in 15 s and 160 client time-outs). Refusing what would wait longer
/// than about `capacity / workers` pack times keeps the answered ones fast and tells the rest to
/// come back (HTTP 503 with `Retry-After`).
///
/// Why threads of its own (a `NIOThreadPool`): on Swift's cooperative pool (a thread per core)
/// packs would hold every thread and stall all other requests, `/healthz` included, for as long
/// as they run; on Dispatch's global queue they would share threads with whatever else blocks
/// there, and Linux's Dispatch adds a thread for blocked work only about once a second.
///
/// A job waiting for a worker is not cancelled with its task: waits are bounded (at most
/// `capacity` jobs ahead of it) and Hummingbird answers requests in flight even at shutdown.
final class WorkQueue: Sendable {
    /// The queue was full: `running` jobs at work and `waiting` more in line.
    struct Full: Error, Equatable {
        var running: Int
        var waiting: Int
    }

    private struct State {
        var admitted = 0
        var refused = 0
    }

    let workers: Int
    let capacity: Int
    private let state = Mutex(State())
    private let threads: NIOThreadPool

    init(workers: Int, capacity: Int) {
        precondition(workers >= 1 && capacity >= 0, "a work queue needs a worker")
        self.workers = workers
        self.capacity = capacity
        threads = NIOThreadPool(numberOfThreads: workers)
        threads.start()
    }

    deinit { threads.shutdownGracefully { _ in } }

    /// Jobs running, jobs waiting, and jobs refused so far.
    var load: (running: Int, waiting: Int, refused: Int) {
        state.withLock { (min($0.admitted, workers), max(0, $0.admitted - workers), $0.refused) }
    }

    /// Runs `job` on a worker when one is free, waiting in line for one if the line is short
    /// enough (the thread pool keeps the line, in order).
    /// - Throws: ``Full`` without running `job` when the line is full, or what `job` throws.
    func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try state.withLock { state in
            guard state.admitted < workers + capacity else {
                state.refused += 1
                throw Full(running: min(state.admitted, workers), waiting: max(0, state.admitted - workers))
            }
            state.admitted += 1
        }
        defer { state.withLock { $0.admitted -= 1 } }
        return try await threads.runIfActive(job)
    }
}
