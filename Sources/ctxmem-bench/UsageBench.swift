import ArgumentParser
import ContextMemory
import Foundation

/// `ctxmem-bench --usage`: `ctxmem usage` (``TranscriptUsage``) over a synthetic tree of Claude Code
/// transcripts, or over a project folder of real ones (`--dir`).
///
/// The synthetic tree has the line mix of a working session: for each request, an assistant
/// response written as two or three lines (text, tool use) with its usage, then the tool's result,
/// which is most of the bytes (Claude Code writes the result twice: in the message and in
/// `toolUseResult`); 70% of results are 2-20 KB, 25% 20-200 KB and 5% 0.2-2 MB of JSON-escaped
/// code. Snapshots and attachments now and then, a compaction when the context passes 150-190K.
/// Each 100 MB is one session: a main transcript (60%) and four sub-agents (10% each).
enum UsageBench {
    /// The sizes of tool results.
    enum Mix: String, ExpressibleByArgument, CaseIterable {
        /// 70% 2-20 KB, 25% 20-200 KB, 5% 0.2-2 MB: most bytes in a few large lines.
        case typical
        /// 1-8 KB each: many short lines, a third of them responses to parse (the slow case).
        case small
    }

    /// Writes about `megabytes` MB of transcripts into `folder` (a project folder); returns the bytes.
    static func generate(into folder: URL, megabytes: Double, mix: Mix = .typical, seed: UInt64 = 17) throws -> Int {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var random = SplitMix64(seed: seed)
        let pool = CodePool(random: &random)
        let target = Int(megabytes * 1_048_576)
        let sessions = max(1, Int((megabytes / 100).rounded()))
        var written = 0
        for session in 0..<sessions {
            let id = String(format: "%08x-0000-4000-8000-%012x", session, session)
            let share = target / sessions
            written += try writeTranscript(
                folder.appendingPathComponent(id + ".jsonl"), session: id, agent: nil, bytes: share * 6 / 10,
                mix: mix, pool: pool, random: &random)
            let subagents = folder.appendingPathComponent(id).appendingPathComponent("subagents")
            try FileManager.default.createDirectory(at: subagents, withIntermediateDirectories: true)
            for index in 0..<4 {
                let agent = String(format: "a%016x", random.next() >> 1)
                written += try writeTranscript(
                    subagents.appendingPathComponent("agent-\(agent).jsonl"), session: id, agent: agent,
                    bytes: share / 10, mix: mix, pool: pool, random: &random)
                let meta = #"{"agentType":"bench-agent-\#(index)","description":"bench","spawnDepth":1}"#
                try Data(meta.utf8).write(to: subagents.appendingPathComponent("agent-\(agent).meta.json"))
            }
        }
        return written
    }

    /// JSON-escaped source text to cut tool results from, at line ends only (never inside an escape).
    struct CodePool {
        let text: [UInt8]
        let lineEnds: [Int]

        init(random: inout SplitMix64) {
            let words = [
                "let", "var", "func", "return", "guard", "else", "if", "for", "in", "struct", "value", "index",
                "count", "name", "path", "result", "self", "try", "await", "nil", "true", "false", "case", "switch",
            ]
            var text: [UInt8] = []
            var ends: [Int] = []
            text.reserveCapacity(4 << 20)
            while text.count < 4 << 20 {
                var line = String(repeating: " ", count: Int(random.next() % 4) * 4)
                for _ in 0..<(3 + Int(random.next() % 9)) {
                    line += words[Int(random.next() % UInt64(words.count))] + " "
                }
                switch random.next() % 5 {
                case 0: line += #"\"quoted \\(name)\""#
                case 1: line += "// a comment"
                case 2: line += "{"
                default: line += "= 42"
                }
                text += Array(line.utf8) + Array(#"\n"#.utf8)
                ends.append(text.count)
            }
            self.text = text
            self.lineEnds = ends
        }

        /// About `length` bytes, starting and ending at line ends.
        func slice(_ length: Int, random: inout SplitMix64) -> ArraySlice<UInt8> {
            let first = Int(random.next() % UInt64(lineEnds.count / 2))
            var last = first
            while last + 1 < lineEnds.count, lineEnds[last] - lineEnds[first] < length { last += 1 }
            return text[lineEnds[first]..<lineEnds[last]]
        }
    }

