import ContextMemory
import Foundation
import Testing

/// `ctxmem mcp` through the built binary: JSON-RPC lines on stdin, responses on stdout.
@Suite("ctxmem mcp end to end")
struct MCPTests {
    static func exchange(_ tree: CLITests.Tree, _ messages: [String], arguments: [String] = []) throws
        -> (responses: [Int: [String: Any]], stderr: String, status: Int32, messages: [[String: Any]])
    {
        let input = tree.root.appendingPathComponent("mcp-in.jsonl")
        try Data((messages.joined(separator: "\n") + "\n").utf8).write(to: input)
        // EOF after the last request.
        let run = try CLITests.run(["mcp", "--root", tree.root.path] + arguments, input: input)
        var responses: [Int: [String: Any]] = [:]
        var all: [[String: Any]] = []
        for line in run.stdout.split(separator: "\n") {
            let message = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                "stdout carries only JSON-RPC: \(line.prefix(200))")
            if let id = message["id"] as? Int { responses[id] = message }
            all.append(message)
        }
        return (responses, run.stderr, run.status, all)
    }

    static func call(_ id: Int, _ tool: String, _ arguments: String) -> String {
        #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
    }

    static func text(_ response: [String: Any]?) -> (text: String, isError: Bool) {
        let result = response?["result"] as? [String: Any]
        let content = (result?["content"] as? [[String: Any]])?.first
        return (content?["text"] as? String ?? "", result?["isError"] as? Bool ?? false)
    }

    /// `initialize` (id 1) and the `initialized` notification every session starts with.
    static let handshake = [
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
        #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    ]

    @Test("initialize, tools/list and tools/call; every request answered after stdin ends")
    func exchange() throws {
        let tree = try CLITests.Tree()
        let run = try Self.exchange(
            tree,
            Self.handshake + [
                #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
                Self.call(
                    3, "context_pack", #"{"agent":"backend-manager","task":"add the VPC peering API","budget":4000}"#),
                Self.call(4, "search_memory", #"{"query":"VPC peering","limit":3}"#),
                Self.call(5, "read_memory", #"{"handle":"memory://CLAUDE.md"}"#),
                Self.call(6, "audit_references", #"{"rules":["broken-link","broken-import"]}"#),
                Self.call(7, "read_memory", #"{"handle":"memory://../../etc/passwd"}"#),
                Self.call(8, "search_memory", #"{"query":"\"unclosed"}"#),
                Self.call(9, "no_such_tool", "{}"),
            ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Set(run.responses.keys) == Set(1...9), "answered: \(run.responses.keys.sorted())")
        let initialize = try #require(run.responses[1]?["result"] as? [String: Any])
        #expect((initialize["serverInfo"] as? [String: Any])?["name"] as? String == "ctxmem")

        let tools = try #require((run.responses[2]?["result"] as? [String: Any])?["tools"] as? [[String: Any]])
        #expect(
            Set(tools.compactMap { $0["name"] as? String }) == [
                "context_pack", "search_memory", "read_memory", "audit_references", "status_digest",
            ])
        for tool in tools {
            let schema = try #require(tool["inputSchema"] as? [String: Any])
            #expect(schema["type"] as? String == "object")
            #expect(schema["properties"] is [String: Any])
        }

        let pack = Self.text(run.responses[3])
        #expect(!pack.isError, "\(pack.text.prefix(300))")
        #expect(pack.text.contains("add the VPC peering API"))
        #expect(ClaudeTokenEstimator().count(pack.text) <= 4000)
        #expect(Self.text(run.responses[4]).text.contains("\"handle\":\"memory://"))
        #expect(Self.text(run.responses[5]).text.hasPrefix("memory://CLAUDE.md"))
        #expect(Self.text(run.responses[6]).text.contains("\"rules\""))
        let traversal = Self.text(run.responses[7])
        #expect(traversal.isError && traversal.text.contains("leaves the memory root"))
        #expect(Self.text(run.responses[8]).isError)
        #expect(Self.text(run.responses[9]).isError)
    }

    @Test("results stay within --max-result-tokens and --max-result-bytes")
    func resultCaps() throws {
        let tree = try CLITests.Tree()
        let run = try Self.exchange(
            tree,
            [
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
                Self.call(2, "context_pack", #"{"agent":"backend-manager","task":"add the VPC peering API"}"#),
                Self.call(3, "search_memory", #"{"query":"fabric OR vpc OR sync","limit":100}"#),
                Self.call(4, "read_memory", #"{"handle":"memory://CLAUDE.md"}"#),
            ], arguments: ["--max-result-tokens", "1000", "--max-result-bytes", "4096"])
        #expect(run.status == 0)
        for id in 2...4 {
            let result = Self.text(run.responses[id])
            #expect(!result.isError, "\(id): \(result.text.prefix(200))")
            #expect(result.text.utf8.count <= 4096, "\(id): \(result.text.utf8.count) bytes")
            #expect(ClaudeTokenEstimator().count(result.text) <= 1000, "\(id)")
        }
        let search = try #require(
            try JSONSerialization.jsonObject(with: Data(Self.text(run.responses[3]).text.utf8)) as? [String: Any])
        #expect(((search["results"] as? [Any])?.count ?? 0) >= 1, "fewer results, still valid JSON")
    }

    @Test("a line that is not JSON gets a parse error whose id is null, as JSON-RPC 2.0 requires; the session goes on")
    func parseError() throws {
        let tree = try CLITests.Tree()
        let run = try Self.exchange(
            tree,
            [
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"tools/list""#,  // cut short
                #"{"jsonrpc":"2.0","id":"three","method":"tools/list"}"#,
                Self.call(4, "no_such_tool", "{}"),
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let errors = run.messages.filter { $0["error"] != nil }
        #expect(errors.count == 1, "\(run.messages)")
        let parseError = try #require(errors.first)
        #expect(parseError.keys.contains("id") && parseError["id"] is NSNull, "id must be null: \(parseError)")
        #expect((parseError["error"] as? [String: Any])?["code"] as? Int == -32700)
        // The requests before and after are answered with their own ids, a string one included.
        #expect(run.responses[1]?["result"] != nil)
        #expect(run.messages.contains { $0["id"] as? String == "three" && $0["result"] != nil })
        #expect(Self.text(run.responses[4]).isError)
    }
}
