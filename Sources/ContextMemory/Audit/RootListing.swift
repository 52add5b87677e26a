import Foundation

/// Every file and folder of the memory root as the walker saw it: what a reference may point at.
///
/// Links often point at files that are not memory (source code, images, scripts), so existence is
/// checked against the whole tree, not only the index. The walker never leaves the root; a path it
/// skipped (an excluded or `node_modules` folder) is looked up on disk, and only inside the root.
struct RootListing: Sendable {
    /// The root's real path.
    let rootPath: String
    /// File paths with their modification time (nanoseconds since 1970).
    let files: [String: Int64]
    let folders: Set<String>
    private let byLowercasedPath: [String: String]
    private let byName: [String: [String]]
    private let filesByFolder: [String: [String]]
    /// Every folder path and each of its tails on a `/` boundary (`a/b/c`, `b/c`, `c`).
    private let folderTails: Set<String>

    init(_ walk: FileTreeWalker.Result, rootPath: String) {
        self.rootPath = rootPath
        var files: [String: Int64] = [:]
        var byName: [String: [String]] = [:]
        var filesByFolder: [String: [String]] = [:]
        var byLowercasedPath: [String: String] = [:]
        for file in walk.files {
            files[file.path] = file.stat.modificationTime
            byName[RelativePath.basename(file.path), default: []].append(file.path)
            filesByFolder[RelativePath.directory(of: file.path), default: []].append(file.path)
            byLowercasedPath[file.path.lowercased()] = file.path
        }
        var folderTails: Set<String> = []
        for folder in walk.folders {
            byLowercasedPath[folder.lowercased()] = folder
            var tail = Substring(folder)
            while !tail.isEmpty {
                folderTails.insert(String(tail))
                guard let slash = tail.firstIndex(of: "/") else { break }
                tail = tail[tail.index(after: slash)...]
            }
        }
        self.folderTails = folderTails
        self.files = files
        self.folders = walk.folders
        self.byName = byName
        self.filesByFolder = filesByFolder
        self.byLowercasedPath = byLowercasedPath
    }

    func isFile(_ path: String) -> Bool { files[path] != nil || onDisk(path) == false }
    func isFolder(_ path: String) -> Bool { folders.contains(path) || onDisk(path) == true }
    func exists(_ path: String) -> Bool { files[path] != nil || folders.contains(path) || onDisk(path) != nil }

    /// For a path the walk did not list: true for a folder, false for a file, nil when it does not
    /// exist or its real path leaves the root. Only `stat`, never a read.
    private func onDisk(_ path: String) -> Bool? {
        guard !path.isEmpty, let real = FileTreeWalker.realPath(rootPath + "/" + path), real.hasPrefix(rootPath + "/")
        else { return nil }
        var info = stat()
        guard stat(real, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The path as it is spelled on disk, when `path` exists only with other letter case.
    func caseInsensitiveMatch(_ path: String) -> String? {
        guard let actual = byLowercasedPath[path.lowercased()], actual != path else { return nil }
        return actual
    }

    /// Whether some file or folder is `path` or ends with `/path` (`models.py` names
    /// `app/models.py`): how people write paths in prose.
    func existsAnywhere(_ path: String) -> Bool {
        if exists(path) { return true }
        let name = RelativePath.basename(path)
        if let candidates = byName[name], candidates.contains(where: { $0.hasSuffix("/" + path) }) { return true }
        return folderTails.contains(path)
    }

    /// The existing file a missing `path` most likely meant: the same name elsewhere (moved), or a
    /// near spelling in the same folder (renamed, typo). Nil when nothing is close.
    func nearestFile(to path: String) -> String? {
        let name = RelativePath.basename(path)
        if let moved = byName[name], !moved.isEmpty {
            // The candidate sharing most of the folder path (capped: README.md can be everywhere).
            let folder = RelativePath.directory(of: path)
            let ranked = moved.map { (shared: Self.commonPrefix(folder, $0), path: $0) }
                .sorted { $0.shared != $1.shared ? $0.shared > $1.shared : $0.path < $1.path }
            return Suggest.nearest(to: path, in: ranked.prefix(64).map(\.path), maximumDistance: .max)
        }
        let siblings = filesByFolder[RelativePath.directory(of: path)] ?? []
        guard let nearName = Suggest.nearest(to: name, in: siblings.map(RelativePath.basename)) else { return nil }
        return siblings.first { RelativePath.basename($0) == nearName }
    }

    private static func commonPrefix(_ a: String, _ b: String) -> Int {
        zip(a.utf8, b.utf8).prefix { $0 == $1 }.count
    }
}
