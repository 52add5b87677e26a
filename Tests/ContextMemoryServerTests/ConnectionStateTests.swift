import NIOCore
import Testing

@testable import ContextMemoryServer

/// The timeouts' state machine with made-up instants: what each phase waits for and how long.
@Suite("Connection timeouts")
struct ConnectionStateTests {
    static let limits = ConnectionState.Limits(header: .seconds(10), body: .seconds(30), idle: .seconds(60))
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ seconds: Double) -> NIODeadline { t0 + .nanoseconds(Int64(seconds * 1e9)) }

    @Test("a new connection that sends nothing has the header time, not the idle time")
    func freshConnection() {
        let state = ConnectionState(now: Self.t0)
        #expect(state.deadline(Self.limits) == Self.at(10))
        #expect(state.expiry(now: Self.at(9.9), Self.limits) == nil)
        #expect(state.expiry(now: Self.at(10), Self.limits) == .idle(fresh: true))
        #expect(state.wait(Self.limits) == .init(since: Self.t0, limit: .seconds(10), what: "opened without a request"))
    }

    @Test("headers trickled byte by byte are timed from the first byte, whatever arrives after")
    func trickledHeaders() {
        var state = ConnectionState(now: Self.t0)
        state.bytesArrived(now: Self.at(1))
        for second in 2...10 { state.bytesArrived(now: Self.at(Double(second))) }
        #expect(state.phase == .readingHead)
        #expect(state.deadline(Self.limits) == Self.at(11))
        #expect(state.expiry(now: Self.at(11), Self.limits) == .header(answer: true))
        #expect(state.wait(Self.limits)?.what == "sending its headers")
    }

    @Test("a body is timed from the end of its head; a finished request is never timed while answered")
    func bodyThenAnswer() {
        var state = ConnectionState(now: Self.t0)
        state.bytesArrived(now: Self.at(0.1))
        state.headRead(now: Self.at(0.2))
        #expect(state.deadline(Self.limits) == Self.at(30.2))
        #expect(state.expiry(now: Self.at(30.2), Self.limits) == .body(answer: true))
        #expect(state.wait(Self.limits) == .init(since: Self.at(0.2), limit: .seconds(30), what: "sending its body"))
        state.endRead(now: Self.at(1))
        #expect(state.phase == .answering)
        #expect(state.deadline(Self.limits) == nil, "a slow answer (a long re-index) is not cut")
        #expect(state.wait(Self.limits) == nil, "never closed to make room")
        state.responseHeadWritten()
        state.responseEndWritten(now: Self.at(500))
        #expect(state.phase == .awaitingRequest(fresh: false))
        #expect(state.deadline(Self.limits) == Self.at(560), "then the idle time")
        #expect(state.expiry(now: Self.at(560), Self.limits) == .idle(fresh: false))
    }

    @Test("a response started before the body arrived is not followed by a 408, only a close")
    func earlyResponse() {
        var state = ConnectionState(now: Self.t0)
        state.headRead(now: Self.t0)
        state.responseHeadWritten()
        #expect(state.expiry(now: Self.at(30), Self.limits) == .body(answer: false))
        #expect(state.wait(Self.limits) == nil)
    }

    @Test("a pipelined request gets its header time once the answer before it ends")
    func pipelined() {
        var state = ConnectionState(now: Self.t0)
        state.headRead(now: Self.t0)
        state.endRead(now: Self.t0)
        state.bytesArrived(now: Self.at(1))  // the next request's first bytes, during the answer
        #expect(state.deadline(Self.limits) == nil)
        state.responseEndWritten(now: Self.at(50))
        #expect(state.phase == .readingHead)
        #expect(state.deadline(Self.limits) == Self.at(60))

        var second = ConnectionState(now: Self.t0)
        second.headRead(now: Self.t0)
        second.endRead(now: Self.t0)
        second.headRead(now: Self.at(1))  // a whole pipelined head while the first is answered
        #expect(second.openRequests == 2 && second.deadline(Self.limits) == nil)
        second.responseEndWritten(now: Self.at(40))
        #expect(second.deadline(Self.limits) == Self.at(70), "its body time starts when the answer before it ends")
    }

    @Test("a client that reads none of its answer for the idle time is given up on")
    func stalledReader() {
        var state = ConnectionState(now: Self.t0)
        state.headRead(now: Self.t0)
        state.endRead(now: Self.t0)
        state.responseHeadWritten()
        state.writabilityChanged(writable: false, now: Self.at(5))
        state.writabilityChanged(writable: false, now: Self.at(20))  // still the first moment counts
        #expect(state.deadline(Self.limits) == Self.at(65))
        #expect(state.expiry(now: Self.at(65), Self.limits) == .stalledReader)
        state.writabilityChanged(writable: true, now: Self.at(30))
        #expect(state.deadline(Self.limits) == nil)
    }

    @Test("at the connection limit, the connection nearest its timeout goes first, a just-opened one last")
    func evictionOrder() throws {
        let now = Self.at(100)
        var halfBody = ConnectionState(now: Self.at(90))
        halfBody.headRead(now: Self.at(90))  // 10 s of 30: a third
        var trickler = ConnectionState(now: Self.at(94))
        trickler.bytesArrived(now: Self.at(95))  // 5 s of 10: a half
        var idle = ConnectionState(now: Self.at(50))
        idle.headRead(now: Self.at(50))
        idle.endRead(now: Self.at(50))
        idle.responseEndWritten(now: Self.at(94))  // 6 s of 60: a tenth
        let fresh = ConnectionState(now: Self.at(99.999))  // a millisecond of 10 s
        let used = try [trickler, halfBody, idle, fresh].map { try #require($0.wait(Self.limits)).used(at: now) }
        #expect(used == used.sorted(by: >), "\(used)")
        #expect(used.first == 0.5)
    }
}
