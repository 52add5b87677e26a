import Foundation

/// Reads a settings file (`.ctxmem.yaml`, a tokenizer.json, an audit baseline) that may be
/// hostile: only a regular file (a symlink to `/dev/zero` or a FIFO would be read forever), and
/// never more than `limit` bytes.
enum BoundedRead {
    enum Failure: Error, CustomStringConvertible {
        case notRegularFile
        case tooLarge(limit: Int)
        case system(String)

        var description: String {
            switch self {
            case .notRegularFile: "not a regular file"
            case .tooLarge(let limit): "larger than the \(limit)-byte limit for this kind of file"
            case .system(let reason): reason
            }
        }
    }

    /// - Throws: ``Failure`` when the file is not a regular file, is larger than `limit`, or cannot be read.
    static func contents(of url: URL, limit: Int) throws -> Data {
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw Failure.system(errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure.system(String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure.notRegularFile }
        guard info.st_size <= limit else { throw Failure.tooLarge(limit: limit) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure.system(String(cString: strerror(errno)))
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            // The file may grow while it is read.
            guard data.count <= limit else { throw Failure.tooLarge(limit: limit) }
        }
        return data
    }
}
