public import ContextMemory
import Foundation

/// Runs index refreshes one after another (a request, the watcher and start-up may all ask at
/// once) and remembers what `/healthz` and `/metrics` report about them.
public actor IndexCoordinator {
    public let service: MemoryService
    private var tail: Task<Void, Never> = Task {}
    private(set) var lastReport: IndexReport?
    private(set) var lastIndexedAt: Date?
    private(set) var lastError: String?
    private(set) var lastErrorAt: Date?
    private(set) var runs = 0
    private(set) var failures = 0
    /// Refreshes asked for and not finished (running or queued).
    private var inProgress = 0
    /// When the refresh running now started, and how long the last ones took.
    private var runningSince: ContinuousClock.Instant?
    private var recentSeconds: [Double] = []
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameter now: the time source (tests move it forward instead of sleeping).
    public init(
        service: MemoryService, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.service = service
        self.now = now
    }

    /// A refresh that has run this long, and ten times as long as the recent median, is overdue:
    /// `/healthz` says `degraded`, since new files are not being indexed meanwhile.
    public static let overdueFloor: Duration = .seconds(30)

    private func began(_ token: UUID) {
        runningSince = now()
        if waiting?.token == token { waiting = nil }  // started: later requests queue a new one
    }

    private func ended() {
        if let runningSince {
            recentSeconds.append((now() - runningSince).seconds)
            if recentSeconds.count > 20 { recentSeconds.removeFirst() }
        }
        runningSince = nil
    }

    /// Seconds the refresh running now has taken, when it is overdue.
    func overdueSeconds() -> Double? {
        guard let runningSince else { return nil }
        let elapsed = (now() - runningSince).seconds
        let usual = recentSeconds.sorted().dropFirst(recentSeconds.count / 2).first ?? 0
        return elapsed > max(Self.overdueFloor.seconds, 10 * usual) ? elapsed : nil
    }

    /// A refresh asked for and not started yet (it waits for the one running): a later request
    /// joins it instead of queueing another, since it will read the root as it is when it starts.
    private var waiting: (token: UUID, rebuild: Bool, work: Task<IndexReport, any Error>)?

    /// Brings the index in step with the root, after any refresh already running. Requests that
    /// arrive while one waits to start share it (twenty hooks writing handoffs at once cost one
    /// or two runs, not twenty); a rebuild joins only a waiting rebuild.
    @discardableResult
    public func refresh(rebuild: Bool = false) async throws -> IndexReport {
        let work: Task<IndexReport, any Error>
        let owner: Bool
        if let waiting, waiting.rebuild || !rebuild {
            work = waiting.work
            owner = false
        } else {
            let previous = tail
            let service = service
            let token = UUID()
            work = Task<IndexReport, any Error> {
                await previous.value
                // The task runs on this actor: began() and ended() need no hop.
                self.began(token)
                do {
                    let report = try await service.index(rebuild: rebuild)
                    self.ended()
                    return report
                } catch {
                    self.ended()
                    throw error
                }
            }
            waiting = (token, rebuild, work)
            tail = Task { _ = try? await work.value }
            owner = true
        }
        inProgress += 1
        defer { inProgress -= 1 }
        do {
            let report = try await work.value
            if owner {
                lastReport = report
                lastIndexedAt = Date()
                runs += 1
            }
            return report
        } catch {
            if owner {
                lastError = "\(error)"
                lastErrorAt = Date()
                failures += 1
            }
            throw error
        }
    }

    /// What `/healthz` shows about indexing.
    public func state() -> IndexState {
        IndexState(
            refreshing: inProgress > 0, generation: lastReport?.generation, documents: lastReport?.documents,
            lastIndexedAt: lastIndexedAt.map(Self.timestamp), lastIndexSeconds: lastReport?.seconds,
            lastError: lastError, lastErrorAt: lastErrorAt.map(Self.timestamp), runs: runs, failures: failures,
            overdueSeconds: overdueSeconds())
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// The index part of `/healthz`.
public struct IndexState: Sendable, Codable, Equatable {
    /// A refresh is running (reads meanwhile see the previous state).
    public var refreshing: Bool
    public var generation: Int?
    public var documents: Int?
    public var lastIndexedAt: String?
    public var lastIndexSeconds: Double?
    public var lastError: String?
    public var lastErrorAt: String?
    public var runs: Int
    public var failures: Int
    /// Set while a refresh has run far longer than usual (``IndexCoordinator/overdueFloor``, and
    /// ten times the recent median): the service is degraded until it ends.
    public var overdueSeconds: Double?
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
