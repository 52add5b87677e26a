import Foundation
import Logging

/// What one index run did.
public struct IndexReport: Sendable, Codable, Equatable {
    public var scannedFiles = 0
    public var documents = 0
    public var added = 0
    public var changed = 0
    public var removed = 0
    public var unchanged = 0
    public var skipped = 0
    /// Bytes read and parsed this run (unchanged files are not read).
    public var bytesParsed = 0
    public var seconds = 0.0
    public var generation = 0
    public var findings: [Finding] = []
    public var databasePath = ""
    /// Why the index this run found was unusable, when the run rebuilt it.
    public var replacedDamagedIndex: String?
    /// The files this run stored or removed (not encoded: a first index would list every file).
    public var changedPaths: [String] = []

    enum CodingKeys: String, CodingKey {
        case scannedFiles, documents, added, changed, removed, unchanged, skipped, bytesParsed, seconds, generation
        case findings, databasePath, replacedDamagedIndex
    }
}

/// Progress of a long index run, for a terminal display.
public struct IndexProgress: Sendable {
    public var filesDone: Int
    public var filesQueued: Int
    public var bytesParsed: Int
    public var seconds: Double
}

/// Brings the index in step with the root, touching only what changed.
///
/// 1. Walk the root (``FileTreeWalker``); memory files by kind and `include` globs start the set.
/// 2. Follow references in waves: relative links from any memory file, and `@imports` from files
///    Claude Code expands imports in (CLAUDE.md files, rules, and what they import, to any depth;
///    the depth is recorded so hops past `import_depth` can be reported).
/// 3. A file whose size, modification time and inode match the index is not read; one whose
///    content hash matches is not parsed; the rest are parsed on all cores.
/// 4. Each document's last commit time is read from git (``GitHistory``), only when HEAD moved
///    or documents were added (see ``commitTimeUpdates(history:storedHead:paths:stored:)``).
/// 5. All changes are written in one transaction.
struct Indexer {
    let root: URL
    let store: any MemoryWriter
    let configuration: Configuration
    /// The `--include` globs of this run (already in `configuration`), remembered for refreshes.
    let extraIncludes: [String]
    /// Counts each section's tokens, stored with it.
    let counter: any TokenCounter
    let rebuild: Bool
    let skippedPaths: Set<String>
    let logger: Logger
    let progress: (@Sendable (IndexProgress) -> Void)?

    private static let extraIncludesKey = "extra_include"
    /// The commit the stored commit times were read at ("" without git).
    private static let gitHeadKey = "git_head"

    /// The `--include` globs the last run was given besides the configuration's.
    /// - Parameter metadata: reads a value the last run recorded (a reader's or a writer's).
    static func extraIncludes(from metadata: (String) throws -> String?) throws -> [String] {
        guard let json = try metadata(extraIncludesKey) else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
    }

    /// Bumped when parsing or tiering changes, so every file is parsed again after an upgrade.
    static let parserVersion = "4"

    private enum Outcome: Sendable {
        /// With what the index held: its import depth and whether it was skipped.
        case unchanged(importDepth: Int?, skipped: Bool)
        /// Same content, new stat; with the import depth the index held.
        case touched(FileStat, importDepth: Int?)
        /// Parsed (or skipped): to be written.
        case written(IndexedFile)
        /// Handed to the write session; the document itself is no longer held.
        case stored(skipped: Bool)
    }

    private struct Processed: Sendable {
        var outcome: Outcome
        var outgoing: [OutgoingReference]
    }

