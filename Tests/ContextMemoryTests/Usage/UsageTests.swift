import Foundation
import Testing

@testable import ContextMemory

/// `TranscriptUsage` on Claude Code transcripts: the fixtures in Fixtures/transcripts (written by
/// make-fixtures.py beside them, which says what each line is for) and inline lines.
@Suite("Transcript usage")
struct UsageTests {
    static let session1 = "11111111-aaaa-4bbb-8ccc-000000000001"
    static let session2 = "22222222-aaaa-4bbb-8ccc-000000000002"

    static func fixtureFolder(_ tree: FixtureTree) -> URL {
        TranscriptUsage.projectFolder(
            claudeDirectory: tree.root, project: URL(fileURLWithPath: "/srv/app.v2"))
    }

    static func agent(_ report: UsageReport, _ session: String, _ id: String) -> AgentUsage? {
        report.sessions.first { $0.id == session }?.agents.first { $0.id == id }
    }

    @Test("each agent of each session: requests once per response, peak, window, compactions, output")
    func fixtureSessions() throws {
        let tree = try FixtureTree("transcripts")
        let report = try TranscriptUsage.scan(projectFolder: Self.fixtureFolder(tree))
        #expect(report.sessions.map(\.id).sorted() == [Self.session1, Self.session2])
        #expect(report.sessions.first { $0.id == Self.session1 }?.agents.map(\.id) == ["main", "a11", "a22"])

        let main = try #require(Self.agent(report, Self.session1, "main"))
        #expect(main.kind == .main && main.agentType == nil)
        #expect(main.requests == 3, "a response written as three lines is one request; <synthetic> is none")
        #expect(main.peakContext == 150_000)
        #expect(main.outputTokens == 1_220, "the largest output count of a response's lines: 120 + 300 + 800")
        #expect(main.compactions == 1)
        #expect(main.window == 200_000 && main.windowSource == .default && main.peakShare == 0.75)
        #expect(!main.overThreshold)
        #expect(main.model == "claude-opus-4-5")

        let backend = try #require(Self.agent(report, Self.session1, "a11"))
        #expect(backend.kind == .subagent && backend.agentType == "backend-manager", "from agent-a11.meta.json")
        #expect(backend.requests == 2 && backend.peakContext == 170_000 && backend.outputTokens == 450)
        #expect(backend.peakShare == 0.85 && backend.overThreshold)

        let qa = try #require(Self.agent(report, Self.session1, "a22"))
        #expect(qa.agentType == "qa-manager", "from the Agent tool's result in the main transcript")
        #expect(qa.window == 1_000_000 && qa.windowSource == .model, "resolvedModel says [1m]")
        #expect(qa.peakContext == 250_000 && !qa.overThreshold)

        let older = try #require(report.sessions.first { $0.id == Self.session2 })
        #expect(older.agents.map(\.id) == ["main", "old7", "side9"])
        let olderMain = try #require(older.agents.first)
        #expect(olderMain.peakContext == 300_000 && olderMain.window == 1_000_000)
        #expect(olderMain.windowSource == .inferred)
        let side = try #require(older.agents.last)
        #expect(side.requests == 2 && side.peakContext == 32_000 && side.outputTokens == 100)
        #expect(older.agents[1].requests == 1 && older.agents[1].peakContext == 12_500)

        let totals = report.totals
        #expect(totals.files == 5 && totals.lines == 29 && totals.requests == 10 && totals.compactions == 1)
        #expect(totals.malformed == 3, "not JSON, cut off, and a usage object that does not parse")
        #expect(totals.skipped == 12 && totals.tooLong == 0 && totals.unreadable.isEmpty)
    }

    @Test("hostile text in a tool result is never counted, and nothing of it reaches the report")
    func hostileLine() throws {
        let tree = try FixtureTree("transcripts")
        let report = try TranscriptUsage.scan(projectFolder: Self.fixtureFolder(tree))
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        for hostile in ["999999", "<script>", "sk-ant-api03", "pwned", "\u{1B}", "\u{202E}"] {
            #expect(!json.contains(hostile), "\(hostile)")
        }
    }

    @Test("--session keeps the sessions whose id starts with it; --window measures every agent against it")
    func options() throws {
        let tree = try FixtureTree("transcripts")
        let folder = Self.fixtureFolder(tree)
        let one = try TranscriptUsage.scan(projectFolder: folder, options: .init(session: "2222"))
        #expect(one.sessions.map(\.id) == [Self.session2])
        let none = try TranscriptUsage.scan(projectFolder: folder, options: .init(session: "nope"))
        #expect(none.sessions.isEmpty)
        let forced = try TranscriptUsage.scan(projectFolder: folder, options: .init(window: 160_000))
        let main = try #require(Self.agent(forced, Self.session1, "main"))
        #expect(main.window == 160_000 && main.windowSource == .option && main.overThreshold)
    }

