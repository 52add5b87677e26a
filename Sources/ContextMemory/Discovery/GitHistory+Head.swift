import Foundation

extension GitHistory {
    /// What the files of the repository a folder is in say about HEAD, read without starting git:
    /// an index run that changed nothing asks only this, and a process would cost more than the
    /// rest of such a run on a small tree.
    enum HeadFiles: Equatable {
        /// No `.git` in the folder or above it: no repository.
        case noRepository
        /// A shallow clone (`shallow` in the git folder).
        case shallow
        /// The commit HEAD names: `HEAD` detached, or the branch's loose ref or `packed-refs` line.
        case commit(String)
        /// Anything else (a branch without a commit, another ref storage, a file not as expected):
        /// git itself decides.
        case unknown
    }

    /// Follows `.git` up from `folder` (a `gitdir:` file for a worktree or submodule, `commondir`
    /// for a worktree's refs) the way git finds a repository, without its ceilings and filesystem
    /// boundaries (git then answers for itself: ``HeadFiles/unknown`` is never the only outcome).
    static func headFiles(of folder: String) -> HeadFiles {
        var directory = URL(fileURLWithPath: folder).standardizedFileURL
        var marker: URL?
        while true {
            let candidate = directory.appendingPathComponent(".git")
            if FileManager.default.fileExists(atPath: candidate.path) {
                marker = candidate
                break
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        guard let marker else { return .noRepository }
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: marker.path, isDirectory: &isFolder)
        var gitFolder = marker
        if !isFolder.boolValue {
            guard let text = read(marker), text.hasPrefix("gitdir: ") else { return .unknown }
            let path = String(text.dropFirst("gitdir: ".count))
            gitFolder =
                path.hasPrefix("/")
                ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path).standardizedFileURL
        }
        var common = gitFolder
        if let path = read(gitFolder.appendingPathComponent("commondir")) {
            common =
                path.hasPrefix("/")
                ? URL(fileURLWithPath: path) : gitFolder.appendingPathComponent(path).standardizedFileURL
        }
        if FileManager.default.fileExists(atPath: common.appendingPathComponent("shallow").path) { return .shallow }
        guard let head = read(gitFolder.appendingPathComponent("HEAD")) else { return .unknown }
        guard head.hasPrefix("ref: ") else { return isCommitID(head) ? .commit(head) : .unknown }
        let reference = String(head.dropFirst("ref: ".count))
        guard reference.hasPrefix("refs/heads/"), !reference.contains("..") else { return .unknown }
        if let loose = read(common.appendingPathComponent(reference)) {
            return isCommitID(loose) ? .commit(loose) : .unknown
        }
        guard let packed = read(common.appendingPathComponent("packed-refs")) else { return .unknown }
        for line in packed.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("^") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[1] == reference {
                return isCommitID(String(parts[0])) ? .commit(String(parts[0])) : .unknown
            }
        }
        return .unknown
    }

    /// A file's text without its line break; nil when it cannot be read.
    private static func read(_ url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isCommitID(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}
