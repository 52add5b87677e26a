import Foundation

/// Reads a file line by line in large chunks, never holding more than one chunk and the line being
/// read: a transcript of gigabytes costs the memory of its longest line (at most ``maximumLine``).
///
/// Lines end at `\n`; a `\r` before it is left to the caller (JSON treats it as whitespace). The
/// last line needs no line feed. A line longer than ``maximumLine`` is not handed to the caller:
/// it is read past and counted (``Totals/tooLong``).
struct LineReader {
    /// How much is read at a time.
    static let chunk = 1 << 20
    /// The longest line handed to the caller; longer ones are skipped and counted.
    static let maximumLine = 64 << 20

    struct Totals {
        /// Bytes read.
        var bytes = 0
        /// Lines over ``LineReader/maximumLine``, skipped.
        var tooLong = 0
    }

    /// A file that cannot be opened or read, or is not a regular file (``BoundedRead/Failure``).
    typealias Failure = BoundedRead.Failure

    /// Calls `body` with each line of the file at `path` (without its line feed), in order.
    ///
    /// - Throws: ``Failure`` when the file cannot be opened or read, or is not a regular file (a FIFO
    ///   or `/dev/zero` would be read forever).
    static func forEachLine(
        path: String, chunk: Int = chunk, maximumLine: Int = maximumLine,
        _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) throws -> Totals {
        let (descriptor, _) = try BoundedRead.openRegularFile(path)
        defer { close(descriptor) }
        _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))

        var capacity = max(chunk, 16)
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var totals = Totals()
        var start = 0  // the first byte not yet handed out
        var end = 0  // one past the last byte read
        var skipping = false  // inside a line over `maximumLine`, until its line feed
        while true {
            if start > 0 {
                // Move the partial line to the front (it is short, or already there).
                memmove(buffer, buffer + start, end - start)
                end -= start
                start = 0
            }
            if end == capacity {
                if capacity < maximumLine {
                    // One line fills the buffer: grow it, up to the longest line handed out.
                    let grown = min(capacity * 2, maximumLine)
                    let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
                    larger.update(from: buffer, count: end)
                    buffer.deallocate()
                    buffer = larger
                    capacity = grown
                } else {
                    // Over the limit: drop what is held and read past the rest of this line.
                    if !skipping { totals.tooLong += 1 }
                    skipping = true
                    end = 0
                }
            }
            let count = read(descriptor, buffer + end, capacity - end)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure.system(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            totals.bytes += count
            var scan = end
            end += count
            while let found = memchr(buffer + scan, 0x0A, end - scan) {
                let newline = buffer.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if skipping {
                    skipping = false
                } else {
                    body(UnsafeBufferPointer(start: buffer + start, count: newline - start))
                }
                start = newline + 1
                scan = start
            }
            if skipping {
                start = end
            }
            if start == end {
                start = 0
                end = 0
            }
        }
        if end > start, !skipping {
            body(UnsafeBufferPointer(start: buffer + start, count: end - start))
        }
        return totals
    }
}