    func run() async throws -> IndexReport {
        let clock = ContinuousClock()
        let start = clock.now
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        // Phase times at trace level (`CTXMEM_TRACE=1` or `CTXMEM_LOG_LEVEL=trace` in the CLI).
        let logger = logger
        func mark(_ label: String) {
            logger.trace("index \(label)", metadata: ["seconds": "\((clock.now - start).seconds)"])
        }
        // The tree is walked and its memory files found (system calls, then string work) while
        // the index is read (SQLite): two cores, and of a small change's re-index these were the
        // largest parts.
        let walker = FileTreeWalker(
            root: root, exclude: configuration.exclude.map(Glob.init), skippedPaths: skippedPaths)
        async let surveying = Self.survey(walker, includes: configuration.include.map(Glob.init))
        // HEAD is read while the tree is walked too (from .git, without starting git when it can).
        async let gitHistory = GitHistory(folder: rootPath, logger: logger)
        let stored = try store.storedFiles()
        mark("stored")
        let fingerprint = configuration.fingerprint + "/" + Self.parserVersion + "/" + counter.identifier
        let storedFingerprint = try store.metadata("fingerprint")
        let reparseAll = rebuild || storedFingerprint != fingerprint
        // Everything read from the index is read before the write session starts: the session
        // holds the store's one connection until it commits.
        let storedReferences = reparseAll || stored.isEmpty ? [:] : try store.outgoingReferences()
        mark("references")
        let tree = try await surveying
        let walk = tree.walk
        let files = tree.files
        var kinds = tree.kinds
        mark("walked and classified")
        var processed: [String: Processed] = [:]
        processed.reserveCapacity(kinds.count)
        // Each wave's files with their kind and stat, by path (the first from the survey, without
        // looking each of thousands of paths up again).
        var frontier = tree.memoryEntries
        // Where Claude Code starts expanding imports (later waves add only referenced files).
        let importRoots = frontier.filter { $0.kind.evaluatesImports }.map(\.path)
        let previousGeneration = Int(try store.metadata("generation") ?? "0") ?? 0
        let storedHead = try store.metadata(Self.gitHeadKey)
        var report = IndexReport()
        report.scannedFiles = walk.files.count
        var depths: [String: Int] = [:]
        var importGraph = ImportGraph(imports: [:])
        // Parsed files stream into the transaction while the next batches are parsed.
        let session = try store.beginWrite()
        mark("session")
        do {
            while !frontier.isEmpty {
                let waveFiles = frontier.map(\.path)  // sorted: scanned whole by nextWave
                // Files whose stat matches are not read; their references come from the index.
                var toRead: [WaveEntry] = []
                for entry in frontier {
                    if !reparseAll, let previous = stored[entry.path], previous.stat == entry.stat,
                        previous.kind == entry.kind
                    {
                        processed[entry.path] = Processed(
                            outcome: .unchanged(importDepth: previous.importDepth, skipped: previous.isSkipped),
                            outgoing: storedReferences[entry.path] ?? [])
                    } else {
                        toRead.append(entry)
                    }
                }
                mark("compared \(frontier.count)")
                let jobs = toRead.map { entry in
                    Job(
                        path: entry.path, kind: entry.kind, stat: entry.stat, type: entry.type,
                        previous: reparseAll ? nil : stored[entry.path],
                        previousReferences: storedReferences[entry.path] ?? [])
                }
                for batch in stride(from: 0, to: jobs.count, by: 256).map({
                    Array(jobs[$0..<min($0 + 256, jobs.count)])
                }) {
                    for (path, result) in await process(batch, rootPath: rootPath) {
                        var result = result
                        if case .written(let file) = result.outcome {
                            session.upsert(file)
                            report.bytesParsed += file.document == nil ? 0 : file.stat.size
                            result.outcome = .stored(skipped: file.document == nil)
                        }
                        processed[path] = result
                    }
                    mark("batch \(batch.count)")
                    progress?(
                        IndexProgress(
                            filesDone: processed.count, filesQueued: processed.count + frontier.count - toRead.count,
                            bytesParsed: report.bytesParsed, seconds: (clock.now - start).seconds))
                }
                let previousDepths = depths
                let roots = importRoots.filter { processed[$0] != nil }
                importGraph = ImportGraph(reachableFrom: roots) {
                    Self.imports(of: $0, processed: processed).map(\.resolvedPath)
                }
                depths = importGraph.depths(from: roots)
                mark("depths")
                let newlyImporting = depths.keys.filter {
                    previousDepths[$0] == nil && !Self.sortedContains(waveFiles, $0)
                }
                frontier = nextWave(
                    scanning: waveFiles, newlyImporting: newlyImporting, processed: processed,
                    files: files, depths: depths
                ).sorted().map { path in
                    if kinds[path] == nil { kinds[path] = .referenced }
                    return WaveEntry(path: path, kind: kinds[path]!, stat: files[path]!.stat, type: files[path]!.type)
                }
                mark("wave \(frontier.count)")
            }

            var changes = IndexChanges()
            var written = 0
            // Import depths that changed: those lost here (few files have one), those gained or
            // moved in the pass over `depths` below, so most files need no lookup at all.
            for (path, item) in processed {
                switch item.outcome {
                case .unchanged(let previousDepth, let skipped):
                    report.unchanged += 1
                    if previousDepth != nil, depths[path] == nil { changes.depthUpdates.append((path, nil)) }
                    if skipped { report.skipped += 1 }
                case .touched(let stat, let previousDepth):
                    report.unchanged += 1
                    changes.statUpdates.append((path, stat))
                    if previousDepth != nil, depths[path] == nil { changes.depthUpdates.append((path, nil)) }
                case .stored(let skipped):
                    written += 1
                    if stored[path] == nil { report.added += 1 } else { report.changed += 1 }
                    report.changedPaths.append(path)
                    if skipped { report.skipped += 1 }
                case .written:
                    preconditionFailure("every written file was handed to the session")
                }
            }
            for (path, depth) in depths {
                switch processed[path]?.outcome {
                case .unchanged(let previousDepth, _)?, .touched(_, let previousDepth)?:
                    if previousDepth != depth { changes.depthUpdates.append((path, depth)) }
                case .stored?:
                    changes.depthUpdates.append((path, depth))  // written without one
                case .written?, nil:
                    break
                }
            }
            // Sorted here rather than the whole set before: the lists are short.
            changes.statUpdates.sort { $0.0 < $1.0 }
            changes.depthUpdates.sort { $0.0 < $1.0 }
            mark("outcomes")
            changes.removedPaths = stored.keys.filter { processed[$0] == nil }.sorted()
            report.removed = changes.removedPaths.count
            report.changedPaths += changes.removedPaths
            report.documents = processed.count - report.skipped
            changes.treeFindings =
                walk.findings + Self.importCycles(in: importGraph, depths: depths, processed: processed)
            mark("cycles")
            let (commitTimeUpdates, head) = Self.commitTimeUpdates(
                history: await gitHistory, storedHead: storedHead, paths: processed.keys, stored: stored)
            changes.commitTimeUpdates = commitTimeUpdates
            mark("commit times")
            let changed = written > 0 || !changes.isEmpty
            report.generation = changed ? previousGeneration + 1 : previousGeneration
            changes.metadata = [
                "last_indexed_at": ISO8601DateFormatter().string(from: Date()),
                "generation": String(report.generation),
                "fingerprint": fingerprint,
                "root": rootPath,
                Self.gitHeadKey: head,
                Self.extraIncludesKey: String(decoding: try JSONEncoder().encode(extraIncludes), as: UTF8.self),
            ]
            mark("before commit")
            try await session.finish(changes)
            mark("committed")
        } catch {
            await session.cancel()
            throw error
        }
        report.seconds = (clock.now - start).seconds
        report.findings = try store.findings()
        logger.debug(
            "indexed",
            metadata: [
                "added": "\(report.added)", "changed": "\(report.changed)",
                "removed": "\(report.removed)", "seconds": "\(report.seconds)",
            ])
        return report
    }

