import ContextMemory
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// One per connection, between the HTTP/1.1 decoder and Hummingbird: times the client (header,
/// body and idle timeouts), keeps the ``ConnectionRegistry`` told what the connection waits for,
/// and answers requests NIO could not parse with the API's JSON error instead of Hummingbird's
/// empty 400.
///
/// Hummingbird's own `idleTimeout` only counts time between decoded HTTP parts, so a client that
/// trickles a header byte a second is never timed (no part is complete) and one that stops in the
/// middle of a body is given the whole idle time; it also cannot tell a quiet keep-alive
/// connection from one sending headers slowly. This handler sees every read (`channelReadComplete`
/// fires for bytes that complete no part) and both directions of the exchange, and leaves the
/// decisions to ``ConnectionState``.
///
/// A timed-out request that has not been answered gets a 408 `request_timeout` naming the limit
/// and its `ctxmem serve` option, then the connection is closed; an idle connection is closed
/// without a word, as HTTP/1.1 allows.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Settings: Sendable {
        var limits: ConnectionState.Limits
        var maxHeaderFieldBytes: Int
        var maxHeaderBytes: Int
        var maxHeaderCount: Int
    }

    private let settings: Settings
    private let registry: ConnectionRegistry
    private let metrics: RequestMetrics
    private let logger: Logger
    private var state = ConnectionState(now: .now())
    private var id: UInt64?
    private var partsThisRead = 0
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?
    private var closing = false

    init(settings: Settings, registry: ConnectionRegistry, metrics: RequestMetrics, logger: Logger) {
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        state = ConnectionState(now: .now())
        id = registry.register(context.channel, state.wait(settings.limits))
        schedule(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        if let id { registry.unregister(id) }
        id = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.task.cancel()
        timer = nil
        if let id { registry.unregister(id) }
        id = nil
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partsThisRead += 1
        switch unwrapInboundIn(data) {
        case .head: changed(context) { $0.headRead(now: .now()) }
        case .body: break
        case .end: changed(context) { $0.endRead(now: .now()) }
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if partsThisRead == 0 { changed(context) { $0.bytesArrived(now: .now()) } }
        partsThisRead = 0
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        changed(context) { $0.writabilityChanged(writable: writable, now: .now()) }
        context.fireChannelWritabilityChanged()
    }

    /// A request NIO could not decode, while no other request is being answered: the JSON error
    /// every other 400 has, then close (the decoder cannot resynchronise after an error). While a
    /// request is answered the error goes on to Hummingbird, which ends the connection after it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard state.openRequests == 0, !closing, let answer = Self.answer(to: error, settings) else {
            context.fireErrorCaught(error)
            return
        }
        metrics.recordConnectionClosed(reason: answer.code)
        logger.debug(
            "refused a request NIO could not parse", metadata: ["error": "\(error)", "code": "\(answer.code)"])
        respondAndClose(context, answer)
    }

    /// The answer to a decoding error, nil for errors of the connection itself (reset, closed).
    static func answer(to error: any Error, _ settings: Settings) -> APIError? {
        switch error {
        case HTTPParserError.headerOverflow:
            return .badRequest(
                "request_head_too_large",
                """
                the request line and headers are over the server's limits: each field (the request line included) \
                at most \(settings.maxHeaderFieldBytes) bytes, \(settings.maxHeaderBytes) bytes in all, at most \
                \(settings.maxHeaderCount) header fields; send long input in a POST body (search queries up to \
                \(SearchQuery.maxLength) characters fit the request line)
                """)
        case let error as HTTPParserError:
            return .badRequest(
                "malformed_request",
                "the request is not valid HTTP/1.1 (\(error.debugDescription)); check the request line and headers")
        case is IOError, is ChannelError:
            return nil
        default:
            return .badRequest(
                "malformed_request",
                "the request could not be read as HTTP (\(error)); check the request line and headers")
        }
    }

    // MARK: - Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: changed(context) { $0.responseHeadWritten() }
        case .body: break
        case .end: changed(context) { $0.responseEndWritten(now: .now()) }
        }
        context.write(data, promise: promise)
    }

    // MARK: - Timer

    private func changed(_ context: ChannelHandlerContext, _ event: (inout ConnectionState) -> Void) {
        let before = state
        event(&state)
        guard state != before else { return }
        if let id { registry.update(id, state.wait(settings.limits)) }
        schedule(context)
    }

    /// Keeps one timer at or before the state's deadline; a timer that fires early looks again.
    private func schedule(_ context: ChannelHandlerContext) {
        guard !closing, let deadline = state.deadline(settings.limits) else { return }
        if let timer, timer.at <= deadline { return }
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            fire(context)
        }
        timer = (task, deadline)
    }

    private func fire(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        guard let expiry = state.expiry(now: .now(), settings.limits) else { return schedule(context) }
        let limits = settings.limits
        switch expiry {
        case .idle(let fresh):
            metrics.recordConnectionClosed(reason: fresh ? "header_timeout" : "idle_timeout")
            close(context)
        case .header(let answer):
            closeSlow(
                context, reason: "header_timeout", what: "request headers did not arrive in time", limit: limits.header,
                answer: answer
                    ? """
                    the request line and headers did not all arrive within \(Self.seconds(limits.header)) s of the first byte; \
                    send them at once (the server's limit is ctxmem serve --header-timeout)
                    """ : nil)
        case .body(let answer):
            closeSlow(
                context, reason: "body_timeout", what: "request body did not arrive in time", limit: limits.body,
                answer: answer
                    ? """
                    the request body did not all arrive within \(Self.seconds(limits.body)) s of its headers (is Content-Length \
                    the size of the body sent?); the server's limit is ctxmem serve --body-timeout
                    """ : nil)
        case .stalledReader:
            closeSlow(
                context, reason: "stalled_reader", what: "client read nothing of its response", limit: limits.idle,
                answer: nil)
        }
    }

    /// Counts and logs a connection closed for slowness, answering 408 first when `answer` is given.
    private func closeSlow(
        _ context: ChannelHandlerContext, reason: String, what: String, limit: TimeAmount, answer: String?
    ) {
        metrics.recordConnectionClosed(reason: reason)
        logger.info(
            "closed a connection whose \(what)",
            metadata: ["limit": "\(Self.seconds(limit)) s", "peer": "\(context.remoteAddress?.description ?? "?")"])
        guard let answer else { return close(context) }
        respondAndClose(context, APIError(.requestTimeout, code: "request_timeout", answer))
    }

    private func respondAndClose(_ context: ChannelHandlerContext, _ error: APIError) {
        closing = true
        let body = ByteBuffer(string: error.jsonBody)
        let head = HTTPResponse(
            status: error.status,
            headerFields: [
                .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes),
                .connection: "close",
            ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        context.close(promise: nil)
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1e9
        return value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }
}
