import Foundation
import Synchronization

/// Counters and latency histograms per route, in Prometheus' text format (`GET /metrics`).
///
/// Kept in process and small on purpose: a handful of series, no dependency on a metrics backend.
public final class RequestMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private struct Series {
        var count = 0
        var sum = 0.0
        var buckets = [Int](repeating: 0, count: RequestMetrics.buckets.count)
    }

    private struct State {
        var requests: [String: Int] = [:]  // "route\0method\0status"
        var latency: [String: Series] = [:]  // "route\0method"
        var packTokens = Series()
        var packs = 0
        var connectionsClosed: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    func record(route: String, method: String, status: Int, seconds: Double) {
        state.withLock { state in
            state.requests["\(route)\u{0}\(method)\u{0}\(status)", default: 0] += 1
            Self.observe(&state.latency["\(route)\u{0}\(method)", default: Series()], seconds)
        }
    }

    func recordPack(tokens: Int) {
        state.withLock { state in
            state.packs += 1
            state.packTokens.count += 1
            state.packTokens.sum += Double(tokens)
        }
    }

    /// A connection the server closed itself, or a request refused before routing, by reason:
    /// `header_timeout`, `body_timeout`, `idle_timeout`, `stalled_reader`, `evicted` (to make room
    /// at the connection limit), `request_head_too_large`, `malformed_request`.
    func recordConnectionClosed(reason: String) {
        state.withLock { $0.connectionsClosed[reason, default: 0] += 1 }
    }

    /// What the server's guards see at the moment of a scrape (gauges and the queue's refusals).
    struct Load {
        var connections: Int
        var maxConnections: Int
        var packsRunning: Int
        var packsWaiting: Int
        var packsRefused: Int
    }

    private static func observe(_ series: inout Series, _ value: Double) {
        series.count += 1
        series.sum += value
        for (index, bound) in buckets.enumerated() where value <= bound { series.buckets[index] += 1 }
    }

    /// The exposition text, with the index figures the caller knows.
    func render(index: IndexState, watcher: WatcherState?, load: Load? = nil) -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        func label(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        out += "# HELP ctxmem_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE ctxmem_http_requests_total counter\n"
        for (key, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            out +=
                "ctxmem_http_requests_total{route=\"\(label(parts[0]))\",method=\"\(parts[1])\",status=\"\(parts[2])\"} \(count)\n"
        }
        out += "# HELP ctxmem_http_request_duration_seconds Time to answer a request, by route and method.\n"
        out += "# TYPE ctxmem_http_request_duration_seconds histogram\n"
        for (key, series) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let labels = "route=\"\(label(parts[0]))\",method=\"\(parts[1])\""
            for (index, bound) in Self.buckets.enumerated() {
                out +=
                    "ctxmem_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(series.buckets[index])\n"
            }
            out += "ctxmem_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(series.count)\n"
            out += "ctxmem_http_request_duration_seconds_sum{\(labels)} \(series.sum)\n"
            out += "ctxmem_http_request_duration_seconds_count{\(labels)} \(series.count)\n"
        }
        out +=
            "# HELP ctxmem_http_connections_closed_total Connections the server closed, or requests it refused before routing, by reason.\n"
        out += "# TYPE ctxmem_http_connections_closed_total counter\n"
        for (reason, count) in snapshot.connectionsClosed.sorted(by: { $0.key < $1.key }) {
            out += "ctxmem_http_connections_closed_total{reason=\"\(label(reason))\"} \(count)\n"
        }
        if let load {
            out += "# HELP ctxmem_http_connections Open HTTP connections.\n# TYPE ctxmem_http_connections gauge\n"
            out += "ctxmem_http_connections \(load.connections)\n"
            out +=
                "# HELP ctxmem_http_connections_max The connection limit (--max-connections).\n# TYPE ctxmem_http_connections_max gauge\n"
            out += "ctxmem_http_connections_max \(load.maxConnections)\n"
            out += "# HELP ctxmem_pack_queue_running Packs being built.\n# TYPE ctxmem_pack_queue_running gauge\n"
            out += "ctxmem_pack_queue_running \(load.packsRunning)\n"
            out +=
                "# HELP ctxmem_pack_queue_waiting Packs waiting for a worker.\n# TYPE ctxmem_pack_queue_waiting gauge\n"
            out += "ctxmem_pack_queue_waiting \(load.packsWaiting)\n"
            out +=
                "# HELP ctxmem_pack_queue_rejected_total Pack requests refused with 503 overloaded because the queue was full.\n"
            out +=
                "# TYPE ctxmem_pack_queue_rejected_total counter\nctxmem_pack_queue_rejected_total \(load.packsRefused)\n"
        }
        out += "# HELP ctxmem_pack_tokens Tokens of the packs served.\n# TYPE ctxmem_pack_tokens summary\n"
        out +=
            "ctxmem_pack_tokens_sum \(Int(snapshot.packTokens.sum))\nctxmem_pack_tokens_count \(snapshot.packTokens.count)\n"
        out +=
            "# HELP ctxmem_index_documents Documents in the index after the last refresh.\n# TYPE ctxmem_index_documents gauge\n"
        out += "ctxmem_index_documents \(index.documents ?? 0)\n"
        out +=
            "# HELP ctxmem_index_generation Index generation after the last refresh.\n# TYPE ctxmem_index_generation gauge\n"
        out += "ctxmem_index_generation \(index.generation ?? 0)\n"
        out +=
            "# HELP ctxmem_index_duration_seconds Duration of the last index refresh.\n# TYPE ctxmem_index_duration_seconds gauge\n"
        out += "ctxmem_index_duration_seconds \(index.lastIndexSeconds ?? 0)\n"
        out +=
            "# HELP ctxmem_index_refreshes_total Index refreshes, by outcome.\n# TYPE ctxmem_index_refreshes_total counter\n"
        out +=
            "ctxmem_index_refreshes_total{outcome=\"ok\"} \(index.runs)\nctxmem_index_refreshes_total{outcome=\"failed\"} \(index.failures)\n"
        if let watcher {
            out +=
                "# HELP ctxmem_watcher_lag_seconds Time from the last file event to the index refresh that took it in.\n"
            out += "# TYPE ctxmem_watcher_lag_seconds gauge\nctxmem_watcher_lag_seconds \(watcher.lagSeconds ?? 0)\n"
            out += "# HELP ctxmem_watcher_restarts_total Times the watcher was found stalled and restarted.\n"
            out += "# TYPE ctxmem_watcher_restarts_total counter\nctxmem_watcher_restarts_total \(watcher.restarts)\n"
        }
        return out
    }
}