    /// The documents whose stored commit time is not their last commit's (sorted by path), and
    /// the HEAD to record: "" when there is no history (every time then becomes nil).
    ///
    /// Git is read only when needed: with HEAD where the stored times were read, a stored
    /// document's time cannot have changed, and only documents new to the index are looked up
    /// (none when nothing was added: a run that changed nothing starts no `git log`); when HEAD
    /// moved, every document is looked up, in one pass.
    static func commitTimeUpdates(
        history: GitHistory?, storedHead: String?, paths: some Collection<String>, stored: [String: StoredFile]
    ) -> (updates: [(path: String, committed: Int64?)], head: String) {
        let sameHead = history != nil && history?.head == storedHead
        let wanted = sameHead ? paths.filter { stored[$0] == nil } : Array(paths)
        let times = wanted.isEmpty ? [:] : history?.lastCommitTimes(of: wanted)
        var updates: [(path: String, committed: Int64?)] = []
        guard let history, let times else {
            // No git, or it failed: no time at all (next run tries again).
            for path in paths where stored[path]?.committed != nil { updates.append((path, nil)) }
            return (updates.sorted { $0.path < $1.path }, "")
        }
        for path in paths {
            let current = stored[path]?.committed
            let time = sameHead && stored[path] != nil ? current : times[path]
            if time != current { updates.append((path, time)) }
        }
        return (updates.sorted { $0.path < $1.path }, history.head)
    }

