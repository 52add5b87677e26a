import Foundation

/// One writer per index file: an exclusive `flock` on `<index>.lock`, held for a whole index run.
///
/// The kernel releases it when the process exits or dies (`kill -9` included), so it outlives
/// neither; a lock file left behind is harmless, since only the lock on it counts. Two
/// `ctxmem index --rebuild` at once on one root used to interleave their schema creation and end
/// with a malformed or empty index. The holder's pid is written into the file for the waiting
/// message. Readers take no lock: they never wait for a writer.
final class WriterLock: Sendable {
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }  // closing the descriptor releases the lock

    /// Takes the lock of the index at `databasePath`, waiting up to `timeout` for another writer;
    /// `onWait` is told once, with that writer's pid when known, if it has to wait.
    /// - Throws: ``IndexError/locked(path:)`` when the wait runs out; ``IndexError/database(path:detail:)``
    ///   when the lock file cannot be opened.
    static func acquire(for databasePath: String, timeout: Duration, onWait: (_ holder: String?) -> Void) async throws
        -> WriterLock
    {
        let path = databasePath + ".lock"
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw IndexError.database(
                path: databasePath, detail: "cannot open its lock file \(path): \(String(cString: strerror(errno)))")
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var told = false
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw IndexError.database(path: databasePath, detail: "cannot lock \(path): \(reason)")
            }
            if !told {
                onWait(holder(descriptor))
                told = true
            }
            guard clock.now < deadline else {
                close(descriptor)
                throw IndexError.locked(path: databasePath)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        // Who holds it, for the next waiter's message.
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return WriterLock(path: path, descriptor: descriptor)
    }

    private static func holder(_ descriptor: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.allSatisfy(\.isNumber) && !text.isEmpty ? text : nil
    }
}
