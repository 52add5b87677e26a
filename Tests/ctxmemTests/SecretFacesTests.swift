import ContextMemory
import Foundation
import Testing

/// What a client of each face receives from a memory tree holding credentials: markers, never values.
@Suite("Secrets through the CLI, HTTP and MCP")
struct SecretFacesTests {
    static let github = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa98"
    static let stripe = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcFAKE"

    static func tree() throws -> CLITests.Tree {
        let tree = try CLITests.Tree()
        try Data(
            "# Payments runbook\n\nRotate the quokka key \(stripe) monthly; CI uses \(github).\n"
                .utf8
        ).write(to: tree.root.appendingPathComponent("project_management/payments.md"))
        try Data("# Root\n\n@project_management/payments.md\n".utf8).write(
            to: tree.root.appendingPathComponent("CLAUDE.md"))
        return tree
    }

    static func expectClean(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            !text.contains(github) && !text.contains(stripe), "\(what) leaks a credential",
            sourceLocation: sourceLocation)
        #expect(
            text.contains("[REDACTED:"), "\(what) shows no marker: \(text.prefix(300))", sourceLocation: sourceLocation)
    }

    @Test("CLI: index, search, read, pack in three formats, audit")
    func cli() throws {
        let tree = try Self.tree()
        let root = ["--root", tree.root.path]
        let index = try CLITests.run(["index"] + root)
        #expect(index.stdout.contains("[secret-in-memory]"))
        Self.expectClean(index.stdout + index.stderr, "index")
        Self.expectClean(try CLITests.run(["search", "quokka"] + root).stdout, "search")
        Self.expectClean(try CLITests.run(["search", "quokka", "--json"] + root).stdout, "search --json")
        Self.expectClean(try CLITests.run(["read", "memory://project_management/payments.md"] + root).stdout, "read")
        for format in ["markdown", "xml", "json"] {
            Self.expectClean(
                try CLITests.run(
                    ["pack", "--task", "rotate the quokka key", "--mode", "replace", "--format", format] + root
                ).stdout,
                "pack \(format)")
        }
        let audit = try CLITests.run(["audit", "--format", "json", "--no-git"] + root)
        #expect(audit.status == 1)
        #expect(audit.stdout.components(separatedBy: "\"secret-in-memory\"").count - 1 >= 2)
        #expect(!audit.stdout.contains(Self.github) && !audit.stdout.contains(Self.stripe))
        let unredacted = try CLITests.run(["read", "--no-redact", "memory://project_management/payments.md"] + root)
        #expect(unredacted.stdout.contains(Self.github))
        #expect(unredacted.stderr.contains("warning"))
    }

    @Test("MCP: search_memory, read_memory, context_pack")
    func mcp() throws {
        let tree = try Self.tree()
        let run = try MCPTests.exchange(
            tree,
            MCPTests.handshake + [
                MCPTests.call(2, "search_memory", #"{"query":"quokka"}"#),
                MCPTests.call(3, "read_memory", #"{"handle":"memory://project_management/payments.md"}"#),
                MCPTests.call(4, "context_pack", #"{"task":"rotate the quokka key","budget":4000,"mode":"replace"}"#),
            ])
        for id in 2...4 { Self.expectClean(MCPTests.text(run.responses[id]).text, "MCP response \(id)") }
    }

    @Test("HTTP: /v1/search, /v1/memory, /v1/packs")
    func http() async throws {
        try await LiveServer.with { server in
            try Data(
                "# Payments runbook\n\nRotate the quokka key \(Self.stripe) monthly; CI uses \(Self.github).\n".utf8
            )
            .write(to: server.tree.root.appendingPathComponent("project_management/payments.md"))
            _ = try await server.request("POST", "/v1/index")
            Self.expectClean(try await server.request("GET", "/v1/search?q=quokka").body, "GET /v1/search")
            Self.expectClean(
                try await server.request("GET", "/v1/memory?handle=memory://project_management/payments.md").body,
                "GET /v1/memory")
            for format in ["json", "markdown", "xml"] {
                Self.expectClean(
                    try await server.request(
                        "POST", "/v1/packs",
                        body: #"{"task": "rotate the quokka key", "mode": "replace", "format": "\#(format)"}"#
                    ).body,
                    "POST /v1/packs \(format)")
            }
        }
    }
}