    private static func writeTranscript(
        _ file: URL, session: String, agent: String?, bytes: Int, mix: Mix, pool: CodePool, random: inout SplitMix64
    ) throws -> Int {
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(8 << 20)
        var written = 0
        var context = 20_000
        var request = 0
        let sidechain = agent == nil ? "false" : "true"
        let agentField = agent.map { #""agentId":"\#($0)","# } ?? ""
        func head(_ uuid: UInt64) -> String {
            #"{"parentUuid":"\#(String(uuid, radix: 16))","isSidechain":\#(sidechain),\#(agentField)"userType":"external","cwd":"/bench/project","sessionId":"\#(session)","version":"2.1.200","gitBranch":"main","#
        }
        func flush() throws {
            handle.write(Data(buffer))
            written += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        while written + buffer.count < bytes {
            request += 1
            let result: Int
            switch mix == .small ? 100 : random.next() % 100 {
            case 100: result = 1_000 + Int(random.next() % 7_000)
            case 0..<70: result = 2_000 + Int(random.next() % 18_000)
            case 70..<95: result = 20_000 + Int(random.next() % 180_000)
            default: result = 200_000 + Int(random.next() % 1_800_000)
            }
            let output = 50 + Int(random.next() % 1500)
            let parts = 2 + Int(random.next() % 2)
            for part in 0..<parts {
                let block =
                    part == parts - 1
                    ? #"{"type":"tool_use","id":"toolu_\#(request)","name":"Read","input":{"file_path":"/bench/project/Sources/File\#(request).swift"}}"#
                    : #"{"type":"text","text":"\#(String(decoding: pool.slice(200 + Int(random.next() % 1800), random: &random), as: UTF8.self))"}"#
                let line =
                    head(random.next())
                    + #""message":{"id":"msg_\#(session.prefix(8))\#(request)","type":"message","role":"assistant","model":"claude-opus-4-5","content":[\#(block)],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":\#(min(context, 4_000)),"cache_read_input_tokens":\#(max(0, context - 4_000)),"output_tokens":\#(part == parts - 1 ? output : 8),"service_tier":"standard"}},"requestId":"req_\#(session.prefix(8))\#(request)","type":"assistant","uuid":"\#(random.next())","timestamp":"2026-12-05T10:00:00.000Z"}"#
                buffer += Array(line.utf8)
                buffer.append(0x0A)
            }
            let content = pool.slice(result / 2, random: &random)
            buffer += Array(head(random.next()).utf8)
            buffer += Array(
                #""type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_\#(request)","type":"tool_result","content":""#
                    .utf8)
            buffer += content
            buffer += Array(
                #""}]},"uuid":"\#(random.next())","timestamp":"2026-12-05T10:00:01.000Z","toolUseResult":{"type":"text","file":{"filePath":"/bench/project/Sources/File\#(request).swift","content":""#
                    .utf8)
            buffer += content
            buffer += Array(#"","numLines":120,"startLine":1,"totalLines":120}}}"#.utf8)
            buffer.append(0x0A)
            context += output + result / 4
            if random.next() % 20 == 0 {
                buffer += Array(
                    #"{"type":"file-history-snapshot","messageId":"\#(random.next())","snapshot":{"messageId":"m","trackedFileBackups":{},"timestamp":"2026-12-05T10:00:01.000Z"},"isSnapshotUpdate":false}"#
                        .utf8)
                buffer.append(0x0A)
                buffer += Array(
                    (head(random.next())
                        + #""type":"attachment","attachment":{"type":"todo_reminder","content":[]},"uuid":"\#(random.next())","timestamp":"2026-12-05T10:00:01.000Z"}"#)
                        .utf8)
                buffer.append(0x0A)
            }
            if context > 150_000 + Int(random.next() % 40_000) {
                buffer += Array(
                    (head(random.next())
                        + #""type":"system","subtype":"compact_boundary","content":"Conversation compacted","isMeta":false,"timestamp":"2026-12-05T10:00:02.000Z","uuid":"\#(random.next())","level":"info","compactMetadata":{"trigger":"auto","preTokens":\#(context)}}"#)
                        .utf8)
                buffer.append(0x0A)
                context = 30_000
            }
            if buffer.count > 4 << 20 { try flush() }
        }
        try flush()
        return written
    }

    /// Drops every file under `folder` from the page cache.
    static func evict(_ folder: URL) {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return }
        for case let name as String in walker {
            let descriptor = open(folder.appendingPathComponent(name).path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            _ = fdatasync(descriptor)
            _ = posix_fadvise(descriptor, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(descriptor)
        }
    }

    /// Times ``TranscriptUsage/scan(projectFolder:options:)`` over `folder`: the median of `runs`.
    /// - Parameter cold: before each run, drop the transcripts from the page cache
    ///   (`posix_fadvise(POSIX_FADV_DONTNEED)` on each file, nothing else), so they are read from disk.
    static func measure(folder: URL, runs: Int, cold: Bool = false) throws -> String {
        var seconds: [Double] = []
        var report: UsageReport?
        for _ in 0..<max(1, runs) {
            if cold { evict(folder) }
            let clock = ContinuousClock()
            var run: UsageReport?
            let elapsed = try clock.measure { run = try TranscriptUsage.scan(projectFolder: folder) }
            seconds.append(elapsed.seconds)
            report = run
        }
        guard let report else { throw ValidationError("no run") }
        let megabytes = Double(report.totals.bytes) / 1_048_576
        let time = median(seconds)
        let agents = report.sessions.reduce(0) { $0 + $1.agents.count }
        let marked = report.sessions.reduce(0) { $0 + $1.agents.filter(\.overThreshold).count }
        let totals = report.totals
        return """
            ctxmem usage over \(folder.path)
              transcripts:  \(totals.files) files, \(String(format: "%.1f", megabytes)) MB, \(totals.lines) lines
              found:        \(report.sessions.count) sessions, \(agents) agents (\(marked) over 80%), \(totals.requests) requests, \(totals.compactions) compactions, \(totals.skipped) lines skipped, \(totals.malformed) malformed
              time:         \(String(format: "%.3f", time)) s (median of \(seconds.count): \(seconds.map { String(format: "%.3f", $0) }.joined(separator: ", ")))
              speed:        \(String(format: "%.0f", megabytes / max(time, 1e-9))) MB/s on one core, \(cold ? "read from disk (evicted from the page cache before each run)" : "warm page cache")
              peak RSS:     \(String(format: "%.1f", peakRSSMegabytes())) MB (the whole process, generation included when it generated)
            """
    }
}
