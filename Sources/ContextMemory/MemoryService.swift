public import Foundation
public import Logging
import Synchronization

/// The one entry point every front end (CLI, HTTP, MCP) calls.
///
/// ```swift
/// let service = try MemoryService(root: URL(fileURLWithPath: "memory"))
/// let report = try await service.index()
/// let hits = try service.search("VPC peering", options: SearchOptions(limit: 5))
/// ```
public struct MemoryService: Sendable {
    public let root: URL
    public let databasePath: String
    private let logger: Logger
    private let readers = ReaderCache()

    /// The index folder inside the root, used unless `databasePath` says otherwise.
    public static let indexFolder = ".ctxmem"

    /// - Parameters:
    ///   - root: the memory root (a project folder).
    ///   - databasePath: where the index lives; `<root>/.ctxmem/index.sqlite` by default.
    public init(root: URL, databasePath: String? = nil, logger: Logger = Logger(label: "ctxmem")) {
        self.root = root.standardizedFileURL
        self.databasePath = databasePath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? self.root.appendingPathComponent(Self.indexFolder).appendingPathComponent("index.sqlite").path
        self.logger = logger
    }

    /// Loads `<root>/.ctxmem.yaml` (defaults when absent).
    /// - Throws: ``ConfigurationError``.
    public func configuration() throws -> Configuration {
        try Configuration.load(root: root)
    }

    /// Indexes the root incrementally (or from scratch with `rebuild`).
    /// - Parameter include: extra globs of memory files, added to the configuration's `include`.
    /// - Throws: ``IndexError``, ``ConfigurationError``.
    public func index(
        rebuild: Bool = false,
        include: [String] = [],
        progress: (@Sendable (IndexProgress) -> Void)? = nil
    ) async throws -> IndexReport {
        // Check the root before anything is created, or opening the index would create it.
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw IndexError.invalidRoot(path: root.path, detail: "it does not exist or is not a folder")
        }
        var configuration = try configuration()
        configuration.include += include
        if rebuild { try SQLiteStore.remove(at: databasePath) }
        let store = try SQLiteStore(path: databasePath, mode: .write)
        let indexer = Indexer(root: root, store: store, configuration: configuration, rebuild: rebuild,
                              skippedPaths: skippedPaths, logger: logger, progress: progress)
        var report = try await indexer.run()
        report.databasePath = databasePath
        return report
    }

    /// Searches the index. - Throws: ``SearchError`` for a malformed query, ``IndexError``.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) throws -> [SearchHit] {
        let query = try SearchQuery(parsing: text)
        guard (1...SearchOptions.maxLimit).contains(options.limit) else {
            throw SearchError.invalidOption("--limit must be between 1 and \(SearchOptions.maxLimit)")
        }
        return try openStore().search(query, options: options)
    }

    public func statistics() throws -> IndexStatistics {
        try openStore().statistics()
    }

    /// Findings of the last index run.
    public func findings() throws -> [Finding] {
        try openStore().findings()
    }

    /// A reading connection, kept open across calls (opening costs more than a search); reopened
    /// when the index file was replaced, as `--rebuild` does.
    func openStore() throws -> SQLiteStore {
        try readers.store(at: databasePath)
    }

    /// The index folder, when it lies inside the root under another name than `.ctxmem`.
    private var skippedPaths: Set<String> {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().standardizedFileURL.path
        let rootPath = root.path
        guard folder.hasPrefix(rootPath + "/") else { return [] }
        return [String(folder.dropFirst(rootPath.count + 1))]
    }
}

/// The reading store of a ``MemoryService``, shared by its copies.
private final class ReaderCache: Sendable {
    private let cached = Mutex<(store: SQLiteStore, inode: UInt64)?>(nil)

    func store(at path: String) throws -> SQLiteStore {
        var info = stat()
        guard stat(path, &info) == 0 else {
            cached.withLock { $0 = nil }
            throw IndexError.missing(path: path)
        }
        let inode = UInt64(info.st_ino)
        return try cached.withLock { entry in
            if let entry, entry.inode == inode { return entry.store }
            let store = try SQLiteStore(path: path, mode: .read)
            entry = (store, inode)
            return store
        }
    }
}
