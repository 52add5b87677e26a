import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loopback TCP connection that sends exactly the bytes given, when told: slow, partial and
/// malformed requests that URLSession would never send. Every blocking call runs on a Dispatch
/// thread (``offPool(_:)``): on the test's cooperative threads (two here) it would starve the
/// server's own handlers, as AuthenticationTests explains.
struct RawConnection: Sendable {
    let fd: Int32

    /// What came back: the status and body of a response if a whole one arrived, whether the
    /// server closed the connection, and after how long.
    struct Outcome: Sendable, CustomStringConvertible {
        var status: Int?
        var headers: [String: String] = [:]
        var body = ""
        var closed = false
        var seconds = 0.0

        var code: String? {
            ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any])
                .flatMap { $0["error"] as? [String: Any] }?["code"] as? String
        }

        var description: String {
            "status \(status.map(String.init) ?? "none"), closed \(closed), after \(String(format: "%.2f", seconds)) s: \(body.prefix(300))"
        }
    }

    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Connects and sends `text` in one step: the server times a request's headers from the
    /// connection's opening, and between two steps a loaded machine may keep the test waiting for a
    /// Dispatch thread longer than a short header timeout.
    static func open(port: Int, sending text: String = "") async throws -> RawConnection {
        let bytes = Array(text.utf8)
        return try await offPool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                Glibc.close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
            }
            let connection = RawConnection(fd: fd)
            _ = connection.blockingSend(bytes)
            return connection
        }
    }

    func close() { _ = Glibc.close(fd) }

    /// Sends the bytes; false when the server has closed the connection (no SIGPIPE).
    @discardableResult
    func send(_ text: String) async throws -> Bool {
        let bytes = Array(text.utf8)
        return try await Self.offPool { self.blockingSend(bytes) }
    }

    private func blockingSend(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// Waits for a whole response or the server's close, at most `timeout` seconds, sending one
    /// byte of `trickle` every `interval` meanwhile (a slow client). Returns as soon as a response
    /// is complete: ask again to see whether the server then closes.
    func outcome(timeout: Double, trickle: String = "", interval: Double = 0.1) async throws -> Outcome {
        let trickle = Array(trickle.utf8)
        return try await Self.offPool { self.blockingOutcome(timeout: timeout, trickle: trickle, interval: interval) }
    }

    private func blockingOutcome(timeout: Double, trickle: [UInt8], interval: Double) -> Outcome {
        let start = Date()
        var received: [UInt8] = []
        var outcome = Outcome()
        var next = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date().timeIntervalSince(start) < timeout {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(interval * 1000))
            if ready > 0 {
                let count = read(fd, &buffer, buffer.count)
                if count <= 0 {
                    outcome.closed = true
                    break
                }
                received += buffer[0..<count]
                if let parsed = Self.parse(received) {
                    outcome = parsed
                    break
                }
            } else if next < trickle.count {
                if !blockingSend([trickle[next]]) {
                    outcome.closed = true
                    break
                }
                next += 1
            }
        }
        outcome.seconds = Date().timeIntervalSince(start)
        return outcome
    }

    /// Sends `text` on every connection, as close together as one thread can, then waits for each
    /// one's response (at most `timeout` seconds in all). One Dispatch job for all of them: a job
    /// per connection would each hold a Dispatch thread, and Linux's Dispatch adds threads for
    /// blocked jobs only about one a second, which would space the requests out.
    static func sendAll(_ connections: [RawConnection], _ text: String, timeout: Double) async throws -> [Outcome] {
        let bytes = Array(text.utf8)
        return try await offPool {
            let start = Date()
            let sent = connections.map { $0.blockingSend(bytes) }
            var outcomes = sent.map { Outcome(closed: !$0) }
            var received = [[UInt8]](repeating: [], count: connections.count)
            var done = sent.map { !$0 }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while done.contains(false), Date().timeIntervalSince(start) < timeout {
                var pollers = connections.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
                guard poll(&pollers, nfds_t(pollers.count), 100) > 0 else { continue }
                for index in pollers.indices where !done[index] && pollers[index].revents != 0 {
                    let count = read(connections[index].fd, &buffer, buffer.count)
                    if count <= 0 {
                        outcomes[index].closed = true
                        done[index] = true
                        continue
                    }
                    received[index] += buffer[0..<count]
                    if let parsed = parse(received[index]) {
                        outcomes[index] = parsed
                        done[index] = true
                    }
                    outcomes[index].seconds = Date().timeIntervalSince(start)
                }
            }
            return outcomes
        }
    }

    /// A whole HTTP/1.1 response (Content-Length body), or nil while it is incomplete.
    static func parse(_ bytes: [UInt8]) -> Outcome? {
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        var outcome = Outcome(status: head.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            outcome.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        let length = Int(outcome.headers["content-length"] ?? "0") ?? 0
        guard bytes.count - end.upperBound >= length else { return nil }
        outcome.body = String(decoding: bytes[end.upperBound..<(end.upperBound + length)], as: UTF8.self)
        return outcome
    }
}
