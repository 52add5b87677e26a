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

    /// Opens `path` for reading when it is a regular file (never blocking on a FIFO), and gives its
    /// size. The caller closes the descriptor.
    /// - Throws: ``Failure`` when it cannot be opened or is not a regular file.
    static func openRegularFile(_ path: String) throws -> (descriptor: Int32, size: Int) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw Failure.system(errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure.system(reason)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw Failure.notRegularFile
        }
        return (descriptor, Int(info.st_size))
    }

    /// - Throws: ``Failure`` when the file is not a regular file, is larger than `limit`, or cannot be read.
    static func contents(of url: URL, limit: Int) throws -> Data {
        let (descriptor, size) = try openRegularFile(url.path)
        defer { close(descriptor) }
        guard size <= limit else { throw Failure.tooLarge(limit: limit) }
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
