import ContextMemory
public import Hummingbird
import HummingbirdCore
import Logging
public import NIOCore

extension HTTPAPI {
    /// The Hummingbird application `ctxmem serve` runs, and the tests run: ``router()`` behind an
    /// HTTP/1.1 server with the connection limit, the header, body and idle timeouts and the
    /// header limits of ``configuration``.
    ///
    /// The one place the application is put together: ctxmemTests run it on a socket, and
    /// ContextMemoryServerTests send requests straight to its router (HummingbirdTesting's
    /// `.router` mode), so what they check is what `serve` answers.
    ///
    /// ```swift
    /// let api = HTTPAPI(coordinator: coordinator, configuration: ServerConfiguration(port: 0), logger: logger)
    /// try await api.application { channel in print(channel.localAddress!) }.runService()
    /// ```
    ///
    /// The application logs through the ``HTTPAPI``'s logger.
    ///
    /// Hummingbird's own idle timeout stays off: ``ConnectionGuard`` times every phase of a
    /// connection itself (Hummingbird's cannot see a request whose headers are not complete).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>>
    {
        let settings = ConnectionGuard.Settings(
            limits: .init(
                header: TimeAmount(configuration.headerTimeout), body: TimeAmount(configuration.bodyTimeout),
                idle: TimeAmount(configuration.idleTimeout)),
            maxHeaderFieldBytes: configuration.maxHeaderFieldBytes, maxHeaderBytes: configuration.maxHeaderBytes,
            maxHeaderCount: configuration.maxHeaderCount)
        let connections = connections
        let metrics = metrics
        let logger = logger
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuard(settings: settings, registry: connections, metrics: metrics, logger: logger)
            ],
            idleTimeout: nil,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: configuration.maxHeaderFieldBytes,
                maxHeaderListSize: configuration.maxHeaderBytes,
                maxHeaderFieldCount: configuration.maxHeaderCount))
        return Application(
            router: router(),
            server: .http1(configuration: http1),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "ctxmem/\(Release.version)",
                availableConnectionsDelegate: connections.availableConnectionsDelegate),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
