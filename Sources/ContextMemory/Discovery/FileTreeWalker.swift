public import Foundation

/// A file found under the memory root: a regular file, or a FIFO, socket or device, which is
/// listed so that a memory rule or a reference reaching it is reported, but is never opened.
public struct WalkedFile: Sendable, Equatable {
    /// Path relative to the root, `/`-separated (the symlink's own path when reached through one).
    public var path: String
    public var stat: FileStat
    /// What the path is (of its target, for a symlink).
    public var type: FileType = .regular
}

/// The kind of a walked file, from its `stat` mode. Only a regular file is ever opened: opening a
/// FIFO blocks until something writes to it, and a device may do anything.
public enum FileType: String, Sendable, Equatable {
    case regular
    case fifo
    case socket
    case characterDevice = "character-device"
    case blockDevice = "block-device"

    /// The type of a `st_mode`, nil for a folder or a symlink.
    init?(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        default: return nil
        }
    }

    /// For messages: "a FIFO (named pipe)".
    public var description: String {
        switch self {
        case .regular: "a regular file"
        case .fifo: "a FIFO (named pipe)"
        case .socket: "a socket"
        case .characterDevice: "a character device"
        case .blockDevice: "a block device"
        }
    }
}

/// Walks the memory root with `lstat`, so it decides about every symlink itself:
/// - folders named in ``skippedFolders`` and paths matching an `exclude` glob are not entered;
/// - a symlink is followed once: its target must resolve inside the root (else it is recorded and
///   not read), a folder already visited is a loop or a second path to it (recorded, skipped);
/// - broken symlinks, symlinks that loop (`a.md -> b.md -> a.md`) and unreadable folders are
///   recorded, and the walk goes on;
/// - FIFOs, sockets and devices are listed with their ``FileType`` and never opened: the indexer
///   records a `not-a-regular-file` finding when a memory rule or a reference reaches one.
/// Nothing outside the root is ever opened.
public struct FileTreeWalker: Sendable {
    public static let skippedFolders: Set<String> = [".git", ".build", "node_modules", ".ctxmem", ".hg", ".svn"]

    public let root: URL
    public let exclude: [Glob]
    /// Extra relative folder paths not to enter (the index folder when `--db` puts it elsewhere in the root).
    public let skippedPaths: Set<String>

    public init(root: URL, exclude: [Glob], skippedPaths: Set<String> = []) {
        self.root = root
        self.exclude = exclude
        self.skippedPaths = skippedPaths
    }

    public struct Result: Sendable {
        public var files: [WalkedFile] = []
        public var findings: [Finding] = []
        /// Folders seen (relative paths), so an import of a folder can be told from a missing file.
        public var folders: Set<String> = [""]
    }

    /// - Throws: ``IndexError/invalidRoot(path:detail:)`` when the root is not a readable folder.
    public func walk() throws -> Result {
        guard let rootReal = Self.realPath(root.path) else {
            throw IndexError.invalidRoot(path: root.path, detail: "it does not exist")
        }
        var info = stat()
        guard stat(rootReal, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw IndexError.invalidRoot(path: root.path, detail: "it is not a folder")
        }
        guard let directory = opendir(rootReal) else {
            throw IndexError.invalidRoot(path: root.path, detail: String(cString: strerror(errno)))
        }
        closedir(directory)
        var result = Result()
        var visited: Set<String> = [rootReal]
        // (relative path, absolute path through which it is read, its real path)
        var pending: [(String, String, String)] = [("", rootReal, rootReal)]
        while let (relative, absolute, real) = pending.popLast() {
            guard let directory = opendir(absolute) else {
                result.findings.append(
                    Finding(
                        rule: RuleID.unreadable, severity: .warning, path: relative.isEmpty ? "." : relative,
                        message: "cannot read this folder: \(String(cString: strerror(errno)))"))
                continue
            }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names.sorted() {
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                let childAbsolute = absolute + "/" + name
                var info = stat()
                guard lstat(childAbsolute, &info) == 0 else { continue }
                var isLink = false
                if info.st_mode & S_IFMT == S_IFLNK {
                    isLink = true
                    guard stat(childAbsolute, &info) == 0 else {
                        // ELOOP: a chain of symlinks that comes back on itself (a.md -> b.md -> a.md),
                        // or one more than the kernel's 40 links deep; never a missing target.
                        result.findings.append(
                            errno == ELOOP
                                ? Finding(
                                    rule: RuleID.symlinkLoop, severity: .warning, path: childRelative,
                                    message: "symlink to '\(Self.linkTarget(childAbsolute))' never reaches a file: "
                                        + "its chain of symlinks loops (or is over 40 links deep); not followed")
                                : Finding(
                                    rule: RuleID.brokenSymlink, severity: .warning, path: childRelative,
                                    message: "symlink to '\(Self.linkTarget(childAbsolute))' points at nothing"))
                        continue
                    }
                    guard let target = Self.realPath(childAbsolute),
                        target == rootReal || target.hasPrefix(rootReal + "/")
                    else {
                        result.findings.append(
                            Finding(
                                rule: RuleID.symlinkOutsideRoot, severity: .warning, path: childRelative,
                                message:
                                    "symlink to '\(Self.linkTarget(childAbsolute))' leaves the memory root; not read"))
                        continue
                    }
                    _ = target
                }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    if Self.skippedFolders.contains(name) || skippedPaths.contains(childRelative)
                        || isExcluded(folder: childRelative)
                    {
                        continue
                    }
                    let childReal = isLink ? (Self.realPath(childAbsolute) ?? childAbsolute) : real + "/" + name
                    guard visited.insert(childReal).inserted else {
                        let isLoop = real == childReal || real.hasPrefix(childReal + "/")
                        result.findings.append(
                            Finding(
                                rule: RuleID.symlinkLoop, severity: .warning, path: childRelative,
                                message: isLoop
                                    ? "symlink loops back to '\(Self.relative(childReal, to: rootReal))'; not followed"
                                    : "folder already indexed as '\(Self.relative(childReal, to: rootReal))'; not followed twice"
                            ))
                        continue
                    }
                    result.folders.insert(childRelative)
                    pending.append((childRelative, childAbsolute, childReal))
                default:
                    // Regular files, and FIFOs, sockets and devices: listed, never opened here.
                    guard let type = FileType(mode: info.st_mode) else { continue }
                    if exclude.contains(where: { $0.matches(childRelative) }) { continue }
                    result.files.append(
                        WalkedFile(
                            path: childRelative,
                            stat: FileStat(
                                size: Int(info.st_size),
                                modificationTime: FileStat.nanoseconds(
                                    seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec)),
                                inode: UInt64(info.st_ino)), type: type))
                }
            }
        }
        result.files.sort { $0.path < $1.path }
        return result
    }

    private func isExcluded(folder: String) -> Bool {
        // `vendor/**` and `vendor/` match the folder itself, so it is not entered at all.
        exclude.contains { $0.matches(folder) }
    }

    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func linkTarget(_ path: String) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
    }

    private static func relative(_ real: String, to root: String) -> String {
        real == root ? "." : String(real.dropFirst(root.count + 1))
    }
}