    @Test("sessions come newest first")
    func newestFirst() throws {
        let tree = try FixtureTree("transcripts")
        let folder = Self.fixtureFolder(tree)
        let old = Date(timeIntervalSince1970: 1_700_000_000)
        let new = Date(timeIntervalSince1970: 1_800_000_000)
        for (session, date) in [(Self.session1, old), (Self.session2, new)] {
            try FileManager.default.setAttributes(
                [.modificationDate: date], ofItemAtPath: folder.appendingPathComponent(session + ".jsonl").path)
        }
        let report = try TranscriptUsage.scan(projectFolder: folder)
        #expect(report.sessions.map(\.id) == [Self.session2, Self.session1])
        #expect(report.sessions.first?.modified == "2027-01-15T08:00:00Z")
    }

    @Test("no transcript folder is an error naming it; an empty one is an empty report")
    func missingAndEmpty() throws {
        let tree = try FixtureTree("transcripts")
        let missing = tree.url("projects/-nowhere")
        #expect(throws: UsageError.noProjectFolder(missing.path)) {
            try TranscriptUsage.scan(projectFolder: missing)
        }
        #expect("\(UsageError.noProjectFolder(missing.path))".contains("--claude-dir"))
        try FileManager.default.createDirectory(at: tree.url("projects/-empty"), withIntermediateDirectories: true)
        let empty = try TranscriptUsage.scan(projectFolder: tree.url("projects/-empty"))
        #expect(empty.sessions.isEmpty && empty.totals.files == 0)
    }

    @Test(
        "the folder name: every UTF-16 unit but ASCII letters and digits becomes -",
        arguments: [
            ("/home/u/my.proj", "-home-u-my-proj"),
            ("/srv/app_v2 (copy)", "-srv-app-v2--copy-"),
            ("/Users/Ana/Café", "-Users-Ana-Caf-"),
            ("/tmp/\u{1F600}", "-tmp---"),
        ])
    func folderName(path: String, name: String) {
        #expect(TranscriptUsage.projectFolderName(for: path) == name)
    }

    @Test("Claude Code's folder: CLAUDE_CONFIG_DIR when set, else ~/.claude")
    func claudeDirectory() {
        #expect(
            TranscriptUsage.claudeDirectory(environment: ["CLAUDE_CONFIG_DIR": "/etc/cc", "HOME": "/h"]).path
                == "/etc/cc")
        #expect(
            TranscriptUsage.claudeDirectory(environment: ["CLAUDE_CONFIG_DIR": "", "HOME": "/h"]).path == "/h/.claude")
    }

    static func parse(_ text: String) -> TranscriptLine {
        Array(text.utf8).withUnsafeBufferPointer { TranscriptLine($0) }
    }

    @Test(
        "lines: what each is taken for",
        arguments: [
            (
                #"{"type":"assistant","requestId":"r","message":{"model":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":2,"cache_read_input_tokens":3,"output_tokens":4}}}"#,
                TranscriptLine.Kind.request
            ),
            (#"  {"message":{"usage":{"output_tokens":4.0e0,"input_tokens":1}},"type":"assistant"}  "#, .request),
            (
                #"{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"manual","preTokens":9}}"#,
                .compaction
            ),
            (#"{"type":"system","subtype":"informational","content":"compact_boundary"}"#, .other),
            (#"{"type":"user","message":{"content":"{\"type\":\"assistant\",\"message\":{\"usage\":{}}}"}}"#, .other),
            (#"{"type":"user","toolUseResult":{"agentId":"a","agentType":"t"}}"#, .agentResult),
            (#"{"type":"user","toolUseResult":"Error: \"agentType\""}"#, .other),
            (#"{"type":"assistant","message":{"usage":{"input_tokens":1}}"#, .malformed),
            (#"{"type":"assistant","message":{"usage":{"input_tokens":1}}}}"#, .malformed),
            (#"{"type":"assistant","message":{"usage":{"input_tokens":1}} "x"}"#, .malformed),
            ("[1, 2]", .malformed),
            ("null", .malformed),
            ("   ", .blank),
            (#"{"type":"assistant","message":{"model":"<synthetic>","usage":{"input_tokens":0}}}"#, .other),
        ])
    func lineKinds(text: String, kind: TranscriptLine.Kind) {
        #expect(Self.parse(text).kind == kind, "\(text)")
    }

    @Test("a request's fields: context is input + cache creation + cache read; ids and escapes decoded")
    func requestFields() {
        let line = Self.parse(
            #"{"isSidechain":true,"agentId":"a\u00e9\n","sessionId":"s","type":"assistant","message":{"id":"m","model":"claude-x[1m]","content":[{"type":"text","text":"}]\"{["}],"usage":{"input_tokens":1,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,"output_tokens":7,"server_tool_use":{"web_search_requests":0}}},"requestId":"req"}"#
        )
        #expect(line.kind == .request)
        #expect(line.context == 321 && line.output == 7)
        #expect(line.isSidechain && line.agentId == "a\u{E9}\n" && line.sessionId == "s")
        #expect(line.model == "claude-x[1m]")
        #expect(AgentTally.saysOneMillion(line.model ?? ""))
        #expect(line.requestKey != nil)
    }

    @Test(
        "the 1M window from the model id: [1m], or a model whose window is 1M natively",
        arguments: [
            ("claude-opus-4-6[1m]", true), ("sonnet[1M]", true), ("claude-sonnet-5", true),
            ("claude-sonnet-5-20260630", true), ("claude-sonnet-4-5", false), ("claude-sonnet-5-5", false),
            ("claude-opus-4-5-20251101", false), ("<synthetic>", false),
        ])
    func oneMillionModels(model: String, oneMillion: Bool) {
        #expect(AgentTally.saysOneMillion(model) == oneMillion)
    }

    @Test("a hostile line: a million brackets, a long id, a lone quote: no crash, no recursion, bounded text")
    func hostileShapes() {
        let deep = "{\"usage\":" + String(repeating: "[", count: 1_000_000) + "}"
        #expect(Self.parse(deep).kind == .malformed)
        let long = Self.parse(
            #"{"type":"assistant","message":{"model":""# + String(repeating: "x", count: 10_000)
                + #"","usage":{"input_tokens":1}}}"#)
        #expect(long.kind == .request && (long.model?.count ?? 0) <= JSONCursor.textLimit + 1)
        #expect(Self.parse(#"{"usage":"\"}"#).kind == .malformed)
        #expect(
            Self.parse(
                #"{"type":"assistant","message":{"usage":{"input_tokens":-5,"output_tokens":99999999999999999999}}}"#
            ).output <= 1 << 48)
    }

    @Test("a response's lines count once, wherever its tool results fall between them; the largest output wins")
    func splitResponses() {
        var tally = AgentTally()
        func add(_ request: String, _ output: Int, context: Int = 100) {
            tally.add(
                Self.parse(
                    #"{"type":"assistant","requestId":""# + request
                        + #"","message":{"model":"m","usage":{"input_tokens":\#(context),"output_tokens":\#(output)}}}"#
                ))
        }
        add("r1", 5)
        add("r2", 10, context: 500)
        add("r1", 50)
        add("r1", 20)
        #expect(tally.requests == 2 && tally.outputTokens == 60 && tally.peakContext == 500)
        // A line of r3 without its requestId, known by its message id: still one request.
        for line in [
            #"{"type":"assistant","requestId":"r3","message":{"id":"m3","usage":{"output_tokens":1}}}"#,
            #"{"type":"assistant","message":{"id":"m3","usage":{"output_tokens":9}}}"#,
        ] { tally.add(Self.parse(line)) }
        #expect(tally.requests == 3 && tally.outputTokens == 69)
        for index in 0..<RecentRequests.capacity { add("other-\(index)", 1) }
        add("r1", 70)  // long forgotten: a new request
        #expect(tally.requests == 4 + RecentRequests.capacity)
    }

    @Test("the reader: lines across chunks, CR LF, no final line feed, a line over the limit skipped and counted")
    func lineReader() throws {
        let tree = try FixtureTree("transcripts")
        let long = String(repeating: "y", count: 300)
        try tree.write("lines.txt", "a\r\nbb\n\n" + long + "\nccc\n" + String(repeating: "z", count: 70) + "\nlast")
        var lines: [String] = []
        let totals = try LineReader.forEachLine(path: tree.url("lines.txt").path, chunk: 16, maximumLine: 128) {
            lines.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(lines == ["a\r", "bb", "", "ccc", String(repeating: "z", count: 70), "last"])
        #expect(totals.tooLong == 1 && totals.bytes == 3 + 3 + 1 + 301 + 4 + 71 + 4)
        #expect(throws: LineReader.Failure.self) {
            try LineReader.forEachLine(path: "/dev/zero") { _ in }
        }
    }
}
