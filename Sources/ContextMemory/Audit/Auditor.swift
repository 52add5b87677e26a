import Foundation

/// An agent's budget against what it starts with whatever the task (for `oversized-memory`): its
/// pinned sections and definition and, when Claude Code loads its launch memory for it, that too.
struct AgentBudget: Sendable {
    var path: String
    var name: String
    var budget: Int
    var startTokens: Int
    var claudeCodeTokens: Int
}

/// Runs the audit's rules over the index, the root's listing and its change history.
///
/// Everything about a document comes from the index (its references as written, anchors, sections);
/// whether a target exists comes from the walk of the root, because links point at files that are
/// not memory. Imports are checked only where Claude Code evaluates them: in CLAUDE.md files and
/// rules, and in what they import, to the depth limit.
struct Auditor {
    let store: any MemoryReader
    let listing: RootListing
    let rules: Set<RuleID>
    /// Claude Code's import hops (`import_depth`, default 4).
    let importDepthLimit: Int
    let agents: [AgentBudget]
    /// The handoff settings, and the bytes of the handoff folder on disk (nil when it does not exist).
    var handoffs = HandoffSettings()
    var handoffFolderBytes: Int?
    /// Loaded only when `stale-reference` runs: it may read the whole git history.
    let history: @Sendable () -> ChangeHistory
    /// Reports the time after each rule (`CTXMEM_TRACE`).
    let trace: ((String) -> Void)?

    /// Lines beyond which Claude Code's docs say a CLAUDE.md is too long.
    static let claudeMDLineLimit = 200
    /// Sections shorter than this are not worth a duplicate-content finding (licences, "See also").
    static let duplicateMinimumTokens = 50

    private var findings: [Finding] = []
    /// The indexed documents of the last run.
    private(set) var documentCount = 0
    /// Every reference of the index, fetched once for all rules.
    private var references: [StoredReference] = []

    private func references(_ kinds: Set<Reference.Kind>) -> [StoredReference] {
        references.filter { kinds.contains($0.kind) }
    }

    init(
        store: any MemoryReader, listing: RootListing, rules: Set<RuleID>, importDepthLimit: Int,
        agents: [AgentBudget], history: @escaping @Sendable () -> ChangeHistory, trace: ((String) -> Void)? = nil
    ) {
        self.store = store
        self.listing = listing
        self.rules = rules
        self.importDepthLimit = importDepthLimit
        self.agents = agents
        self.history = history
        self.trace = trace
    }

    /// The findings of every selected rule, unsorted and unsuppressed.
    mutating func run() throws -> [Finding] {
        findings = []
        references = try store.references(kinds: Reference.Kind.allCases)
        let documents = try store.documents(kind: nil)
        documentCount = documents.count
        let evaluated = importGraph(documents: documents)
        trace?("imports")
        if rules.contains(where: { [.brokenLink, .brokenAnchor, .caseMismatch].contains($0) }) { try checkLinks() }
        trace?("links")
        if rules.contains(.missingPath) { try checkPathMentions() }
        trace?("paths")
        if rules.contains(.staleReference) { try checkStaleness(evaluated: evaluated) }
        trace?("stale")
        if rules.contains(.orphanDocument) { try checkOrphans(documents: documents) }
        trace?("orphans")
        if rules.contains(.duplicateContent) { try checkDuplicates() }
        trace?("duplicates")
        if rules.contains(.oversizedMemory) { checkSizes(documents: documents) }
        checkHandoffs(documents: documents)
        // Recorded while indexing, with the severity the parser gave them.
        let recorded = Set([RuleID.invalidFrontmatter, .invalidAgent, .secretInMemory].filter(rules.contains))
        if !recorded.isEmpty {
            findings += try store.findings().filter { recorded.contains($0.rule) }.map { finding in
                var located = finding  // every audit finding has a line and column, for SARIF and editors
                located.line = located.line ?? 1
                located.column = located.column ?? 1
                return located
            }
        }
        return findings
    }

    private mutating func add(
        _ rule: RuleID, _ path: String, line: Int? = 1, column: Int? = 1, _ message: String,
        target: String? = nil, suggestion: String? = nil
    ) {
        guard rules.contains(rule) else { return }
        var text = message
        if let suggestion { text += "; did you mean \(suggestion)?" }
        findings.append(
            Finding(
                rule: rule, severity: rule.defaultSeverity, path: path, line: line, column: column,
                message: text, target: target, suggestion: suggestion))
    }

