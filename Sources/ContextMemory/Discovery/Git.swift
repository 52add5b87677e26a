import Foundation

/// Runs git without a shell (``GitHistory`` for index runs, `ChangeHistory` for the audit).
///
/// Every run is `git -C <folder> <arguments>` through `/usr/bin/env`, with stdin and stderr
/// closed, `LC_ALL=C`, `GIT_OPTIONAL_LOCKS=0` (a read must not take the index lock a user's
/// `git commit` needs) and without the variables a git hook sets (`GIT_DIR`, `GIT_WORK_TREE`,
/// `GIT_INDEX_FILE`, ...): the repository is the one `folder` is in, found the usual way, even when
/// ctxmem runs from a hook of another one.
enum Git {
    /// Variables that point git at another repository or index than the folder's own.
    private static let repositoryVariables = [
        "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX",
    ]

    /// The whole output of a run; nil when git is missing, the folder is not a work tree, or it fails.
    static func run(_ arguments: [String], in folder: String) -> [UInt8]? {
        var output: [UInt8] = []
        let finished = stream(arguments, in: folder) { chunk in
            output += chunk
            return true
        }
        return finished ? output : nil
    }

    /// Hands the output of a run to `chunk` as it arrives, until the output ends or `chunk` returns
    /// false; git is then stopped (SIGTERM, and its pipe closed), so a caller that has read what it
    /// needs does not wait for the rest of a long `git log`.
    /// - Returns: false when git could not be started or exited with an error; a run the caller
    ///   stopped counts as finished.
    static func stream(_ arguments: [String], in folder: String, _ chunk: ([UInt8]) -> Bool) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder] + arguments
        var environment = ProcessInfo.processInfo.environment
        for name in repositoryVariables { environment[name] = nil }
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["LC_ALL"] = "C"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        let reading = output.fileHandleForReading
        let descriptor = reading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var stopped = false
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            if !chunk(Array(buffer[0..<count])) {
                stopped = true
                process.terminate()
                break
            }
        }
        try? reading.close()
        process.waitUntilExit()
        return stopped || (process.terminationReason == .exit && process.terminationStatus == 0)
    }
}
