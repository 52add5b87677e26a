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
    private let readers: ReaderCache
    /// What packs of one index generation share, kept between a server's requests.
    private let packingCache: PackingCache

    /// ctxmem's version, as `--version`, the audit's reports and the service state it.
    public static let version = "0.1.0"

    /// The index folder inside the root, used unless `databasePath` says otherwise.
    public static let indexFolder = ".ctxmem"

    /// - Parameters:
    ///   - root: the memory root (a project folder).
    ///   - databasePath: where the index lives; `<root>/.ctxmem/index.sqlite` by default.
    /// - Parameter readerConnections: SQLite connections for reads, handed out in turn; a server
    ///   answering requests in parallel wants one per core, a command-line run needs one.
    public init(root: URL, databasePath: String? = nil, logger: Logger = Logger(label: "ctxmem"),
                readerConnections: Int = 1) {
        readers = ReaderCache(size: max(1, readerConnections))
        packingCache = PackingCache()
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
        let lock = try await WriterLock.acquire(for: databasePath, timeout: lockTimeout) { waiting?($0) }
        defer { withExtendedLifetime(lock) {} }

        let building = databasePath + ".building"
        try? SQLiteStore.remove(at: building)  // left by a run that was killed
        let exists = FileManager.default.fileExists(atPath: databasePath)
        var damage: String?
        if exists, !rebuild {
            damage = Self.damage(at: databasePath)
            if damage == nil {
                do {
                    let store = try SQLiteStore(path: databasePath, mode: .write)
                    return try await run(store, configuration: configuration, include: include, rebuild: false, progress: progress)
                } catch let IndexError.corrupt(_, detail) {
                    damage = detail  // found by a statement: rebuilt below
                }
            }
        }
        // A rebuild keeps what earlier runs were told to include (a damaged index has nothing to tell).
        var remembered = include
        if remembered == nil, exists, damage == nil {
            remembered = (try? SQLiteStore(path: databasePath, mode: .read)).flatMap { try? Indexer.extraIncludes(in: $0) }
        }
        do {
            let store = try SQLiteStore(path: building, mode: .build)
            var report = try await run(store, configuration: configuration, include: remembered ?? [], rebuild: true, progress: progress)
            try store.finishBuild()
            try SQLiteStore.replace(databasePath, with: building)
            report.replacedDamagedIndex = damage
            return report
        } catch {
            try? SQLiteStore.remove(at: building)
            throw error
        }
    }

    /// Why the index file at `path` cannot be used, as far as opening it shows; nil when it looks intact.
    static func damage(at path: String) -> String? {
        do {
            _ = try SQLiteStore(path: path, mode: .read)
            return nil
        } catch let IndexError.corrupt(_, detail) {
            return detail
        } catch {
            return nil  // missing, outdated or locked: an incremental run handles or reports those
        }
    }

    private func run(_ store: SQLiteStore, configuration: Configuration, include: [String]?, rebuild: Bool,
                     progress: (@Sendable (IndexProgress) -> Void)?) async throws -> IndexReport {
        var configuration = configuration
        let extraIncludes = try include ?? Indexer.extraIncludes(in: store)
        configuration.include += extraIncludes
        let indexer = Indexer(root: root, store: store, configuration: configuration, extraIncludes: extraIncludes,
                              counter: try baseCounter(configuration: configuration), rebuild: rebuild,
                              skippedPaths: skippedPaths, logger: logger, progress: progress)
        var report = try await indexer.run()
        report.databasePath = databasePath
        return report
    }

    /// Reads every page of the index: SQLite's integrity check and FTS5's check of the full-text
    /// index (`ctxmem doctor`). Returns the problems; empty when the index is intact.
    /// - Throws: ``IndexError`` (missing, damaged beyond opening, locked).
    public func checkIntegrity() throws -> [String] {
        guard FileManager.default.fileExists(atPath: databasePath) else { throw IndexError.missing(path: databasePath) }
        if let damage = Self.damage(at: databasePath) { return [damage] }
        do {
            return try SQLiteStore(path: databasePath, mode: .write).integrityCheck()
        } catch let IndexError.corrupt(_, detail) {
            return [detail]  // so damaged that the check itself stopped
        }
    }

    /// The counter sections are stored with: the exact BPE of `tokenizer` (an argument, else the
    /// configuration's), or the estimator. - Throws: ``TokenizerLoadError``.
    public func baseCounter(configuration: Configuration? = nil, tokenizer: String? = nil) throws -> any TokenCounter {
        let configured = try tokenizer ?? (configuration ?? self.configuration()).tokenizer
        guard let configured else { return ClaudeTokenEstimator() }
        let url = configured.hasPrefix("/") ? URL(fileURLWithPath: configured)
            : URL(fileURLWithPath: configured, relativeTo: tokenizer != nil ? nil : root).standardizedFileURL
        return try TokenizerCache.shared.tokenizer(at: url)
    }

    /// Assembles a context pack (the project's main job). Token counting: `tokenizer`,
    /// `modelFactor` and `safetyMargin` override the configuration's.
    /// - Throws: ``PackError`` (unknown agent, budget, essentials over budget), ``IndexError``.
    public func pack(_ request: PackRequest, tokenizer: String? = nil, modelFactor: Double? = nil,
                     safetyMargin: Double? = nil) throws -> Pack {
        try packBuilder(tokenizer: tokenizer, modelFactor: modelFactor, safetyMargin: safetyMargin).build(request)
    }

    public func packBuilder(tokenizer: String? = nil, modelFactor: Double? = nil, safetyMargin: Double? = nil) throws -> PackBuilder {
        let configuration = try configuration()
        let counter = PackTokenCounter(base: try baseCounter(configuration: configuration, tokenizer: tokenizer),
                                       modelFactor: modelFactor ?? configuration.tokenFactor,
                                       safetyMargin: safetyMargin ?? configuration.safetyMargin)
        return PackBuilder(store: try openStore(), counter: counter, importDepth: configuration.importDepth,
                           defaultBudget: configuration.budget ?? PackRequest.defaultBudget, cache: packingCache, logger: logger)
    }

    /// Every agent defined in `.claude/agents`, with its budget and the essential tokens it starts with.
    public func agents() throws -> [AgentSummary] {
        let builder = try packBuilder()
        let store = try openStore()
        let findings = try store.findings().filter { $0.rule == .invalidAgent }
        return try builder.profiles().map { profile in
            let (essentials, role) = try builder.essentials(for: profile, withBodies: false)
            let tokens = essentials.reduce(0) { $0 + $1.0.tokens } + role.reduce(0) { $0 + $1.tokens }
            return AgentSummary(profile: profile, budget: profile.budget ?? builder.defaultBudget, essentialTokens: tokens,
                                essentialSections: essentials.count + role.count,
                                findings: findings.filter { $0.path == profile.path })
        }
    }

    /// Sections with their tier, tokens and the reason for the tier; `pathGlob` narrows to matching files.
    public func tiers(pathGlob: String? = nil) throws -> [SectionRecord] {
        let store = try openStore()
        let pattern = pathGlob.map { glob in
            // A plain folder or file path means everything under it.
            glob.contains("*") || glob.contains("?") ? glob : (glob.hasSuffix("/") ? glob + "**" : glob)
        }
        guard let pattern else { return try store.sections(matchingAny: ["**"], withBody: false, limit: nil) }
        var records = try store.sections(matchingAny: [pattern], withBody: false, limit: nil)
        if records.isEmpty, !pattern.contains("*") {
            records = try store.sections(matchingAny: [pattern + "/**"], withBody: false, limit: nil)
        }
        return records
    }

    /// The section or file a `memory://PATH#slug` handle names, from the index (never from disk, so
    /// nothing outside the indexed memory can be served). - Throws: ``ReadError``.
    public func read(handle: String) throws -> MemoryReadResult {
        let (path, slug) = try MemoryHandle.parse(handle)
        let store = try openStore()
        guard try store.document(path: path) != nil else {
            let known = try store.documents(kind: nil, frontmatterMentioning: nil).map(\.path)
            throw ReadError.notFound(handle: handle, suggestion: Suggest.nearest(to: path, in: known).map { MemoryHandle.make(path: $0, slug: "") })
        }
        let sections = try store.sections(inPaths: [path]).sorted { $0.ordinal < $1.ordinal }
        if let slug {
            guard let section = sections.first(where: { $0.slug == slug }) else {
                let suggestion = Suggest.nearest(to: slug, in: sections.map(\.slug).filter { !$0.isEmpty })
                throw ReadError.notFound(handle: handle, suggestion: suggestion.map { MemoryHandle.make(path: path, slug: $0) })
            }
            return MemoryReadResult(handle: section.handle, path: path, startLine: section.startLine, endLine: section.endLine,
                                    headingPath: section.headingPath, tier: section.tier, tokens: section.tokens,
                                    text: section.body ?? "")
        }
        return MemoryReadResult(handle: MemoryHandle.make(path: path, slug: ""), path: path,
                                startLine: sections.first?.startLine ?? 1, endLine: sections.last?.endLine ?? 1,
                                headingPath: [], tier: sections.map(\.tier).min() ?? .detailed,
                                tokens: sections.reduce(0) { $0 + $1.tokens },
                                text: sections.compactMap(\.body).joined(separator: "\n"))
    }

    /// What ``read(handle:)`` finds, with its lines as they are on disk now: credentials included.
    /// For a person at a terminal (`ctxmem read --no-redact`), never for HTTP or MCP. The file
    /// must still resolve inside the root.
    /// - Throws: ``ReadError`` as `read` does; `IndexError.unreadable` when the file cannot be read now.
    public func readUnredacted(handle: String) throws -> MemoryReadResult {
        var result = try read(handle: handle)
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        guard let real = FileTreeWalker.realPath(root.appendingPathComponent(result.path).path), real.hasPrefix(rootPath + "/") else {
            throw ReadError.notFound(handle: handle, suggestion: nil)
        }
        let bytes: Data
        do {
            bytes = try BoundedRead.contents(of: URL(fileURLWithPath: real), limit: Configuration.maxFileSizeLimit)
        } catch {
            throw ReadError.notFound(handle: handle, suggestion: nil)
        }
        let lines = MarkdownParser.lines(of: TextDecoding.decode(Array(bytes)).text)
        let first = max(0, result.startLine - 1), last = min(lines.count, result.endLine)
        result.text = first < last ? lines[first..<last].joined(separator: "\n") + "\n" : ""
        return result
    }

    /// Audits the memory's references: broken imports, links and anchors, stale and orphaned
    /// documents, and the other audit rules (``RuleID/auditRules``). Refreshes the index first
    /// unless told not to.
    /// - Throws: ``IndexError``, ``ConfigurationError``, ``AuditError``.
    public func audit(_ options: AuditOptions = AuditOptions()) async throws -> AuditReport {
        let clock = ContinuousClock()
        let start = clock.now
        let logger = logger
        func mark(_ label: String) { logger.trace("audit \(label)", metadata: ["seconds": "\((clock.now - start).seconds)"]) }
        if options.refreshIndex { _ = try await index() }
        mark("refreshed")
        let configuration = try configuration()
        let store = try openStore()
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        let walk = try FileTreeWalker(root: root, exclude: configuration.exclude.map(Glob.init), skippedPaths: skippedPaths).walk()
        let listing = RootListing(walk, rootPath: rootPath)
        mark("walked")
        let agents = options.rules.contains(.oversizedMemory)
            ? try agents().map { AgentBudget(path: $0.profile.path, name: $0.profile.name, budget: $0.budget, essentialTokens: $0.essentialTokens) }
            : []
        let useGit = options.useGit
        let history = HistoryCache { ChangeHistory.load(rootPath: rootPath, listing: listing, useGit: useGit) }
        mark("agents")
        var auditor = Auditor(store: store, listing: listing, rules: options.rules, importDepthLimit: configuration.importDepth,
                              agents: agents, history: history.value, trace: logger.logLevel <= .trace ? { mark($0) } : nil)
        let found = try auditor.run().sorted { ($0.path, $0.line ?? 0, $0.column ?? 0, $0.rule.rawValue, $0.target ?? "")
            < ($1.path, $1.line ?? 0, $1.column ?? 0, $1.rule.rawValue, $1.target ?? "") }

        mark("rules")
        // Inline comments first, then the baseline absorbs what is left.
        let lines = try sourceLines(of: Set(found.map(\.path)), store: store)
        mark("suppression")
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
            case let .git(commits): "git (\(commits) commits)"
            case .fileTimes: "file times"
            }
        }
        return AuditReport(root: rootPath, rules: RuleID.auditRules.filter(options.rules.contains), findings: findings,
                           suppressed: suppressed,
                           documents: auditor.documentCount, history: historyText,
                           seconds: (clock.now - start).seconds)
    }

    /// The lines holding `ctxmem-ignore` comments in these files, from the index.
    private func sourceLines(of paths: Set<String>, store: SQLiteStore) throws -> [String: [Int: Substring]] {
        var result: [String: [Int: Substring]] = [:]
        for section in try store.sections(containing: "ctxmem-ignore") where paths.contains(section.path) {
            for (offset, line) in (section.body ?? "").split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("ctxmem-ignore") {
                result[section.path, default: [:]][section.startLine + offset] = line
            }
        }
        return result
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

/// The reading stores of a ``MemoryService``, shared by its copies: up to `size` connections,
/// handed out in turn, so concurrent requests of a server do not queue on one connection (each GRDB
/// `DatabaseQueue` runs one statement at a time).
private final class ReaderCache: Sendable {
    private let cached = Mutex<(stores: [SQLiteStore], inode: UInt64)?>(nil)
    private let turn = Atomic<Int>(0)
    private let size: Int

    init(size: Int) { self.size = size }

    func store(at path: String) throws -> SQLiteStore {
        var info = stat()
        guard stat(path, &info) == 0 else {
            cached.withLock { $0 = nil }
            throw IndexError.missing(path: path)
        }
        let inode = UInt64(info.st_ino)
        let index = turn.add(1, ordering: .relaxed).newValue
        return try cached.withLock { entry in
            // Opened lazily: a command-line run uses one; a server opens the rest as requests come.
            if var current = entry, current.inode == inode {
                guard current.stores.count < size, index % size >= current.stores.count else {
                    return current.stores[index % current.stores.count]
                }
                // The stores of one file share its row lengths (read once, not once per store).
                let store = try SQLiteStore(path: path, mode: .read, lengths: current.stores[0].sectionLengths)
                current.stores.append(store)
                entry = current
                return store
            }
            let store = try SQLiteStore(path: path, mode: .read, lengths: SectionLengths())
            entry = ([store], inode)
            return store
        }
    }
}
