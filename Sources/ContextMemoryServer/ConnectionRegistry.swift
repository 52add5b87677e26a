import Foundation
public import HummingbirdCore
public import Logging
import NIOCore
import Synchronization

/// The open connections and what each waits for, so that at the connection limit the server can
/// close the one a real client misses least instead of refusing everyone.
///
/// Why not only stop accepting at the limit (Hummingbird's `MaximumAvailableConnections`): then
/// 300 clients that each send half a request hold every slot until their timeouts, and a probe's
/// `GET /healthz` waits in the listen backlog behind them. Here, at the limit, the connection that
/// has used up the largest share of its time (``ConnectionState/Wait``: idle, opened without a
/// request, sending headers or sending a body) is closed to make room; a connection whose request
/// is being answered is never closed for another. Only when every connection is being answered do
/// new ones wait in the backlog, and a line is logged either way (at most one per 10 s, with a count).
public final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var wait: ConnectionState.Wait?
        var closing = false
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var evictedSinceLog = 0
        var lastLog: NIODeadline?
        /// The listener stopped accepting because no connection could be closed: the first one
        /// that can be (its answer sent) is closed at once to let the next client in.
        var waitingForRoom = false
    }

    /// The limit (``ServerConfiguration/maxConnections``).
    public let maxConnections: Int
    private let state = Mutex(State())
    private let logger: Logger
    private let metrics: RequestMetrics

    /// - Parameters:
    ///   - logger: where the limit is logged when reached (warning).
    ///   - metrics: counts the connections closed to make room (`evicted`).
    public init(maxConnections: Int, logger: Logger, metrics: RequestMetrics) {
        self.maxConnections = maxConnections
        self.logger = logger
        self.metrics = metrics
    }

    /// Connections open now (set up and not yet closed).
    public var count: Int { state.withLock { $0.entries.count } }

    func register(_ channel: any Channel, _ wait: ConnectionState.Wait?) -> UInt64 {
        state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(channel: channel, wait: wait)
            return state.nextID
        }
    }

    func update(_ id: UInt64, _ wait: ConnectionState.Wait?) {
        let victim = state.withLock { state -> (any Channel)? in
            state.entries[id]?.wait = wait
            guard state.waitingForRoom, wait != nil, let entry = state.entries[id], !entry.closing else { return nil }
            state.waitingForRoom = false
            state.entries[id]?.closing = true
            state.evictedSinceLog += 1
            return entry.channel
        }
        if let victim {
            metrics.recordConnectionClosed(reason: "evicted")
            victim.close(promise: nil)
        }
    }

    func unregister(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Closes the connection that has used up the largest share of its time, if any may be closed;
    /// if none may, the first to become closable is closed as soon as it does (``update(_:_:)``).
    /// - Parameter open: the connections the listener counts as open (some may not be set up yet).
    /// - Returns: whether one was closed (its slot frees when the close completes).
    @discardableResult
    func evictOne(open: Int, now: NIODeadline = .now()) -> Bool {
        let (victim, message) = state.withLock { state -> ((any Channel)?, String?) in
            var candidate: (id: UInt64, channel: any Channel, wait: ConnectionState.Wait)?
            for (id, entry) in state.entries where !entry.closing {
                guard let wait = entry.wait else { continue }
                if let best = candidate, best.wait.used(at: now) >= wait.used(at: now) { continue }
                candidate = (id, entry.channel, wait)
            }
            if let candidate {
                state.entries[candidate.id]?.closing = true
                state.evictedSinceLog += 1
            }
            state.waitingForRoom = candidate == nil
            guard state.lastLog.map({ now - $0 >= .seconds(10) }) ?? true else { return (candidate?.channel, nil) }
            state.lastLog = now
            let message: String
            if let candidate {
                let waited = Double((now - candidate.wait.since).nanoseconds) / 1e9
                message =
                    "connection limit reached: \(open) connections open (--max-connections \(maxConnections)); "
                    + "closed the one nearest its timeout (\(candidate.wait.what) for \(String(format: "%.1f", waited)) s)"
                    + (state.evictedSinceLog > 1 ? "; \(state.evictedSinceLog) closed so since the last such line" : "")
                state.evictedSinceLog = 0
            } else {
                message =
                    "connection limit reached: \(open) connections open (--max-connections \(maxConnections)), "
                    + "every one with a request being answered; new connections wait in the listen backlog"
            }
            return (candidate?.channel, message)
        }
        if let message { logger.warning("\(message)") }
        guard let victim else { return false }
        metrics.recordConnectionClosed(reason: "evicted")
        victim.close(promise: nil)
        return true
    }

    /// The delegate Hummingbird's server channel asks before accepting: below the limit yes; at
    /// the limit, no, after closing a connection to make room when one may be closed (Hummingbird
    /// asks again, and accepts, once that connection's close completes).
    public var availableConnectionsDelegate: some AvailableConnectionsDelegate { Delegate(registry: self) }

    private struct Delegate: AvailableConnectionsDelegate {
        let registry: ConnectionRegistry
        /// Counted here, in the order Hummingbird reports opens and closes on the server's event
        /// loop, not from the registry, which learns of a close a little later.
        var open = 0

        mutating func connectionOpened() { open += 1 }
        mutating func connectionClosed() { open -= 1 }

        func isAcceptingNewConnections() -> Bool {
            if open < registry.maxConnections { return true }
            registry.evictOne(open: open)
            return false
        }
    }
}
