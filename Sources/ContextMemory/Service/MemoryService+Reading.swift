import Foundation
import Logging

// What the faces read: packs, agents, sections, search, statistics. Each read has a synchronous
// form (the command line) and an `async` one (HTTP and MCP), both over the same body: the async
// one runs it on a reader's connection thread (``MemoryReader/read(_:)``), so a server's
// cooperative threads never wait for SQLite or for a pack being assembled.
extension MemoryService {
    /// Runs `body` on a reader, in one snapshot, on the calling thread.
    func reading<T>(_ body: (any MemoryReader) throws -> T) throws -> T {
        let reader = try storage.reader()
        return try reader.snapshot { try body(reader) }
    }

    /// Runs `body` on a reader, in one snapshot, on the reader's own thread.
    func reading<T: Sendable>(_ body: @escaping @Sendable (any MemoryReader) throws -> T) async throws -> T {
        try await storage.reader().read(body)
    }

    // MARK: - Packs

    /// Assembles a context pack (the project's main job). Token counting: `tokenizer`,
    /// `modelFactor` and `safetyMargin` override the configuration's.
    /// - Throws: ``PackError`` (unknown agent, budget, essentials over budget), ``IndexError``.
    public func pack(
        _ request: PackRequest, tokenizer: String? = nil, modelFactor: Double? = nil,
        safetyMargin: Double? = nil
    ) throws -> Pack {
        let parts = try packBuilderParts(tokenizer: tokenizer, modelFactor: modelFactor, safetyMargin: safetyMargin)
        return try reading { try parts.builder(reading: $0).build(request) }
    }

    /// ``pack(_:tokenizer:modelFactor:safetyMargin:)`` off the cooperative pool.
    public func pack(
        _ request: PackRequest, tokenizer: String? = nil, modelFactor: Double? = nil,
        safetyMargin: Double? = nil
    ) async throws -> Pack {
        let parts = try packBuilderParts(tokenizer: tokenizer, modelFactor: modelFactor, safetyMargin: safetyMargin)
        return try await reading { try parts.builder(reading: $0).build(request) }
    }

    /// A builder on a reader of its own (tests and the benchmark build many packs with one).
    /// - Parameter policy: the packing stages' tuning (the benchmark and tests vary it).
    public func packBuilder(
        tokenizer: String? = nil, modelFactor: Double? = nil, safetyMargin: Double? = nil,
        policy: PackingPolicy = .default
    ) throws -> PackBuilder {
        var parts = try packBuilderParts(tokenizer: tokenizer, modelFactor: modelFactor, safetyMargin: safetyMargin)
        parts.policy = policy
        return parts.builder(reading: try storage.reader())
    }

    /// What a ``PackBuilder`` is made of besides its reader: the configuration's counter, depth and budget.
    func packBuilderParts(
        tokenizer: String? = nil, modelFactor: Double? = nil,
        safetyMargin: Double? = nil
    ) throws -> PackBuilderParts {
        let configuration = try configuration()
        let counter = PackTokenCounter(
            base: try baseCounter(configuration: configuration, tokenizer: tokenizer),
            modelFactor: modelFactor ?? configuration.tokenFactor,
            safetyMargin: safetyMargin ?? configuration.safetyMargin)
        return PackBuilderParts(
            counter: counter, importDepth: configuration.importDepth,
            defaultBudget: configuration.budget ?? PackRequest.defaultBudget,
            defaultEssentialShare: configuration.essentialShare ?? Configuration.defaultEssentialShare,
            cache: packingCache, logger: logger)
    }

    // MARK: - Agents

    /// Every agent defined in `.claude/agents`, with its budget and the essential tokens it starts with.
    public func agents() throws -> [AgentSummary] {
        let parts = try packBuilderParts()
        return try reading { try Self.agents(parts.builder(reading: $0), reader: $0) }
    }

    /// ``agents()`` off the cooperative pool.
    public func agents() async throws -> [AgentSummary] {
        let parts = try packBuilderParts()
        return try await reading { try Self.agents(parts.builder(reading: $0), reader: $0) }
    }