    /// The tree as a run finds it: every file walked, by path, and the memory files among them.
    private struct Survey: Sendable {
        var walk: FileTreeWalker.Result
        var files: [String: WalkedFile]
        var kinds: [String: DocumentKind]
        /// The files of `kinds`, by path: the first wave.
        var memoryEntries: [WaveEntry]
    }

    /// A file of a discovery wave.
    private struct WaveEntry: Sendable {
        var path: String
        var kind: DocumentKind
        var stat: FileStat
        var type: FileType
    }

    /// Whether the sorted `paths` hold `path` (a binary search: no set of thousands of paths).
    private static func sortedContains(_ paths: [String], _ path: String) -> Bool {
        var low = 0
        var high = paths.count
        while low < high {
            let middle = (low + high) / 2
            if paths[middle] < path { low = middle + 1 } else { high = middle }
        }
        return low < paths.count && paths[low] == path
    }

    private static func survey(_ walker: FileTreeWalker, includes: [Glob]) throws -> Survey {
        let walk = try walker.walk()
        var files: [String: WalkedFile] = [:]
        files.reserveCapacity(walk.files.count)
        var kinds: [String: DocumentKind] = [:]
        var entries: [WaveEntry] = []
        for file in walk.files {
            files[file.path] = file
            if let kind = DocumentKind.classify(file.path)
                ?? (includes.contains(where: { $0.matches(file.path) }) ? .included : nil)
            {
                kinds[file.path] = kind
                entries.append(WaveEntry(path: file.path, kind: kind, stat: file.stat, type: file.type))
            }
        }
        entries.sort { $0.path < $1.path }
        return Survey(walk: walk, files: files, kinds: kinds, memoryEntries: entries)
    }

    /// In-root targets not yet processed that exist: of relative links to text files from the
    /// files of the last wave, and of imports from files Claude Code expands imports in. Files of
    /// earlier waves were scanned then; of those, only the ones an import has reached since
    /// (`newlyImporting`) have imports to follow now. Scanning only these keeps a small change's
    /// later waves from going over every file of the tree again.
    private func nextWave(
        scanning wave: [String], newlyImporting: [String], processed: [String: Processed],
        files: [String: WalkedFile], depths: [String: Int]
    ) -> Set<String> {
        var next: Set<String> = []
        func follow(_ reference: OutgoingReference, from path: String) {
            let target = reference.resolvedPath
            guard processed[target] == nil, files[target] != nil else { return }
            switch reference.kind {
            case .import where depths[path] != nil:
                next.insert(target)
            case .link where MemoryFormats.isText(target), .referenceLink where MemoryFormats.isText(target):
                next.insert(target)
            default:
                break
            }
        }
        for path in wave {
            for reference in processed[path]?.outgoing ?? [] { follow(reference, from: path) }
        }
        for path in newlyImporting {
            for reference in processed[path]?.outgoing ?? [] where reference.kind == .import {
                follow(reference, from: path)
            }
        }
        return next
    }

    // MARK: - Reading and parsing

    private struct Job: Sendable {
        var path: String
        var kind: DocumentKind
        var stat: FileStat
        var type: FileType
        var previous: StoredFile?
        var previousReferences: [OutgoingReference]
    }

