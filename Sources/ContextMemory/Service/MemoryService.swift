public import Foundation
public import Logging
import Synchronization

/// The one entry point every front end (CLI, HTTP, MCP) calls.
///
/// ```swift
/// let service = try MemoryService(root: URL(fileURLWithPath: "memory"))
/// let report = try await service.index()
/// let hits = try await service.search("VPC peering", options: SearchOptions(limit: 5))
/// ```
///
/// Reads go through the ``MemoryStorage`` it is given (``SQLiteStorage`` by default). Every read
/// has two forms: a synchronous one for the command line, and an `async` one for servers, which
/// runs on a reader's own connection thread so no thread of Swift's cooperative pool waits for
/// SQLite or for a pack being assembled.
public struct MemoryService: Sendable {
    public let root: URL
    public let databasePath: String
    let logger: Logger
    /// Where the index lives, and the readers and writers of it.
    public let storage: any MemoryStorage
    /// What packs of one index generation share, kept between a server's requests.
    let packingCache: PackingCache

    /// The index folder inside the root, used unless `databasePath` says otherwise.
    public static let indexFolder = ".ctxmem"

    /// - Parameters:
    ///   - root: the memory root (a project folder).
    ///   - databasePath: where the index lives; `<root>/.ctxmem/index.sqlite` by default.
    /// - Parameter readerConnections: SQLite connections for reads, handed out in turn; a server
    ///   answering requests in parallel wants one per core, a command-line run needs one.
    public init(
        root: URL, databasePath: String? = nil, logger: Logger = Logger(label: "ctxmem"),
        readerConnections: Int = 1
    ) {
        packingCache = PackingCache()
        self.root = root.standardizedFileURL
        self.databasePath =
            databasePath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            ?? self.root.appendingPathComponent(Self.indexFolder).appendingPathComponent("index.sqlite").path
        storage = SQLiteStorage(path: self.databasePath, readerConnections: readerConnections)
        self.logger = logger
    }

    /// Loads `<root>/.ctxmem.yaml` (defaults when absent).
    /// - Throws: ``ConfigurationError``.
    public func configuration() throws -> Configuration {
        try Configuration.load(root: root)
    }

