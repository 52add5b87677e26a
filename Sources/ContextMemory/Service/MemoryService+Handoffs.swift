public import Foundation

/// Sub-agents' reports kept as memory (``Handoff``): written by the `SubagentStop` hook, found by
/// search and packs like any detail, merged by ``status(since:)``, pruned by
/// ``pruneHandoffs(olderThan:dryRun:now:)``.
extension MemoryService {
    /// What recording a report did.
    public struct HandoffWrite: Sendable, Equatable {
        /// The record, relative to the root.
        public var path: String
        /// The report's bytes before it was cut; nil when kept whole.
        public var cutFromBytes: Int?
    }

    /// Writes `report` as a handoff record: redacted by the secret rules, cut to
    /// `handoffs.max_report_bytes`, under `handoffs.folder/YYYY-MM-DD/AGENT-SHORTID.md`, written
    /// whole to a temporary file and linked into place (never over another record), never outside
    /// the root (a folder that resolves elsewhere through a symlink is refused). The caller indexes
    /// it (``indexHandoffs()``).
    /// - Throws: ``HandoffError``, ``ConfigurationError``, file errors.
    public func recordHandoff(
        report: String, agentType: String, agentID: String?, session: String?, task: String?, now: Date = Date()
    ) throws -> HandoffWrite {
        let configuration = try configuration()
        let settings = configuration.handoffs
        guard settings.enabled else { throw HandoffError.disabled }
        let scanner = configuration.secrets.scanner
        var text = scanner.redact(report).text
        // A report is a sub-agent's words: no tier marker or ignore comment of it may act on the
        // index (a marker would pin it into every pack), so HTML comments are written as text.
        text = text.replacingOccurrences(of: "<!--", with: "&lt;!--")
        // A NUL in the first 8 KiB makes a file binary, never indexed (as git decides): control
        // characters other than tab and line breaks are dropped, so a report with tool output in it
        // stays memory.
        text = String(
            String.UnicodeScalarView(
                text.unicodeScalars.filter {
                    !($0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r") && $0.value != 0x7F
                }))
        var cutFrom: Int?
        if text.utf8.count > settings.maxReportBytes {
            cutFrom = text.utf8.count
            text = Self.cut(text, toBytes: settings.maxReportBytes)
            text +=
                "\n\n[cut by ctxmem: \(text.utf8.count) of \(cutFrom!) bytes kept; the whole report is in the "
                + "sub-agent's transcript]\n"
        }
        let stamp = Handoff.formatTime(now)
        let day = String(stamp.prefix(10))
        let agentName = Self.fileSafe(agentType, limit: 64) ?? "agent"
        let shortID =
            agentID.flatMap { Self.fileSafe($0, limit: 8) }
            ?? String(ContentHash("\(session ?? "")\(stamp)").hex.prefix(8))
        let folder = "\(settings.normalizedFolder)/\(day)"
        let folderURL = root.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        guard let real = FileTreeWalker.realPath(folderURL.path), real.hasPrefix(rootPath + "/") else {
            throw HandoffError.outsideRoot(folder: folder)
        }
        let redactedTask = task.map { scanner.redact($0).text }
        var lines = [
            "---", "ctxmem: \(Handoff.marker)", "agent_type: \(Self.yamlString(agentType))",
        ]
        if let agentID { lines.append("agent_id: \(Self.yamlString(agentID))") }
        if let session { lines.append("session: \(Self.yamlString(session))") }
        lines.append("time: \"\(stamp)\"")
        if let redactedTask { lines.append("task: \(Self.yamlString(redactedTask))") }
        if let cutFrom { lines.append("cut_from_bytes: \(cutFrom)") }
        lines += ["tier: detailed", "---", ""]
        var body = lines.joined(separator: "\n")
        body += "# Handoff: \(Self.oneLine(agentType)), \(day) \(stamp.dropFirst(11).prefix(5)) UTC\n\n"
        if let redactedTask {
            body += "Task: \(Self.oneLine(String(redactedTask.prefix(300))))\n\n"
        }
        body += text.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"

        let temporary = folderURL.appendingPathComponent(".\(agentName)-\(shortID).\(UUID().uuidString.prefix(8)).tmp")
        try Data(body.utf8).write(to: temporary)
        defer { unlink(temporary.path) }
        // link(2) fails when the name exists: an agent that stops again (once per turn) gets -2, -3, ...
        for attempt in 1...100 {
            let name = "\(agentName)-\(shortID)\(attempt == 1 ? "" : "-\(attempt)").md"
            if link(temporary.path, folderURL.appendingPathComponent(name).path) == 0 {
                return HandoffWrite(path: "\(folder)/\(name)", cutFromBytes: cutFrom)
            }
            guard errno == EEXIST else {
                throw HandoffError.unwritable(folder: folder, detail: String(cString: strerror(errno)))
            }
        }
        throw HandoffError.unwritable(folder: folder, detail: "100 records of this agent id already")
    }

    /// Indexes what the hooks wrote, without waiting: when another run holds the index, that run
    /// indexes again before it ends (``index(rebuild:include:lockTimeout:waiting:progress:)``
    /// re-runs while the queue mark moved), so twenty sub-agents stopping at once cost one or two
    /// runs and every record is indexed.
    /// - Returns: false when another run took it over.
    @discardableResult
    public func indexHandoffs() async throws -> Bool {
        handoffQueue.mark()
        do {
            _ = try await index(lockTimeout: .zero)
            return true
        } catch IndexError.locked {
            return false
        }
    }

    /// The file whose growth says "a hook wrote memory; index again": one byte per record, appended.
    var handoffQueue: HandoffQueue { HandoffQueue(url: hookFolder.appendingPathComponent("handoffs.queue")) }

    // MARK: - Reading

    /// Every handoff record in the index, newest first.
    public func handoffs() throws -> [Handoff] {
        let reader = try storage.reader()
        return try reader.snapshot { try Self.handoffs(in: reader) }
    }

    static func handoffs(in reader: any MemoryReader) throws -> [Handoff] {
        try reader.documents(withFrontmatterKeys: ["ctxmem"]).compactMap {
            Handoff.parse(path: $0.path, frontmatter: $0.frontmatter)
        }.sorted { ($0.time, $0.path) > ($1.time, $1.path) }
    }

    // MARK: - Pruning

    /// Deletes the handoff records ctxmem wrote (frontmatter `ctxmem: handoff`, in the handoff
    /// folder) older than `age`, then indexes; never another file. Returns what it deleted (or
    /// would, with `dryRun`), oldest first.
    public func pruneHandoffs(olderThan age: TimeInterval, dryRun: Bool, now: Date = Date()) async throws -> [Handoff] {
        let settings = try configuration().handoffs
        _ = try await index()
        let old = try handoffs().filter { settings.contains($0.path) && now.timeIntervalSince($0.time) > age }
            .sorted { ($0.time, $0.path) < ($1.time, $1.path) }
        guard !dryRun, !old.isEmpty else { return old }
        var folders: Set<String> = []
        for record in old {
            try FileManager.default.removeItem(at: root.appendingPathComponent(record.path))
            folders.insert((record.path as NSString).deletingLastPathComponent)
        }
        // Day folders left empty go too (the handoff folder itself stays).
        for folder in folders {
            let url = root.appendingPathComponent(folder)
            if (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.isEmpty == true {
                try? FileManager.default.removeItem(at: url)
            }
        }
        _ = try await index()
        return old
    }

    // MARK: - Helpers

    /// At most `bytes` UTF-8 bytes of `text`, ending at a line break when one is near.
    static func cut(_ text: String, toBytes bytes: Int) -> String {
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: bytes)
        while end > text.startIndex, !text.indices.contains(end) { end = text.utf8.index(before: end) }
        let head = text[..<end]
        if let lastBreak = head.lastIndex(of: "\n"), head.utf8.distance(from: lastBreak, to: head.endIndex) < 2_000 {
            return String(head[..<lastBreak])
        }
        return String(head)
    }

    /// Lowercase letters, digits and hyphens of `text` (a plugin agent `my-plugin:reviewer` gives
    /// `my-plugin-reviewer`), at most `limit` characters; nil when none is left.
    static func fileSafe(_ text: String, limit: Int) -> String? {
        let words = text.lowercased().split(whereSeparator: { !($0.isASCII && ($0.isLetter || $0.isNumber)) })
        let joined = String(words.joined(separator: "-").prefix(limit))
        return joined.isEmpty ? nil : joined
    }

    /// A YAML double-quoted scalar: JSON's string escaping is valid YAML.
    static func yamlString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// One line of printable text.
    static func oneLine(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

/// The queue mark of hook writes: a file that grows by one byte per record written. An index run
/// reads it before it starts and again when it ends, and runs again when it grew.
struct HandoffQueue {
    let url: URL

    func mark() {
        let descriptor = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        _ = write(descriptor, "+", 1)
        close(descriptor)
    }

    /// The number of records written so far (0 when none ever was).
    var position: Int64 {
        var info = stat()
        return stat(url.path, &info) == 0 ? Int64(info.st_size) : 0
    }
}

/// A handoff that cannot be written.
public enum HandoffError: Error, CustomStringConvertible, Equatable {
    case disabled
    case outsideRoot(folder: String)
    case unwritable(folder: String, detail: String)

    public var description: String {
        switch self {
        case .disabled:
            "handoffs are off: set `handoffs: true` in .ctxmem.yaml (or run `ctxmem init --handoffs`)"
        case .outsideRoot(let folder):
            "the handoff folder \(folder) resolves outside the memory root (a symlink?); nothing written"
        case .unwritable(let folder, let detail): "cannot write a handoff record in \(folder): \(detail)"
        }
    }
}

extension IndexReport {
    /// This run's report with an earlier run's changes counted in (``MemoryService/index(rebuild:include:lockTimeout:waiting:progress:)``
    /// runs again when hooks wrote memory meanwhile).
    func adding(_ earlier: IndexReport) -> IndexReport {
        var merged = self
        merged.added += earlier.added
        merged.changed += earlier.changed
        merged.removed += earlier.removed
        merged.bytesParsed += earlier.bytesParsed
        merged.seconds += earlier.seconds
        merged.findings = findings.isEmpty ? earlier.findings : findings
        merged.changedPaths = earlier.changedPaths + changedPaths
        return merged
    }
}