    // MARK: - Imports

    /// Walks imports from the files Claude Code loads at launch, as it does: breadth first, to the
    /// depth limit. Returns the files it expands imports in.
    private mutating func importGraph(documents: [StoredDocument]) -> Set<String> {
        let indexed = Set(documents.map(\.path))
        var byPath: [String: [StoredReference]] = [:]
        for reference in references([.import]) { byPath[reference.path, default: []].append(reference) }
        // The imports that name a path in the root, by importer: the graph's edges, in that order.
        let inRoot = byPath.mapValues { $0.filter { $0.status == .inRoot && $0.resolvedPath != nil } }
        let graph = ImportGraph(imports: inRoot.mapValues { $0.compactMap(\.resolvedPath) })
        // Claude Code follows an import to a file; the audit, to one it has in the index as well.
        let depths = graph.filter { listing.isFile($0) && indexed.contains($0) }
            .depths(from: documents.filter { $0.kind.evaluatesImports }.map(\.path), limit: importDepthLimit)
        for path in depths.keys.sorted() {
            checkImports(of: path, depth: depths[path] ?? 0, references: byPath[path] ?? [], depths: depths)
        }
        if rules.contains(.importCycle) {
            for cycle in graph.cycles(among: Set(depths.keys)) {
                let reference = inRoot[cycle.importer]![cycle.importIndex]
                add(
                    .importCycle, reference.path, line: reference.line, column: reference.column, cycle.message,
                    target: reference.target)
            }
        }
        return Set(depths.keys)
    }

    /// The findings about the imports of one file Claude Code expands imports in, `depth` hops
    /// from the nearest launch file.
    private mutating func checkImports(
        of path: String, depth: Int, references: [StoredReference],
        depths: [String: Int]
    ) {
        for reference in references {
            switch reference.status {
            case .home, .external:
                continue  // the user's own memory, never read
            case .outsideRoot:
                add(
                    .importOutsideRoot, path, line: reference.line, column: reference.column,
                    "@\(reference.target) resolves outside the memory root; Claude Code asks for approval before loading it, and ctxmem never reads it",
                    target: reference.target)
            case .inRoot:
                guard let target = reference.resolvedPath else { continue }
                if listing.isFolder(target) {
                    let folder = target.isEmpty ? "" : target + "/"
                    let readme = [folder + "README.md", folder + "CLAUDE.md"].first(where: listing.isFile)
                    add(
                        .importDirectory, path, line: reference.line, column: reference.column,
                        "@\(reference.target) is a folder; Claude Code imports files only, so it loads nothing",
                        target: reference.target, suggestion: readme.map { "@" + suggestedTarget($0, like: reference) })
                } else if listing.isFile(target) {
                    // Past the limit from this file, the target may still load through a shorter chain.
                    if depth + 1 > importDepthLimit, depths[target] == nil {
                        add(
                            .importTooDeep, reference.path, line: reference.line, column: reference.column,
                            "@\(reference.target) is \(depth + 1) imports deep from the nearest CLAUDE.md or rule; Claude Code follows \(importDepthLimit) (import_depth), so it never loads \(target)",
                            target: reference.target)
                    }
                } else if let actual = listing.caseInsensitiveMatch(target) {
                    add(
                        .caseMismatch, path, line: reference.line, column: reference.column,
                        "@\(reference.target) matches \(actual) only when letter case is ignored; on Linux it loads nothing",
                        target: reference.target, suggestion: "@" + suggestedTarget(actual, like: reference))
                } else if Self.looksLikePath(reference.target) {
                    add(
                        .brokenImport, path, line: reference.line, column: reference.column,
                        "@\(reference.target) names no file (\(target) does not exist); Claude Code drops it without a word",
                        target: reference.target, suggestion: importSuggestion(for: target, reference: reference))
                }
            }
        }
    }

