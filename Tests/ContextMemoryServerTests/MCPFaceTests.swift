import ContextMemory
import Foundation
import MCP
import Testing

@testable import ContextMemoryServer

/// The MCP tools in process: ``MCPFace``'s handlers called as functions, on a copy of the example
/// memory/. The protocol over stdio (the handshake, parse errors, answering after EOF) is checked
/// through the built binary in ctxmemTests.
@Suite("MCP tools in process")
struct MCPFaceTests {
    /// A face over an indexed copy of memory/, as `ctxmem mcp` makes it.
    struct Face {
        let tree: FixtureTree
        let face: MCPFace

        init(limits: MCPFace.Limits = MCPFace.Limits()) async throws {
            tree = try FixtureTree(repositoryFolder: "memory")
            let coordinator = IndexCoordinator(service: MemoryService(root: tree.root, readerConnections: 2))
            try await coordinator.refresh()
            face = MCPFace(coordinator: coordinator, limits: limits)
        }

        /// Calls `tool` with `arguments` (a JSON object) and returns its text and whether it is an error.
        func call(_ tool: String, _ arguments: String = "{}") async throws -> (text: String, isError: Bool) {
            let values = try JSONDecoder().decode([String: Value].self, from: Data(arguments.utf8))
            let result = await face.call(CallTool.Parameters(name: tool, arguments: values))
            #expect(result.content.count == 1)
            guard case .text(let text, _, _)? = result.content.first else { return ("", result.isError ?? false) }
            return (text, result.isError ?? false)
        }
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text.prefix(200))")
    }

    @Test("tools/list: the five tools, each with an object schema")
    func tools() throws {
        #expect(
            MCPFace.tools.map(\.name) == [
                "context_pack", "search_memory", "read_memory", "audit_references", "status_digest",
            ])
        for tool in MCPFace.tools {
            guard case .object(let schema) = tool.inputSchema else {
                Issue.record("\(tool.name): the schema is not an object")
                continue
            }
            #expect(schema["type"] == "object", "\(tool.name)")
            #expect(schema["additionalProperties"] == false, "\(tool.name)")
            #expect(schema["properties"]?.objectValue != nil, "\(tool.name)")
        }
        let search = try #require(MCPFace.tools.first { $0.name == "search_memory" }?.inputSchema.objectValue)
        let query = search["properties"]?.objectValue?["query"]?.objectValue
        #expect(query?["maxLength"] == .int(SearchQuery.maxLength))
        #expect(search["required"] == ["query"])
    }

    @Test("context_pack: the agent's pack for its task, within the budget asked")
    func contextPack() async throws {
        let face = try await Face()
        let pack = try await face.call(
            "context_pack", #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 30000}"#)
        #expect(!pack.isError, "\(pack.text.prefix(300))")
        #expect(pack.text.contains("add the VPC peering API"))
        #expect(ClaudeTokenEstimator().count(pack.text) <= 30000)
        let json = try await face.call(
            "context_pack", #"{"task": "rotate the keys", "format": "json", "budget": 30000}"#)
        #expect((try Self.object(json.text))["manifest"] is [String: Any])
    }

    @Test("search_memory: JSON results with memory:// handles; read_memory: the section a handle names")
    func searchAndRead() async throws {
        let face = try await Face()
        let search = try await face.call("search_memory", #"{"query": "VPC peering", "limit": 3}"#)
        #expect(!search.isError)
        let results = try #require(try Self.object(search.text)["results"] as? [[String: Any]])
        #expect((1...3).contains(results.count))
        let handle = try #require(results.first?["handle"] as? String)
        #expect(handle.hasPrefix("memory://"))
        let section = try await face.call("read_memory", #"{"handle": "\#(handle)"}"#)
        #expect(!section.isError)
        #expect(section.text.hasPrefix(handle + " ("), "\(section.text.prefix(200))")
        let file = try await face.call("read_memory", #"{"handle": "memory://CLAUDE.md"}"#)
        #expect(file.text.hasPrefix("memory://CLAUDE.md (CLAUDE.md:1-"))
        let detailed = try await face.call(
            "search_memory", #"{"query": "VPC", "tier": "detailed", "path": "project_management/**", "limit": 50}"#)
        let hits = try #require(try Self.object(detailed.text)["results"] as? [[String: Any]])
        #expect(!hits.isEmpty)
        #expect(
            hits.allSatisfy {
                $0["tier"] as? String == "detailed" && ($0["path"] as? String)?.hasPrefix("project_management/") == true
            })
    }

    @Test("audit_references: the report as JSON, for the rules named")
    func audit() async throws {
        let face = try await Face()
        let report = try await face.call("audit_references", #"{"rules": ["broken-link", "broken-import"]}"#)
        #expect(!report.isError, "\(report.text.prefix(300))")
        #expect(try Self.object(report.text)["rules"] as? [String] == ["broken-import", "broken-link"])
    }

    @Test("status_digest: the merged block of the latest handoffs; a bad since is a tool error")
    func statusDigest() async throws {
        let face = try await Face()
        let example = try await face.call("status_digest")
        #expect(
            !example.isError && example.text.contains("### Report: qa-manager — WI-23-5"), "memory/'s example records")
        try face.tree.write(".ctxmem.yaml", "handoffs: true\n")
        let service = MemoryService(root: face.tree.root)
        _ = try service.recordHandoff(
            report: "- Status: done\n- Risks: none", agentType: "gitops-manager", agentID: "g1", session: "m1",
            task: "unlock the prod sync")
        _ = try await service.index()
        let digest = try await face.call("status_digest", #"{"since": "1d"}"#)
        #expect(!digest.isError)
        #expect(digest.text.contains("### Report: gitops-manager") && digest.text.contains("- Status: done"))
        let bad = try await face.call("status_digest", #"{"since": "soon"}"#)
        #expect(bad.isError && bad.text.contains("since must be"))
    }

    @Test(
        "bad arguments and unknown tools are tool errors that say what is wrong",
        arguments: [
            ("read_memory", #"{"handle": "memory://../../etc/passwd"}"#, "leaves the memory root"),
            ("read_memory", #"{"handle": "memory://no/such.md"}"#, "no/such.md"),
            ("read_memory", "{}", "handle is required"),
            ("search_memory", #"{"query": "\"unclosed"}"#, "not closed"),
            ("search_memory", "{}", "query is required"),
            ("search_memory", #"{"query": "x", "tier": "urgent"}"#, "tier must be one of"),
            ("search_memory", #"{"query": 42}"#, "query must be a string"),
            (
                "search_memory", #"{"query": "\#(String(repeating: "a", count: SearchQuery.maxLength + 1))"}"#,
                "the limit is \(SearchQuery.maxLength)"
            ),
            ("context_pack", #"{"budget": "lots"}"#, "budget must be a whole number"),
            ("context_pack", #"{"budget": 10}"#, "budget 10 is out of range"),
            ("context_pack", #"{"format": "pdf"}"#, "format must be markdown, xml or json"),
            ("context_pack", #"{"agent": "nobody"}"#, "nobody"),
            // A budget asked below the pinned sections is refused, as by `ctxmem pack`; only the server's cap trims them.
            ("context_pack", #"{"agent": "backend-manager", "budget": 3000}"#, "the pinned essentials alone need"),
            ("audit_references", #"{"rules": ["broken-links"]}"#, "did you mean 'broken-link'"),
            ("no_such_tool", "{}", "unknown tool 'no_such_tool'"),
        ])
    func errors(tool: String, arguments: String, message: String) async throws {
        let face = try await Face()
        let result = try await face.call(tool, arguments)
        #expect(result.isError, "\(tool) \(arguments.prefix(60))")
        #expect(result.text.contains(message), "\(tool) \(arguments.prefix(60)): \(result.text.prefix(300))")
    }

    @Test("a query of exactly the limit is searched")
    func searchQueryLimit() async throws {
        let face = try await Face()
        let atLimit = try await face.call(
            "search_memory", #"{"query": "\#(String(repeating: "a", count: SearchQuery.maxLength))"}"#)
        #expect(!atLimit.isError, "\(atLimit.text.prefix(200))")
    }

    @Test(
        "every result stays within the token and byte caps: fewer results, a pack cut to fit, a section cut with a note"
    )
    func caps() async throws {
        let face = try await Face(limits: MCPFace.Limits(maxTokens: 1000, maxBytes: 4096))
        for (tool, arguments) in [
            ("context_pack", #"{"agent": "backend-manager", "task": "add the VPC peering API"}"#),
            ("search_memory", #"{"query": "fabric OR vpc OR sync", "limit": 100}"#),
            ("read_memory", #"{"handle": "memory://CLAUDE.md"}"#),
            ("audit_references", "{}"),
        ] {
            let result = try await face.call(tool, arguments)
            #expect(!result.isError, "\(tool): \(result.text.prefix(200))")
            #expect(result.text.utf8.count <= 4096, "\(tool): \(result.text.utf8.count) bytes")
            #expect(ClaudeTokenEstimator().count(result.text) <= 1000, "\(tool)")
        }
        let search = try await face.call("search_memory", #"{"query": "fabric OR vpc OR sync", "limit": 100}"#)
        #expect(
            ((try Self.object(search.text))["results"] as? [Any])?.isEmpty == false, "fewer results, still valid JSON")
        let read = try await face.call("read_memory", #"{"handle": "memory://CLAUDE.md"}"#)
        #expect(read.text.hasSuffix("ask for less]"), "\(read.text.suffix(200))")
    }

    @Test("an error reply to an id the client never sent gets the id null, as JSON-RPC 2.0 requires")
    func unknownIDs() throws {
        #expect(
            AnsweringTransport.requestIDs(in: Data(#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#.utf8)) == ["n:7"])
        #expect(
            AnsweringTransport.requestIDs(
                in: Data(#"[{"jsonrpc":"2.0","id":"a","method":"x"},{"jsonrpc":"2.0","method":"n"}]"#.utf8)) == ["s:a"])
        let reply = Data(#"{"jsonrpc":"2.0","id":"random-1","error":{"code":-32700,"message":"Parse error"}}"#.utf8)
        let (rewritten, replied) = AnsweringTransport.repliesWithKnownIDs(reply, known: { $0 == "n:7" })
        #expect(replied.isEmpty)
        let message = try #require(try JSONSerialization.jsonObject(with: rewritten) as? [String: Any])
        #expect(message["id"] is NSNull, "\(message)")
        let known = Data(#"{"jsonrpc":"2.0","id":7,"result":{}}"#.utf8)
        let (kept, answered) = AnsweringTransport.repliesWithKnownIDs(known, known: { $0 == "n:7" })
        #expect(kept == known)
        #expect(answered == ["n:7"])
    }
}