    /// The budget of the agent named `name` (its profile's, else the default); nil when no agent
    /// has that name. Reads only that agent's profile, not every agent's essentials.
    public func budget(forAgent name: String) async throws -> Int? {
        let parts = try packBuilderParts()
        return try await reading { reader in
            let builder = parts.builder(reading: reader)
            guard let profile = try? builder.profile(named: name, in: builder.profiles()) else { return nil }
            return profile.budget ?? builder.defaultBudget
        }
    }

    /// - Parameter withOverhead: false leaves out the role pack each agent's overhead is measured
    ///   with (the audit needs only what the agent starts with).
    static func agents(_ builder: PackBuilder, reader: any MemoryReader, withOverhead: Bool = true) throws
        -> [AgentSummary]
    {
        let findings = try reader.findings().filter { $0.rule == .invalidAgent }
        return try builder.profiles().map { profile in
            let mode = PackMode.auto.resolved(for: profile)
            let budget = profile.budget ?? builder.defaultBudget
            let sections = try builder.essentials(for: profile, withBodies: false).inMode(mode)
            let roleTokens = sections.role.reduce(0) { $0 + $1.tokens }
            let pinnedTokens = sections.pinned.reduce(0) { $0 + $1.record.tokens } + roleTokens
            let claudeCodeTokens = sections.loadedByClaudeCode.tokens
            // The role pack says what the agent starts with when no task narrows it.
            var overhead = pinnedTokens + claudeCodeTokens
            var overLimit = false
            do {
                if withOverhead {
                    overhead = try builder.build(PackRequest(agent: profile.name)).manifest.overhead.tokens
                }
            } catch PackError.essentialsExceedBudget(_, let tokens, _) {
                overhead = tokens + claudeCodeTokens
                overLimit = true
            }
            let share = PackManifest.Overhead.share(overhead, of: budget)
            return AgentSummary(
                profile: profile, budget: budget, mode: mode,
                essentialTokens: sections.pinned.reduce(0) { $0 + $1.record.tokens }
                    + sections.shareable.reduce(0) { $0 + $1.record.tokens } + roleTokens,
                essentialSections: sections.pinned.count + sections.shareable.count + sections.role.count,
                pinnedTokens: pinnedTokens, claudeCodeTokens: claudeCodeTokens, overheadTokens: overhead,
                overheadShare: share,
                overLimit: overLimit || share > AgentSummary.overheadBar,
                findings: findings.filter { $0.path == profile.path })
        }
    }

    // MARK: - Sections

    /// Sections with their tier, tokens and the reason for the tier; `pathGlob` narrows to matching files.
    public func tiers(pathGlob: String? = nil) throws -> [SectionRecord] {
        let pattern = pathGlob.map { glob in
            // A plain folder or file path means everything under it.
            glob.contains("*") || glob.contains("?") ? glob : (glob.hasSuffix("/") ? glob + "**" : glob)
        }
        return try reading { reader in
            guard let pattern else { return try reader.sections(matchingAny: ["**"], withBody: false, limit: nil) }
            var records = try reader.sections(matchingAny: [pattern], withBody: false, limit: nil)
            if records.isEmpty, !pattern.contains("*") {
                records = try reader.sections(matchingAny: [pattern + "/**"], withBody: false, limit: nil)
            }
            return records
        }
    }

    /// The section or file a `memory://PATH#slug` handle names, from the index (never from disk, so
    /// nothing outside the indexed memory can be served). - Throws: ``ReadError``.
    public func read(handle: String) throws -> MemoryReadResult {
        let (path, slug) = try MemoryHandle.parse(handle)
        return try reading { try Self.read(handle: handle, path: path, slug: slug, reader: $0) }
    }

