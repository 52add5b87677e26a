import NIOCore

/// What one HTTP/1.1 connection is waiting for and since when: the state behind the header, body
/// and idle timeouts (``ConnectionGuard``) and the choice of a connection to close at the
/// connection limit (``ConnectionRegistry``).
///
/// Free of channels and timers, so tests drive it with made-up instants. Events arrive in the
/// order NIO delivers them on the connection's event loop:
/// - ``bytesArrived(now:)``: a read brought bytes that completed no HTTP part (a request line or
///   headers in progress);
/// - ``headRead(now:)``, ``endRead(now:)``: a request's head is complete, its body is complete;
/// - ``responseHeadWritten()``, ``responseEndWritten(now:)``: the application answers;
/// - ``writabilityChanged(writable:now:)``: the client stops or resumes reading what is sent.
///
/// A response being produced is never cut by the read timeouts: while a request is answered, only
/// a client that reads none of the answer for ``Limits/idle`` is given up on. A request that is
/// pipelined behind one being answered gets its full header or body time once that answer ends.
struct ConnectionState: Equatable {
    struct Limits: Equatable {
        var header: TimeAmount
        var body: TimeAmount
        var idle: TimeAmount
    }

    enum Phase: Equatable {
        /// No byte of the next request yet; `fresh` for a connection that has sent nothing at all.
        case awaitingRequest(fresh: Bool)
        /// Some bytes of a request line or headers, not all of them.
        case readingHead
        /// The head is in; the body (possibly empty) is not complete.
        case readingBody
        /// Every request read is being answered.
        case answering
    }

    /// Why a connection is closed by its timer.
    enum Expiry: Equatable {
        /// A fresh connection sent nothing, or a keep-alive connection stayed idle: closed silently.
        case idle(fresh: Bool)
        /// The head did not arrive in time; `answer` when a 408 can be sent (no response pending).
        case header(answer: Bool)
        /// The body did not arrive in time; `answer` when no response was started for the request.
        case body(answer: Bool)
        /// The client read nothing of a response for the idle time.
        case stalledReader
    }

    private(set) var phase: Phase = .awaitingRequest(fresh: true)
    /// When the current phase began.
    private(set) var since: NIODeadline
    /// Requests whose head was read and whose response has not ended.
    private(set) var openRequests = 0
    /// A response head was written for the oldest open request.
    private(set) var responseStarted = false
    /// Bytes of a further request arrived while one was being answered (pipelining).
    private var pipelinedBytes = false
    /// Since when the client has not taken what was written (the channel is not writable).
    private var unwritableSince: NIODeadline?

    init(now: NIODeadline) { since = now }

    mutating func bytesArrived(now: NIODeadline) {
        switch phase {
        case .awaitingRequest: enter(.readingHead, now)
        case .answering: pipelinedBytes = true
        case .readingHead, .readingBody: break
        }
    }

    mutating func headRead(now: NIODeadline) {
        openRequests += 1
        pipelinedBytes = false
        enter(.readingBody, now)
    }

    mutating func endRead(now: NIODeadline) {
        guard phase == .readingBody else { return }
        enter(.answering, now)
    }

    mutating func responseHeadWritten() { responseStarted = true }

    mutating func responseEndWritten(now: NIODeadline) {
        openRequests = max(0, openRequests - 1)
        responseStarted = false
        switch phase {
        case .answering where openRequests == 0:
            enter(pipelinedBytes ? .readingHead : .awaitingRequest(fresh: false), now)
            pipelinedBytes = false
        case .readingHead, .readingBody:
            since = now  // a pipelined request's time starts when the one before it is answered
        default:
            break
        }
    }

    mutating func writabilityChanged(writable: Bool, now: NIODeadline) {
        unwritableSince = writable ? nil : (unwritableSince ?? now)
    }

    private mutating func enter(_ phase: Phase, _ now: NIODeadline) {
        self.phase = phase
        since = now
    }

    /// When the timer must look again (nil: nothing to time now).
    func deadline(_ limits: Limits) -> NIODeadline? {
        [readDeadline(limits), stallDeadline(limits)].compactMap { $0 }.min()
    }

    /// Whether the connection has outstayed its phase at `now`.
    func expiry(now: NIODeadline, _ limits: Limits) -> Expiry? {
        if let stall = stallDeadline(limits), now >= stall { return .stalledReader }
        guard let deadline = readDeadline(limits), now >= deadline else { return nil }
        switch phase {
        case .awaitingRequest(let fresh): return .idle(fresh: fresh)
        case .readingHead: return .header(answer: openRequests == 0)
        case .readingBody: return .body(answer: !responseStarted)
        case .answering: return nil
        }
    }

    private func readDeadline(_ limits: Limits) -> NIODeadline? {
        switch phase {
        case .awaitingRequest(let fresh): since + (fresh ? limits.header : limits.idle)
        case .readingHead: openRequests == 0 ? since + limits.header : nil
        case .readingBody: openRequests == 1 ? since + limits.body : nil
        case .answering: nil
        }
    }

    private func stallDeadline(_ limits: Limits) -> NIODeadline? {
        openRequests > 0 ? unwritableSince.map { $0 + limits.idle } : nil
    }

    /// What a connection waits for, since when, and for how long at most: what the connection
    /// limit weighs when it must close one to make room.
    struct Wait: Equatable {
        var since: NIODeadline
        var limit: TimeAmount
        var what: String

        /// The share of its time the connection has used up: the one closest to being closed
        /// anyway is the one closed to make room. A connection that opened a moment ago, whose
        /// first bytes may still be on the way, is the last to go; one that has sat on half a
        /// request for most of its time goes first.
        func used(at now: NIODeadline) -> Double {
            Double((now - since).nanoseconds) / Double(max(1, limit.nanoseconds))
        }
    }

    /// Nil while a request is being answered: such a connection is never closed for another.
    func wait(_ limits: Limits) -> Wait? {
        switch phase {
        case .awaitingRequest(let fresh):
            Wait(
                since: since, limit: fresh ? limits.header : limits.idle,
                what: fresh ? "opened without a request" : "idle")
        case .readingHead where openRequests == 0:
            Wait(since: since, limit: limits.header, what: "sending its headers")
        case .readingBody where openRequests == 1 && !responseStarted:
            Wait(since: since, limit: limits.body, what: "sending its body")
        default:
            nil
        }
    }
}
