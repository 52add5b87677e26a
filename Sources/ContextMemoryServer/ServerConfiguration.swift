import ContextMemory
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where `ctxmem serve` listens, what it accepts, and how long and how many clients it waits for.
///
/// Every limit is here so `ctxmem serve` and the tests build the same server
/// (``HTTPAPI/application(onServerRunning:)``). The defaults are meant for one memory
/// root served on a developer's machine or beside an agent runner; docs/service.md lists them.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// When set, every route but `/healthz` requires `Authorization: Bearer <token>`.
    public var token: String?
    /// Largest request body accepted (POST /v1/packs).
    public var maxBodyBytes: Int
    /// Longest query string accepted, in bytes (a longer one is a 414): room for a `q` at
    /// ``SearchQuery/maxLength`` characters percent-encoded at the most it takes (12 bytes for a
    /// 4-byte UTF-8 character), and 4 KiB for the other parameters. A query the schema allows is
    /// never refused for its bytes.
    public var maxQueryStringBytes: Int

    /// Longest request line or header field, in bytes (NIO's decoder refuses longer ones; the
    /// answer is a 400 `request_head_too_large`). Larger than ``maxQueryStringBytes`` so an
    /// over-long query string gets the more precise 414 first.
    public var maxHeaderFieldBytes: Int
    /// Most bytes of request line and header fields together (NIO's default, 80 KiB).
    public var maxHeaderBytes: Int
    /// Most header fields in one request (NIO's own default is 65,534).
    public var maxHeaderCount: Int

    /// Time a client has to send a request's line and headers, from its first byte (or from the
    /// connection's opening, for the first request). Against clients that trickle headers.
    public var headerTimeout: Duration
    /// Time a client has to send a request's whole body once its headers are in. At 64 KiB, 30 s
    /// asks for 2.2 KB/s, which any real client exceeds; a client that promises 10 bytes and
    /// sends 5 is answered 408 instead of being held.
    public var bodyTimeout: Duration
    /// Time an idle keep-alive connection is kept between requests.
    public var idleTimeout: Duration
    /// Most connections open at once. At the limit, a new connection takes the place of the one
    /// nearest its timeout, idle or sending a request (``ConnectionRegistry``); when every
    /// connection has a request being answered, new ones wait in the listen backlog.
    public var maxConnections: Int

    /// Packs built at once. Packs are CPU-bound, so more than the cores only adds latency.
    public var packWorkers: Int
    /// Packs waiting for a worker; past that a pack request is answered 503 `overloaded` with
    /// `Retry-After`, so latency stays bounded (about `packQueue / packWorkers` pack times)
    /// instead of growing with the number of clients.
    public var packQueue: Int
    /// Whether `/` serves the web console (`ctxmem serve --no-console` turns it off).
    public var console = true

    public static let defaultPort = 8377

    /// See ``maxQueryStringBytes``.
    public static let defaultMaxQueryStringBytes = 12 * SearchQuery.maxLength + 4096

    /// The cores this process may use: the default pack workers, and an eighth of the pack queue.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Descriptors kept free of connections: the SQLite files of every reader connection and the
    /// writer, the watcher, the listening socket, the event loops' epoll and event descriptors,
    /// standard input and output, and the files indexing opens. About 30 are used; 64 is a margin.
    public static let reservedDescriptors = 64

    /// The default connection limit: 1,024, or fewer when the process's descriptor limit
    /// (`RLIMIT_NOFILE`, `ulimit -n`) minus ``reservedDescriptors`` is lower, so accepting a
    /// connection never fails for want of a descriptor (a failed accept stalls the listener).
    public static func defaultMaxConnections() -> Int {
        guard let limit = descriptorLimit() else { return 1024 }
        return max(8, min(1024, limit - reservedDescriptors))
    }

    /// The process's soft limit on open descriptors (`ulimit -n`), nil when unlimited (`RLIM_INFINITY`, all ones) or unknown.
    public static func descriptorLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    public init(
        host: String = "127.0.0.1", port: Int = ServerConfiguration.defaultPort, token: String? = nil,
        maxBodyBytes: Int = 64 * 1024, maxQueryStringBytes: Int = ServerConfiguration.defaultMaxQueryStringBytes,
        maxHeaderFieldBytes: Int = 64 * 1024, maxHeaderBytes: Int = 80 * 1024, maxHeaderCount: Int = 100,
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60), maxConnections: Int = ServerConfiguration.defaultMaxConnections(),
        packWorkers: Int = ServerConfiguration.cores, packQueue: Int = 8 * ServerConfiguration.cores
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.maxBodyBytes = maxBodyBytes
        self.maxQueryStringBytes = maxQueryStringBytes
        self.maxHeaderFieldBytes = maxHeaderFieldBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.packWorkers = packWorkers
        self.packQueue = packQueue
    }
}