    /// ``read(handle:)`` off the cooperative pool; with `references`, also what the section links
    /// and imports and what links to it (``MemoryReferences``), from the same snapshot.
    /// - Parameter line: with a file's handle, the section that holds this line of the file (the
    ///   file itself for lines before its first heading), as an audit finding names a place.
    public func read(handle: String, line: Int? = nil, references: Bool = false) async throws -> MemoryReadResult {
        let (path, written) = try MemoryHandle.parse(handle)
        return try await reading { reader in
            var slug = written
            if slug == nil, let line {
                let sections = try reader.sections(inPaths: [path], withBody: false).sorted { $0.ordinal < $1.ordinal }
                slug = sections.last { $0.startLine <= line }.map(\.slug).flatMap { $0.isEmpty ? nil : $0 }
            }
            var result = try Self.read(handle: handle, path: path, slug: slug, reader: reader)
            if references { result.references = try Self.references(of: result, slug: slug, reader: reader) }
            return result
        }
    }

    /// The references written in `result`'s lines, and those elsewhere that resolve to its file
    /// (without a fragment, or with its slug when it is a section). Each names the section it
    /// leads to when that is indexed memory, so a client can follow it by handle.
    private static func references(of result: MemoryReadResult, slug: String?, reader: any MemoryReader) throws
        -> MemoryReferences
    {
        let stored = try reader.references(touching: result.path)
        let outgoing = stored.filter { $0.path == result.path && (result.startLine...result.endLine).contains($0.line) }
        let lines = result.startLine...result.endLine
        let incoming = stored.filter {
            guard $0.resolvedPath == result.path, !($0.path == result.path && lines.contains($0.line)) else {
                return false
            }
            // From another file: to the file, or to this section. From the same file: to this section only.
            return $0.path != result.path
                ? slug == nil || $0.fragment == nil || $0.fragment == slug
                : slug != nil && $0.fragment == slug
        }
        // One query for the sections of every file involved: targets' slugs, and writers' lines.
        let paths = Set(outgoing.compactMap(\.resolvedPath) + incoming.map(\.path))
        let sections = Dictionary(grouping: try reader.sections(inPaths: Array(paths), withBody: false), by: \.path)
        func target(_ reference: StoredReference) -> String? {
            guard reference.status == .inRoot, let path = reference.resolvedPath, let slugs = sections[path] else {
                return nil
            }
            let fragment = reference.fragment.flatMap { fragment in
                slugs.contains { $0.slug == fragment } ? fragment : nil
            }
            return MemoryHandle.make(path: path, slug: fragment ?? "")
        }
        func writer(_ reference: StoredReference) -> String? {
            sections[reference.path]?.last { $0.startLine <= reference.line }?.handle
        }
        func entry(_ reference: StoredReference, handle: String?) -> MemoryReferences.Entry {
            .init(
                kind: reference.kind, target: reference.target, status: reference.status, path: reference.path,
                line: reference.line, handle: handle)
        }
        return MemoryReferences(
            outgoing: outgoing.map { entry($0, handle: target($0)) },
            incoming: incoming.map { entry($0, handle: writer($0)) })
    }

    private static func read(handle: String, path: String, slug: String?, reader: any MemoryReader) throws
        -> MemoryReadResult
    {
        guard try reader.document(path: path) != nil else {
            let known = try reader.documents(kind: nil).map(\.path)
            throw ReadError.notFound(
                handle: handle,
                suggestion: Suggest.nearest(to: path, in: known).map { MemoryHandle.make(path: $0, slug: "") })
        }
        let sections = try reader.sections(inPaths: [path]).sorted { $0.ordinal < $1.ordinal }
        if let slug {
            guard let section = sections.first(where: { $0.slug == slug }) else {
                let suggestion = Suggest.nearest(to: slug, in: sections.map(\.slug).filter { !$0.isEmpty })
                throw ReadError.notFound(
                    handle: handle, suggestion: suggestion.map { MemoryHandle.make(path: path, slug: $0) })
            }
            return MemoryReadResult(
                handle: section.handle, path: path, startLine: section.startLine, endLine: section.endLine,
                headingPath: section.headingPath, tier: section.tier, tokens: section.tokens,
                text: section.body ?? "")
        }
        return MemoryReadResult(
            handle: MemoryHandle.make(path: path, slug: ""), path: path,
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
        var result: MemoryReadResult = try read(handle: handle)
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        guard let real = FileTreeWalker.realPath(root.appendingPathComponent(result.path).path),
            real.hasPrefix(rootPath + "/")
        else {
            throw ReadError.notFound(handle: handle, suggestion: nil)
        }
        let bytes: Data
        do {
            bytes = try BoundedRead.contents(of: URL(fileURLWithPath: real), limit: Configuration.maxFileSizeLimit)
        } catch {
            throw ReadError.notFound(handle: handle, suggestion: nil)
        }
        let lines = MarkdownParser.lines(of: TextDecoding.decode(Array(bytes)).text)
        let first = max(0, result.startLine - 1)
        let last = min(lines.count, result.endLine)
        result.text = first < last ? lines[first..<last].joined(separator: "\n") + "\n" : ""
        return result
    }

    // MARK: - Search and statistics

    /// Searches the index. - Throws: ``SearchError`` for a malformed query, ``IndexError``.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) throws -> [SearchHit] {
        let query = try Self.searchQuery(text, options: options)
        let folder = handoffFolder
        return try reading {
            try Self.newerReportsFirst(try $0.search(query, options: options), folder: folder, reader: $0)
        }
    }