    /// `@docs/x.md`, `@./notes`, `@README.md`: a path. `@alice` or `@v1.` in prose mentions a person
    /// or a version; Claude Code tries to import them too, but reporting them would be noise.
    static func looksLikePath(_ target: String) -> Bool {
        let path = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if path.contains("/") { return true }
        guard let dot = path.lastIndex(of: "."), dot != path.startIndex else { return false }
        let ext = path[path.index(after: dot)...]
        return (1...10).contains(ext.count) && ext.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    private func importSuggestion(for target: String, reference: StoredReference) -> String? {
        // Run into the following text (`@archive/README.md00_current_state`): the existing prefix.
        var prefix = target
        while prefix.count > 2 {
            prefix.removeLast()
            if listing.isFile(prefix), RelativePath.fileExtension(prefix) != "" {
                return "@" + suggestedTarget(prefix, like: reference)
            }
        }
        return listing.nearestFile(to: target).map { "@" + suggestedTarget($0, like: reference) }
    }

    /// `path` written the way the reference writes its target: root-absolute, `./`, or relative.
    private func suggestedTarget(_ path: String, like reference: StoredReference, fragment: String? = nil) -> String {
        var written: String
        if reference.target.hasPrefix("/") {
            written = "/" + path
        } else {
            written = RelativePath.relative(path, from: RelativePath.directory(of: reference.path))
            if reference.target.hasPrefix("./"), !written.hasPrefix("../") { written = "./" + written }
        }
        if let fragment { written += "#" + fragment }
        return written
    }

    // MARK: - Links and anchors

    private mutating func checkLinks() throws {
        let anchors = try store.anchorsByPath()
        var suggestions: [String: String?] = [:]
        for reference in references([.link, .referenceLink, .image, .anchor]) {
            guard reference.status == .inRoot, let target = reference.resolvedPath else { continue }
            if listing.exists(target) {
                if let fragment = reference.fragment, !fragment.isEmpty {
                    checkAnchor(fragment, of: target, reference: reference, anchors: anchors)
                }
            } else if let actual = listing.caseInsensitiveMatch(target) {
                add(
                    .caseMismatch, reference.path, line: reference.line, column: reference.column,
                    "\(reference.target) matches \(actual) only when letter case is ignored; the link is broken on Linux and on GitHub",
                    target: reference.target,
                    suggestion: suggestedTarget(actual, like: reference, fragment: reference.fragment))
            } else {
                let near = suggestions[target] ?? listing.nearestFile(to: target)
                suggestions[target] = near
                let what = reference.kind == .image ? "image" : "link"
                add(
                    .brokenLink, reference.path, line: reference.line, column: reference.column,
                    "\(what) target \(reference.target) does not exist (\(target))",
                    target: reference.target,
                    suggestion: near.map { suggestedTarget($0, like: reference, fragment: reference.fragment) })
            }
        }
    }

    private mutating func checkAnchor(
        _ fragment: String, of target: String, reference: StoredReference,
        anchors: [String: Set<String>]
    ) {
        // Anchors are known for Markdown and HTML documents in the index; `#L12` names a line on GitHub.
        let ext = RelativePath.fileExtension(target)
        guard MemoryFormats.markdown.contains(ext) || MemoryFormats.html.contains(ext),
            let known = anchors[target], !Self.isLineAnchor(fragment)
        else { return }
        let name = fragment.hasPrefix("user-content-") ? String(fragment.dropFirst("user-content-".count)) : fragment
        guard !known.contains(name), !known.contains(name.lowercased()) else { return }
        let near = Suggest.nearest(to: name, in: known.sorted())
        let inFile = reference.kind == .anchor ? "this file" : target
        add(
            .brokenAnchor, reference.path, line: reference.line, column: reference.column,
            "#\(fragment) names no heading or anchor in \(inFile)",
            target: reference.target,
            suggestion: near.map {
                reference.kind == .anchor ? "#" + $0 : Self.replacingFragment(of: reference.target, with: $0)
            })
    }

    /// GitHub's line anchors: `L12`, `L12C3`, `L12-L20`, `L12C3-L20C5`.
    static func isLineAnchor(_ fragment: String) -> Bool {
        func position(_ text: Substring) -> Bool {
            guard text.first == "L" else { return false }
            let parts = text.dropFirst().split(separator: "C", omittingEmptySubsequences: false)
            return (1...2).contains(parts.count)
                && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (48...57).contains($0) } }
        }
        let range = fragment.split(separator: "-", omittingEmptySubsequences: false)
        return (1...2).contains(range.count) && range.allSatisfy(position)
    }

    private static func replacingFragment(of target: String, with fragment: String) -> String {
        let base = target.firstIndex(of: "#").map { String(target[..<$0]) } ?? target
        return base + "#" + fragment
    }

    // MARK: - Path mentions

    /// A path in a code span is judged only when it points into this tree: its folder exists in the
    /// root, so the file was renamed or removed. Memory often describes code kept elsewhere
    /// (`netbox_hedgehog/models.py` in a memory-only repository) and files an agent will create
    /// (`REPORT.md`); nothing can be said about those.
    private mutating func checkPathMentions() throws {
        for reference in references([.pathMention]) {
            var written = reference.target
            while written.hasPrefix("./") { written.removeFirst(2) }
            if written.hasSuffix("/") { written.removeLast() }
            guard !written.hasPrefix("../"), !written.isEmpty else { continue }
            if let resolved = reference.resolvedPath, listing.exists(resolved) { continue }
            if let relative = RelativePath.resolve(written, against: RelativePath.directory(of: reference.path)),
                listing.exists(relative)
            {
                continue
            }
            if listing.existsAnywhere(written) { continue }
            let folder = RelativePath.directory(of: written)
            guard written.contains("/"),
                listing.isFolder(folder)
                    || listing.isFolder(
                        RelativePath.resolve(folder, against: RelativePath.directory(of: reference.path)) ?? folder)
            else { continue }
            let near = listing.nearestFile(to: reference.resolvedPath ?? written)
            add(
                .missingPath, reference.path, line: reference.line, column: reference.column,
                "`\(reference.target)` exists nowhere in the root", target: reference.target,
                suggestion: near.map { "`\($0)`" })
        }
    }

    // MARK: - Staleness

    private mutating func checkStaleness(evaluated: Set<String>) throws {
        let history = history()
        var reported: Set<String> = []
        for reference in references([.import, .link, .referenceLink, .pathMention]) {
            guard reference.status == .inRoot, let target = reference.resolvedPath, target != reference.path,
                listing.isFile(target), reference.kind != .import || evaluated.contains(reference.path),
                let documentTime = history.lastChange(of: reference.path),
                let targetTime = history.lastChange(of: target), targetTime > documentTime,
                reported.insert(reference.path + "\u{0}" + target).inserted
            else { continue }
            let (documentDate, targetDate) = Self.dates(documentTime, targetTime)
            add(
                .staleReference, reference.path, line: reference.line, column: reference.column,
                "\(target) changed \(targetDate), after this document (\(documentDate)); check that what it says about \(RelativePath.basename(target)) still holds",
                target: reference.target)
        }
    }

    /// Two times as UTC dates, with the time of day when they fall on the same day.
    static func dates(_ first: Int64, _ second: Int64) -> (String, String) {
        func parts(_ seconds: Int64) -> (day: String, time: String) {
            var time = time_t(seconds)
            var fields = tm()
            gmtime_r(&time, &fields)
            // Int, not Int32: git accepts commit times whose year overflows `tm_year + 1900`.
            return (
                String(
                    format: "%04d-%02d-%02d", Int(fields.tm_year) + 1900, Int(fields.tm_mon) + 1, Int(fields.tm_mday)),
                String(format: "%02d:%02d:%02d UTC", fields.tm_hour, fields.tm_min, fields.tm_sec)
            )
        }
        let (a, b) = (parts(first), parts(second))
        return a.day == b.day ? (a.day + " " + a.time, b.day + " " + b.time) : (a.day, b.day)
    }

    // MARK: - Handoffs

    private mutating func checkHandoffs(documents: [StoredDocument]) {
        let folder = handoffs.normalizedFolder
        if let bytes = handoffFolderBytes, bytes > handoffs.maxFolderBytes {
            let records = documents.filter {
                handoffs.contains($0.path) && Handoff.parse(path: $0.path, frontmatter: $0.frontmatter) != nil
            }.count
            add(
                .handoffFolderSize, folder, line: nil, column: nil,
                "the handoff folder holds \(bytes / 1024) KiB in \(records) records, over handoffs.max_folder_bytes "
                    + "(\(handoffs.maxFolderBytes / 1024) KiB); every record is searchable memory: run "
                    + "`ctxmem handoffs prune --older-than 30d` (it deletes only the records ctxmem wrote)")
        }
        for document in documents {
            guard let handoff = Handoff.parse(path: document.path, frontmatter: document.frontmatter),
                let cut = handoff.cutFromBytes
            else { continue }
            add(
                .handoffCut, document.path,
                "\(handoff.agentType)'s report of \(cut) bytes was cut to handoffs.max_report_bytes; the whole "
                    + "report is in the sub-agent's transcript (raise the limit if reports of this size are usual)")
        }
    }

    // MARK: - Reachability, duplicates, sizes

    private mutating func checkOrphans(documents: [StoredDocument]) throws {
        let entryKinds: Set<DocumentKind> = [.claudeMD, .agentsMD, .rule, .agent, .skill]
        var edges: [String: [String]] = [:]
        for edge in try store.referenceEdges(kinds: [.import, .link, .referenceLink, .pathMention], fromPaths: nil) {
            edges[edge.from, default: []].append(edge.to)
        }
        var reached = Set(documents.filter { entryKinds.contains($0.kind) }.map(\.path))
        var queue = Array(reached)
        while let path = queue.popLast() {
            for target in edges[path] ?? [] {
                // A link to a folder reaches the README GitHub shows for it.
                let next = listing.isFolder(target) ? (target.isEmpty ? "README.md" : target + "/README.md") : target
                if reached.insert(next).inserted { queue.append(next) }
            }
        }
        // A handoff record is reached by search, packs and `ctxmem status`, not by links.
        for document in documents
        where document.kind == .projectManagement && !reached.contains(document.path)
            && Handoff.parse(path: document.path, frontmatter: document.frontmatter) == nil
        {
            add(
                .orphanDocument, document.path,
                "no CLAUDE.md, agent, rule or skill reaches this document through imports, links or path mentions; an agent finds it only by search"
            )
        }
    }

    /// One finding per pair of files, at the first repeated section: a copied file repeats many
    /// sections, and one line per section would bury the rest of the report.
    private mutating func checkDuplicates() throws {
        let sections = try store.repeatedSections(minimumTokens: Self.duplicateMinimumTokens)
        struct Pair: Hashable { var copy: String, original: String }
        var repeats: [Pair: (first: RepeatedSection, original: RepeatedSection, count: Int, tokens: Int)] = [:]
        var start = 0
        while start < sections.count {
            var end = start + 1
            while end < sections.count, sections[end].contentHash == sections[start].contentHash { end += 1 }
            let group = sections[start..<end]
            start = end
            guard let original = group.first else { continue }
            var inodes: Set<UInt64> = [original.inode]
            var paths: Set<String> = [original.path]
            // Two paths to one file (a symlink) are not a copy; repeats inside one file are not either.
            for copy in group.dropFirst() where inodes.insert(copy.inode).inserted && paths.insert(copy.path).inserted {
                let pair = Pair(copy: copy.path, original: original.path)
                if let seen = repeats[pair] {
                    let earlier = copy.startLine < seen.first.startLine
                    repeats[pair] = (
                        earlier ? copy : seen.first, earlier ? original : seen.original, seen.count + 1,
                        seen.tokens + copy.tokens
                    )
                } else {
                    repeats[pair] = (copy, original, 1, copy.tokens)
                }
            }
        }
        for (pair, found) in repeats {
            let title = found.first.headingPath.last.map { "\"\($0)\"" } ?? "the text before the first heading"
            let extent =
                found.count == 1
                ? "section \(title) (\(found.tokens) tokens) repeats"
                : "\(found.count) sections (\(found.tokens) tokens), from \(title) on, repeat"
            add(
                .duplicateContent, pair.copy, line: found.first.startLine, column: 1,
                "\(extent) \(pair.original):\(found.original.startLine) word for word; keep one copy and link to it",
                target: MemoryHandle.make(path: pair.original, slug: found.original.slug))
        }
    }

    private mutating func checkSizes(documents: [StoredDocument]) {
        for document in documents where document.kind == .claudeMD && document.lineCount > Self.claudeMDLineLimit {
            add(
                .oversizedMemory, document.path,
                "\(RelativePath.basename(document.path)) has \(document.lineCount) lines; Claude Code loads it in full and recommends under \(Self.claudeMDLineLimit): move detail into linked files, which packs include by relevance"
            )
        }
        for agent in agents where agent.startTokens > agent.budget {
            let why =
                agent.claudeCodeTokens > 0
                ? ": \(agent.claudeCodeTokens) of them are the CLAUDE.md hierarchy Claude Code loads for it (`omitClaudeMd: true` lets its pack replace that, trimmed to its role)"
                : ": `ctxmem pack` fails for it until pinned sections are re-tiered or the budget is raised"
            add(
                .oversizedMemory, agent.path,
                "agent \(agent.name) starts with \(agent.startTokens) tokens whatever its task, over its budget of \(agent.budget)\(why); `ctxmem agents` lists the figures"
            )
        }
    }
}