    /// Indexes the root incrementally (or from scratch with `rebuild`).
    ///
    /// One run at a time per index file (a ``WriterLock``; a second run waits up to `lockTimeout`,
    /// telling `waiting` once). A first index, a `rebuild` and the rebuild of a damaged index are
    /// built in a new file beside the old one and renamed into place when complete: a run killed
    /// half-way leaves the previous index, or none, never a partial one, and readers use the old
    /// index until the rename. Other runs change the index in place, in one SQLite transaction.
    /// - Parameter include: extra globs of memory files, added to the configuration's `include`;
    ///   nil keeps those of the last run, so a refresh (before an audit, in the service) indexes
    ///   what `ctxmem index --include ...` chose.
    /// - Throws: ``IndexError``, ``ConfigurationError``.
    public func index(
        rebuild: Bool = false,
        include: [String]? = nil,
        lockTimeout: Duration = .seconds(120),
        waiting: (@Sendable (_ holder: String?) -> Void)? = nil,
        progress: (@Sendable (IndexProgress) -> Void)? = nil
    ) async throws -> IndexReport {
        // Check the root before anything is created, or opening the index would create it.
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw IndexError.invalidRoot(path: root.path, detail: "it does not exist or is not a folder")
        }
        let configuration = try configuration()
        // Hooks that wrote memory while this run held the index count on it to index their records
        // (``indexHandoffs()``): run again while the queue mark moved.
        let queue = handoffQueue
        var mark = queue.position
        var write = try await indexOnce(
            configuration: configuration, rebuild: rebuild, include: include, lockTimeout: lockTimeout,
            waiting: waiting, progress: progress)
        for _ in 0..<100 where queue.position != mark {
            mark = queue.position
            let again = try await indexOnce(
                configuration: configuration, rebuild: false, include: include, lockTimeout: .seconds(120),
                waiting: waiting, progress: progress)
            write = IndexWrite(value: again.value.adding(write.value), replacedDamagedIndex: write.replacedDamagedIndex)
        }
        var report = write.value
        report.databasePath = databasePath
        report.replacedDamagedIndex = write.replacedDamagedIndex
        // Handoff records are detail, never pinned: a run that changed only those (a SubagentStop
        // hook's) leaves the fallbacks as they are, which halves the hook's time.
        if rebuild || report.changedPaths.contains(where: { !configuration.handoffs.contains($0) }) {
            // Best effort: the index is written whatever becomes of the fallbacks.
            do { try writeHookFallbacks() } catch {
                logger.warning("cannot write the hook fallbacks", metadata: ["error": "\(error)"])
            }
        }
        return report
    }

    /// One index run under the writer lock.
    private func indexOnce(
        configuration: Configuration, rebuild: Bool, include: [String]?, lockTimeout: Duration,
        waiting: (@Sendable (_ holder: String?) -> Void)?, progress: (@Sendable (IndexProgress) -> Void)?
    ) async throws -> IndexWrite<IndexReport> {
        try await storage.write(rebuild: rebuild, lockTimeout: lockTimeout, waiting: waiting) { target in
            // A run from scratch keeps what earlier runs were told to include (a damaged index has
            // nothing to tell).
            let extraIncludes =
                try include
                ?? (target.fromScratch
                    ? (try? target.replaced.map { try Indexer.extraIncludes(from: $0.metadata) }) ?? nil
                    : Indexer.extraIncludes(from: target.writer.metadata))
                ?? []
            var configuration = configuration
            configuration.include += extraIncludes
            // Handoff records are memory wherever the folder is (under project_management/ they are already).
            let handoffs = configuration.handoffs
            if handoffs.enabled, DocumentKind.classify(handoffs.normalizedFolder + "/x.md") == nil {
                configuration.include.append(handoffs.normalizedFolder + "/**/*.md")
            }
            let indexer = Indexer(
                root: root, store: target.writer, configuration: configuration, extraIncludes: extraIncludes,
                counter: try baseCounter(configuration: configuration), rebuild: target.fromScratch,
                skippedPaths: skippedPaths, logger: logger, progress: progress)
            return try await indexer.run()
        }
    }

    /// Reads every page of the index: SQLite's integrity check and FTS5's check of the full-text
    /// index (`ctxmem doctor`). Returns the problems; empty when the index is intact.
    /// - Throws: ``IndexError`` (missing, damaged beyond opening, locked).
    public func checkIntegrity() throws -> [String] {
        try storage.checkIntegrity()
    }

    /// The counter sections are stored with: the exact BPE of `tokenizer` (an argument, else the
    /// configuration's), or the estimator. - Throws: ``TokenizerLoadError``.
    public func baseCounter(configuration: Configuration? = nil, tokenizer: String? = nil) throws -> any TokenCounter {
        let configured = try tokenizer ?? (configuration ?? self.configuration()).tokenizer
        guard let configured else { return ClaudeTokenEstimator() }
        let url =
            configured.hasPrefix("/")
            ? URL(fileURLWithPath: configured)
            : URL(fileURLWithPath: configured, relativeTo: tokenizer != nil ? nil : root).standardizedFileURL
        return try TokenizerCache.shared.tokenizer(at: url)
    }

    /// Audits the memory's references: broken imports, links and anchors, stale and orphaned
    /// documents, and the other audit rules (``RuleID/auditRules``). Refreshes the index first
    /// unless told not to.
    /// - Throws: ``IndexError``, ``ConfigurationError``, ``AuditError``.
    public func audit(_ options: AuditOptions = AuditOptions()) async throws -> AuditReport {
        let clock = ContinuousClock()
        let start = clock.now
        let logger = logger
        let mark: @Sendable (String) -> Void = { label in
            logger.trace("audit \(label)", metadata: ["seconds": "\((clock.now - start).seconds)"])
        }
        if options.refreshIndex { _ = try await index() }
        mark("refreshed")
        let configuration = try configuration()
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        let walk = try FileTreeWalker(
            root: root, exclude: configuration.exclude.map(Glob.init), skippedPaths: skippedPaths
        ).walk()
        let listing = RootListing(walk, rootPath: rootPath)
        mark("walked")
        let useGit = options.useGit
        let history = HistoryCache { ChangeHistory.load(rootPath: rootPath, listing: listing, useGit: useGit) }
        let builder = options.rules.contains(.oversizedMemory) ? try packBuilderParts() : nil
        let handoffFolderBytes =
            options.rules.contains(.handoffFolderSize)
            ? Self.folderBytes(root.appendingPathComponent(configuration.handoffs.normalizedFolder)) : nil
        let trace = logger.logLevel <= .trace
        // The rules' reads in one snapshot, on the reader's own thread.
        let (found, documentCount, lines) = try await storage.reader().read { reader in
            let agents =
                try builder.map { parts in
                    try Self.agents(parts.builder(reading: reader), reader: reader, withOverhead: false).map {
                        AgentBudget(
                            path: $0.profile.path, name: $0.profile.name, budget: $0.budget,
                            startTokens: $0.pinnedTokens + $0.claudeCodeTokens, claudeCodeTokens: $0.claudeCodeTokens)
                    }
                } ?? []
            mark("agents")
            var auditor = Auditor(
                store: reader, listing: listing, rules: options.rules,
                importDepthLimit: configuration.importDepth, agents: agents, history: history.value,
                trace: trace ? { mark($0) } : nil)
            auditor.handoffs = configuration.handoffs
            auditor.handoffFolderBytes = handoffFolderBytes
            let found = try auditor.run().sorted {
                ($0.path, $0.line ?? 0, $0.column ?? 0, $0.rule.rawValue, $0.target ?? "")
                    < ($1.path, $1.line ?? 0, $1.column ?? 0, $1.rule.rawValue, $1.target ?? "")
            }
            mark("rules")
            return (found, auditor.documentCount, try Self.sourceLines(of: Set(found.map(\.path)), reader: reader))
        }
        mark("suppression")
        // Inline comments first, then the baseline absorbs what is left.
        var baseline = options.baseline
        var findings: [Finding] = []
        var suppressed: [SuppressedFinding] = []
        for finding in found {
            if let fileLines = lines[finding.path], InlineSuppression.silences(finding, lines: fileLines) {
                suppressed.append(SuppressedFinding(finding: finding, reason: .inline))
            } else if baseline?.absorb(finding) == true {
                suppressed.append(SuppressedFinding(finding: finding, reason: .baseline))
            } else {
                findings.append(finding)
            }
        }
        let historyText: String? = history.loaded.map {
            switch $0.source {
            case .git(let commits): "git (\(commits) commits)"
            case .fileTimes: "file times"
            }
        }
        return AuditReport(
            root: rootPath, rules: RuleID.auditRules.filter(options.rules.contains), findings: findings,
            suppressed: suppressed,
            documents: documentCount, history: historyText,
            seconds: (clock.now - start).seconds)
    }

    /// The bytes of the regular files under `folder` (symlinks not followed); nil when it does not exist.
    static func folderBytes(_ folder: URL) -> Int? {
        guard FileManager.default.fileExists(atPath: folder.path),
            let walker = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey, .isSymbolicLinkKey])
        else { return nil }
        var total = 0
        for case let url as URL in walker {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey, .isSymbolicLinkKey]),
                values.isRegularFile == true, values.isSymbolicLink != true
            else { continue }
            total += values.fileSize ?? 0
        }
        return total
    }

    /// The lines holding `ctxmem-ignore` comments in these files, from the index.
    private static func sourceLines(of paths: Set<String>, reader: any MemoryReader) throws -> [String: [Int:
        Substring]]
    {
        var result: [String: [Int: Substring]] = [:]
        for section in try reader.sections(containing: "ctxmem-ignore") where paths.contains(section.path) {
            for (offset, line) in (section.body ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated()
            where line.contains("ctxmem-ignore") {
                result[section.path, default: [:]][section.startLine + offset] = line
            }
        }
        return result
    }

    /// The index folder, when it lies inside the root under another name than `.ctxmem`.
    var skippedPaths: Set<String> {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().standardizedFileURL.path
        let rootPath = root.path
        guard folder.hasPrefix(rootPath + "/") else { return [] }
        return [String(folder.dropFirst(rootPath.count + 1))]
    }
}

/// Computes a value once, on first use, and remembers whether it did.
private final class HistoryCache: Sendable {
    private let make: @Sendable () -> ChangeHistory
    private let cached = Mutex<ChangeHistory?>(nil)

    init(_ make: @escaping @Sendable () -> ChangeHistory) { self.make = make }

    var loaded: ChangeHistory? { cached.withLock { $0 } }

    @Sendable func value() -> ChangeHistory {
        cached.withLock { value in
            if let value { return value }
            let made = make()
            value = made
            return made
        }
    }
}
