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

    public init(service: MemoryService) {
        self.service = service
    }

    /// Brings the index in step with the root, after any refresh already running.
    @discardableResult
    public func refresh(rebuild: Bool = false) async throws -> IndexReport {
        let previous = tail
        let service = service
        let work = Task<IndexReport, any Error> {
            await previous.value
            return try await service.index(rebuild: rebuild)
        }
        tail = Task { _ = try? await work.value }
        inProgress += 1
        defer { inProgress -= 1 }
        do {
            let report = try await work.value
            lastReport = report
            lastIndexedAt = Date()
            runs += 1
            return report
        } catch {
            lastError = "\(error)"
            lastErrorAt = Date()
            failures += 1
            throw error
        }
    }

    /// What `/healthz` shows about indexing.
    public func state() -> IndexState {
        IndexState(refreshing: inProgress > 0, generation: lastReport?.generation, documents: lastReport?.documents,
                   lastIndexedAt: lastIndexedAt.map(Self.timestamp), lastIndexSeconds: lastReport?.seconds,
                   lastError: lastError, lastErrorAt: lastErrorAt.map(Self.timestamp), runs: runs, failures: failures)
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
}