    /// ``search(_:options:)`` off the cooperative pool.
    public func search(_ text: String, options: SearchOptions = SearchOptions()) async throws -> [SearchHit] {
        let query = try Self.searchQuery(text, options: options)
        let folder = handoffFolder
        return try await reading {
            try Self.newerReportsFirst(try $0.search(query, options: options), folder: folder, reader: $0)
        }
    }

    /// The handoff folder of the configuration (the default when it cannot be read).
    private var handoffFolder: HandoffSettings { HandoffSettings.load(root: root) }

    /// Search ranks words, not time: when several reports of one agent type match, each ranks
    /// lower by half for every newer report of that agent, as in packs, so the latest comes first.
    static func newerReportsFirst(_ hits: [SearchHit], folder: HandoffSettings, reader: any MemoryReader) throws
        -> [SearchHit]
    {
        guard hits.count(where: { folder.contains($0.path) }) > 1 else { return hits }
        let ledger = try HandoffLedger(store: reader)
        var adjusted = hits
        for index in adjusted.indices {
            if let newer = ledger.newer[adjusted[index].path], newer > 0 {
                adjusted[index].score *= pow(0.5, Double(newer))
            }
        }
        // Stable: equal scores keep the index's order.
        return adjusted.enumerated().sorted { ($0.element.score, $1.offset) > ($1.element.score, $0.offset) }
            .map(\.element)
    }

    private static func searchQuery(_ text: String, options: SearchOptions) throws -> SearchQuery {
        let query = try SearchQuery(parsing: text)
        guard (1...SearchOptions.maxLimit).contains(options.limit) else {
            throw SearchError.invalidOption("--limit must be between 1 and \(SearchOptions.maxLimit)")
        }
        return query
    }

    public func statistics() throws -> IndexStatistics {
        try reading { try $0.statistics() }
    }

    /// Findings of the last index run.
    public func findings() throws -> [Finding] {
        try reading { try $0.findings() }
    }
}

/// A ``PackBuilder`` without its reader: what the configuration decides, made once per request
/// and given a reader where the pack is read (on the reader's thread, for a server).
struct PackBuilderParts: Sendable {
    let counter: PackTokenCounter
    let importDepth: Int
    let defaultBudget: Int
    let defaultEssentialShare: Double
    let cache: PackingCache
    var policy = PackingPolicy.default
    let logger: Logger

    func builder(reading reader: any MemoryReader) -> PackBuilder {
        PackBuilder(
            store: reader, counter: counter, importDepth: importDepth, defaultBudget: defaultBudget,
            defaultEssentialShare: defaultEssentialShare, cache: cache, policy: policy, logger: logger)
    }
}

extension MemoryService {
    /// The next reader of this service's pool, as its own type (tests look inside).
    func sqliteReader() throws -> SQLiteReader {
        guard let storage = storage as? SQLiteStorage else { throw IndexError.missing(path: databasePath) }
        return try storage.sqliteReader()
    }
}
