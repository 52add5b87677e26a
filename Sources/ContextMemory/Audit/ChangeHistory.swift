import Foundation

/// When each file of the root last changed, for `stale-reference`.
///
/// In a git work tree: the commit time of the last commit that touched the file, from one
/// `git log` over the whole history (not a process per file), and the modification time for files
/// that are untracked or changed since the last commit. Elsewhere, or when git is missing or fails:
/// modification times, which a fresh checkout resets, so the report says which source it used.
struct ChangeHistory: Sendable {
    enum Source: Sendable, Equatable {
        case git(commits: Int)
        case fileTimes
    }

    let source: Source
    /// Seconds since 1970, by path relative to the root.
    private let times: [String: Int64]
    private let fileTimes: [String: Int64]

    func lastChange(of path: String) -> Int64? {
        times[path] ?? fileTimes[path]
    }

    /// - Parameter listing: the root's files, whose modification times fill in what git does not know.
    static func load(rootPath: String, listing: RootListing, useGit: Bool = true) -> ChangeHistory {
        let fileTimes = listing.files.mapValues { $0 / 1_000_000_000 }
        guard useGit, let prefix = Git.run(["rev-parse", "--show-prefix"], in: rootPath) else {
            return ChangeHistory(source: .fileTimes, times: [:], fileTimes: fileTimes)
        }
        let topPrefix = String(decoding: prefix, as: UTF8.self).trimmingCharacters(in: .newlines)
        // `%x01%ct` then NUL-separated names: "\u{1}TIME\0\nPATH\0PATH\0\u{1}TIME\0..." newest first.
        guard
            let log = Git.run(
                [
                    "-c", "core.quotepath=off", "log", "--format=%x01%ct", "--name-only", "-z",
                    "--no-renames", "--relative",
                ], in: rootPath)
        else {
            return ChangeHistory(source: .fileTimes, times: [:], fileTimes: fileTimes)
        }
        var times: [String: Int64] = [:]
        var commits = 0
        var current: Int64 = 0
        for field in log.split(separator: 0) {
            if field.first == 1 {
                commits += 1
                current = Int64(String(decoding: field.dropFirst(), as: UTF8.self)) ?? 0
                continue
            }
            let name = field.first == UInt8(ascii: "\n") ? field.dropFirst() : field[...]
            guard !name.isEmpty else { continue }
            let path = String(decoding: name, as: UTF8.self)
            if times[path] == nil { times[path] = current }
        }
        // Uncommitted edits and untracked files: their own modification time is their last change.
        if let status = Git.run(["status", "--porcelain", "-z", "--untracked-files=all"], in: rootPath) {
            var fields = status.split(separator: 0)[...]
            while let field = fields.popFirst() {
                guard field.count > 3 else { continue }
                let code = field.prefix(2)
                // R and C records carry the old name first.
                if code.first == UInt8(ascii: "R") || code.first == UInt8(ascii: "C") { _ = fields.popFirst() }
                let fromTop = String(decoding: field.dropFirst(3), as: UTF8.self)
                guard fromTop.hasPrefix(topPrefix) else { continue }
                times[String(fromTop.dropFirst(topPrefix.count))] = nil
            }
        }
        return ChangeHistory(source: .git(commits: commits), times: times, fileTimes: fileTimes)
    }
}
