import Foundation
import Logging

/// When each file under a folder was last committed, from git: a file's recency that is the same
/// on every clone of a commit, unlike its modification time, which a clone, a checkout or CI sets
/// to the moment it ran.
///
/// ```swift
/// if let history = GitHistory(folder: rootPath, logger: logger) {
///     let times = history.lastCommitTimes(of: ["CLAUDE.md", "docs/build.md"])  // ["CLAUDE.md": 1767225600, ...]
/// }
/// ```
///
/// A time is the committer date (`%ct`, seconds since 1970) of the newest commit reachable from
/// HEAD that changed the file, found by one streaming pass:
///
///     git -C <folder> -c log.showSignature=false -c log.follow=false -c log.showRoot=true --no-pager
///         log --no-color --no-merges --no-renames --relative --name-only -z --format=%x01%ct HEAD -- .
///
/// newest first, so the first time a path appears is its last commit; the pass stops (git is
/// stopped) once every path asked for has appeared, so a long history costs little. Paths are
/// relative to `folder`, which may be a subfolder of the repository; `-z` keeps unusual names as
/// they are. The `-c` settings override a user's configuration that would change the output.
///
/// No time at all (``init(folder:logger:)`` is nil, logged at debug level, never an error): git
/// missing or failing, `folder` not inside a work tree, a repository without a commit, a shallow clone (its
/// oldest commit would look like the last change of every file it holds). No time for a file no
/// commit has (untracked, ignored, only staged). Merge commits are left out: a change made only
/// while resolving a merge leaves the time of the file's last commit before it. Uncommitted edits
/// do not count: the time is the last commit's.
struct GitHistory: Sendable {
    /// The folder the paths are relative to.
    let folder: String
    /// The commit HEAD names (hex): the times can only change when it does.
    let head: String
    private let logger: Logger

    /// The history of the work tree `folder` is in. HEAD is read from the repository's files
    /// (``headFiles(of:)``); git runs only when they are not as expected.
    init?(folder: String, logger: Logger) {
        switch Self.headFiles(of: folder) {
        case .noRepository:
            logger.debug("no commit times: not in a git repository", metadata: ["folder": "\(folder)"])
            return nil
        case .shallow:
            logger.debug("no commit times: a shallow clone", metadata: ["folder": "\(folder)"])
            return nil
        case .commit(let commit):
            head = commit
        case .unknown:
            // One process for both: "false\n<commit>\n", or an exit code without a commit or a repository.
            guard let output = Git.run(["rev-parse", "--is-shallow-repository", "HEAD"], in: folder) else {
                logger.debug(
                    "no commit times: git is missing, failed, or the folder is not in a repository with a commit",
                    metadata: ["folder": "\(folder)"])
                return nil
            }
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
            guard lines.count == 2, lines[0] == "false" || lines[0] == "true", Self.isCommitID(lines[1]) else {
                logger.debug("no commit times: unexpected answer of git rev-parse", metadata: ["folder": "\(folder)"])
                return nil
            }
            guard lines[0] == "false" else {
                logger.debug("no commit times: a shallow clone", metadata: ["folder": "\(folder)"])
                return nil
            }
            head = lines[1]
        }
        self.folder = folder
        self.logger = logger
    }

    /// The last commit time of each of `paths` (relative to ``folder``, `/`-separated), in seconds
    /// since 1970; a path no commit has is absent. nil when git fails on the way.
    func lastCommitTimes(of paths: some Sequence<String>) -> [String: Int64]? {
        // Only the paths HEAD holds can appear in its history: asking for an untracked file (a
        // CLAUDE.local.md, a file just written) would otherwise read the history to its start.
        guard let tree = Git.run(["ls-tree", "-r", "-z", "--name-only", "HEAD"], in: folder) else {
            logger.debug("no commit times: git ls-tree failed", metadata: ["folder": "\(folder)"])
            return nil
        }
        let asked = Set(paths)
        var wanted: Set<String> = []
        for name in tree.split(separator: 0) {
            let path = String(decoding: name, as: UTF8.self)
            if asked.contains(path) { wanted.insert(path) }
        }
        var times: [String: Int64] = [:]
        guard !wanted.isEmpty else { return times }
        var parser = LogParser()
        let finished = Git.stream(
            [
                "-c", "log.showSignature=false", "-c", "log.follow=false", "-c", "log.showRoot=true", "--no-pager",
                "log", "--no-color", "--no-merges", "--no-renames", "--relative", "--name-only", "-z",
                "--format=%x01%ct", "HEAD", "--", ".",
            ], in: folder
        ) { chunk in
            parser.feed(chunk) { path, time in
                if wanted.remove(path) != nil { times[path] = time }
            }
            return !wanted.isEmpty
        }
        guard finished else {
            logger.debug("no commit times: git log failed", metadata: ["folder": "\(folder)"])
            return nil
        }
        return times
    }

    /// Splits `git log -z --name-only --format=%x01%ct` output, fed in chunks of any size: a commit is
    /// `\u{1}TIME\0`, then its names, the first after a newline: `\nPATH\0PATH\0`.
    struct LogParser {
        private var pending: [UInt8] = []
        private var time: Int64?
        private var firstName = false

        /// Calls `name` with each path and the time of the commit it is listed under.
        mutating func feed(_ chunk: [UInt8], _ name: (String, Int64) -> Void) {
            var start = chunk.startIndex
            while let end = chunk[start...].firstIndex(of: 0) {
                if pending.isEmpty {
                    field(chunk[start..<end], name)
                } else {
                    pending += chunk[start..<end]
                    field(pending[...], name)
                    pending = []
                }
                start = end + 1
            }
            pending += chunk[start...]
        }

        private mutating func field(_ field: ArraySlice<UInt8>, _ name: (String, Int64) -> Void) {
            if field.first == 1, field.count > 1, field.dropFirst().allSatisfy({ (0x30...0x39).contains($0) }) {
                time = Int64(String(decoding: field.dropFirst(), as: UTF8.self))
                firstName = true
                return
            }
            var path = field
            if firstName, path.first == UInt8(ascii: "\n") { path = path.dropFirst() }
            firstName = false
            guard let time, !path.isEmpty else { return }
            name(String(decoding: path, as: UTF8.self), time)
        }
    }
}