    /// Parses `jobs` on every core and returns the results in the jobs' order (paths, sorted), not
    /// in the order the workers finish: files are written in that order, so a tree indexed twice
    /// gets the same section ids, and ties in search and packs (broken by id) come out the same.
    private func process(_ jobs: [Job], rootPath: String) async -> [(String, Processed)] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, jobs.count))
        let configuration = configuration
        let root = root
        let redaction = SecretRedaction(scanner: configuration.secrets.scanner)  // once per run, not per file
        return await withTaskGroup(of: (Int, [(String, Processed)]).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    (
                        worker,
                        stride(from: worker, to: jobs.count, by: workers).map { index in
                            let job = jobs[index]
                            return (
                                job.path,
                                Self.process(
                                    job, root: root, rootPath: rootPath, configuration: configuration,
                                    redaction: redaction, counter: counter)
                            )
                        }
                    )
                }
            }
            var parts = Array(repeating: [(String, Processed)](), count: workers)
            for await (worker, part) in group { parts[worker] = part }
            // Job `index` is worker `index % workers`'s result number `index / workers`.
            return jobs.indices.map { parts[$0 % workers][$0 / workers] }
        }
    }

    private static func process(
        _ job: Job, root: URL, rootPath: String, configuration: Configuration, redaction: SecretRedaction,
        counter: any TokenCounter
    ) -> Processed {
        func skipped(
            _ rule: RuleID, _ message: String, hash: ContentHash = ContentHash(value: 0),
            severity: Finding.Severity = .warning
        ) -> Processed {
            let finding = Finding(rule: rule, severity: severity, path: job.path, message: message)
            let file = IndexedFile(
                path: job.path, kind: job.kind, stat: job.stat, contentHash: hash, document: nil,
                findings: [finding], importDepth: nil)
            return Processed(outcome: .written(file), outgoing: [])
        }
        if CredentialFiles.matches(job.path) {
            return skipped(
                .secretInMemory,
                "\(job.path) holds credentials by convention and is never read "
                    + "(docs/security.md lists such files); remove the @import, link or include that reaches it",
                severity: .error)
        }
        if job.type != .regular {  // never opened: a FIFO would block the run
            return skipped(.notRegularFile, "\(job.type.description), not a regular file; never opened, not indexed")
        }
        if job.stat.size > configuration.maxFileSize {
            return skipped(
                .fileTooLarge,
                "file is \(job.stat.size) bytes, over the \(configuration.maxFileSize)-byte limit (max_file_size in .ctxmem.yaml); not indexed"
            )
        }
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(root.appendingPathComponent(job.path).path, limit: configuration.maxFileSize)
        } catch {
            return skipped(.unreadable, "cannot read the file: \(error)")
        }
        let hash = ContentHash(bytes)
        if let previous = job.previous, previous.contentHash == hash, previous.kind == job.kind {
            return Processed(
                outcome: .touched(job.stat, importDepth: previous.importDepth), outgoing: job.previousReferences)
        }
        if TextDecoding.looksBinary(bytes) {
            return skipped(.binaryFile, "binary file (NUL bytes); not indexed", hash: hash)
        }
        let decoded = TextDecoding.decode(bytes)
        // Credentials leave the text before anything else sees it (docs/security.md).
        let (text, secrets) = redaction.redact(decoded.text, path: job.path)
        var document = DocumentParser.parse(text: text, path: job.path, rootPath: rootPath)
        document.findings += secrets
        if let invalid = decoded.invalidFinding(path: job.path) { document.findings.append(invalid) }
        TierAssigner(rules: configuration.tierRules).assign(&document, kind: job.kind)
        for index in document.sections.indices {
            document.sections[index].tokens = counter.count(document.sections[index].text)
        }
        if job.kind == .agent {
            document.findings +=
                AgentProfile.parse(path: job.path, frontmatter: document.frontmatter) {
                    AgentProfile.frontmatterLine(of: $0, in: text)
                }.findings
        }
        let outgoing = document.references.compactMap { reference -> OutgoingReference? in
            guard reference.status == .inRoot, let target = reference.resolvedPath,
                [.import, .link, .referenceLink].contains(reference.kind)
            else { return nil }
            return OutgoingReference(kind: reference.kind, resolvedPath: target, line: reference.line)
        }
        let file = IndexedFile(
            path: job.path, kind: job.kind, stat: job.stat, contentHash: hash, document: document,
            findings: [], importDepth: nil)
        return Processed(outcome: .written(file), outgoing: outgoing)
    }

    // MARK: - The import graph

    /// A file's imports of files this run processed, in the order written: the import graph's
    /// edges (of the files reachable from those Claude Code expands imports in, to any depth).
    private static func imports(of path: String, processed: [String: Processed]) -> [OutgoingReference] {
        (processed[path]?.outgoing ?? []).filter { $0.kind == .import && processed[$0.resolvedPath] != nil }
    }

    /// One finding per import that closes a cycle among the files Claude Code expands imports in,
    /// at the line it is written on.
    private static func importCycles(
        in graph: ImportGraph, depths: [String: Int],
        processed: [String: Processed]
    ) -> [Finding] {
        graph.cycles(among: Set(depths.keys)).map { cycle in
            let line = imports(of: cycle.importer, processed: processed)[cycle.importIndex].line
            return Finding(
                rule: .importCycle, severity: .warning, path: cycle.importer, line: line,
                message: cycle.message)
        }
    }
}

/// Reads a whole file with POSIX calls, refusing more than `limit` bytes, and anything but a
/// regular file (a FIFO put where the walk saw a file is opened without blocking, then refused).
enum FileReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(description: "not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw Failure(description: "grew past the size limit while being read") }
        }
        return bytes
    }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
