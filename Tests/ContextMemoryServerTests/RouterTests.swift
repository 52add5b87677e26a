import ContextMemory
import Foundation
import HTTPTypes
import Testing

@testable import ContextMemoryServer

/// Every route of the HTTP API in process (``InProcessServer``), on a copy of the example memory/:
/// its answer, status and JSON shape, and its main errors, each with its stable `error.code`.
@Suite("HTTP API in process")
struct RouterTests {
    @Test("every route answers as Schemas/openapi.yaml says, errors included")
    func openAPI() async throws {
        try await InProcessServer.with { server in
            var samples: [OpenAPIValidator.Sample] = []
            func sample(_ method: HTTPRequest.Method, _ uri: String, _ route: String, body: String? = nil, status: Int)
                async throws
            {
                let response = try await server.request(method, uri, body: body)
                #expect(response.status == status, "\(method) \(uri): \(response)")
                samples.append(
                    .init(
                        route: route, method: method.rawValue.lowercased(), status: response.status,
                        contentType: response.contentType, body: response.body))
            }
            try await sample(.get, "/healthz", "/healthz", status: 200)
            try await sample(.get, "/v1/search?q=VPC+peering&limit=3", "/v1/search", status: 200)
            try await sample(.get, "/v1/search?q=%22unclosed", "/v1/search", status: 400)
            try await sample(.get, "/v1/search", "/v1/search", status: 400)
            try await sample(.get, "/v1/search?q=x&limit=nope", "/v1/search", status: 400)
            try await sample(.get, "/v1/search?q=" + String(repeating: "a", count: 4096), "/v1/search", status: 200)
            try await sample(.get, "/v1/search?q=" + String(repeating: "a", count: 4097), "/v1/search", status: 400)
            try await sample(.get, "/v1/search?q=" + String(repeating: "a", count: 60_000), "/v1/search", status: 414)
            try await sample(
                .post, "/v1/packs", "/v1/packs",
                body: #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 30000}"#, status: 200)
            try await sample(
                .post, "/v1/packs", "/v1/packs",
                body: #"{"format": "markdown", "budget": 3000, "trimEssentials": true}"#, status: 200)
            try await sample(.post, "/v1/packs", "/v1/packs", body: #"{"format": "xml", "budget": 30000}"#, status: 200)
            try await sample(
                .post, "/v1/packs", "/v1/packs", body: #"{"task": "VPC peering", "budget": 30000, "explain": true}"#,
                status: 200)
            try await sample(
                .post, "/v1/packs", "/v1/packs", body: #"{"agent": "backend-manager", "budget": 4000}"#, status: 422)
            try await sample(.post, "/v1/packs", "/v1/packs", body: #"{"agent": "nobody"}"#, status: 404)
            try await sample(.post, "/v1/packs", "/v1/packs", body: #"{"budget": 10}"#, status: 400)
            try await sample(.post, "/v1/packs", "/v1/packs", body: "{not json", status: 400)
            try await sample(.post, "/v1/packs", "/v1/packs", body: #"{"agent": null}"#, status: 400)
            try await sample(.post, "/v1/packs", "/v1/packs", body: String(repeating: "x", count: 70_000), status: 413)
            try await sample(.get, "/v1/audit", "/v1/audit", status: 200)
            try await sample(.get, "/v1/audit?format=sarif&rule=broken-link", "/v1/audit", status: 200)
            try await sample(.get, "/v1/audit?rule=nope", "/v1/audit", status: 400)
            try await sample(.get, "/v1/audit?rule=", "/v1/audit", status: 400)
            try await sample(.get, "/v1/agents", "/v1/agents", status: 200)
            try await sample(.get, "/v1/memory?handle=memory://CLAUDE.md", "/v1/memory", status: 200)
            try await sample(.get, "/v1/memory?handle=memory://CLAUDE.md&references=true", "/v1/memory", status: 200)
            try await sample(.get, "/v1/memory?handle=memory://CLAUDE.md&references=maybe", "/v1/memory", status: 400)
            try await sample(.get, "/v1/memory?handle=memory://CLAUDE.md&line=20", "/v1/memory", status: 200)
            try await sample(.get, "/v1/memory?handle=memory://CLAUDE.md&line=0", "/v1/memory", status: 400)
            try await sample(.get, "/v1/memory?handle=memory://../../etc/passwd", "/v1/memory", status: 400)
            try await sample(.get, "/v1/memory?handle=memory://no/such.md", "/v1/memory", status: 404)
            let delegation =
                #"{"hook_event_name": "PreToolUse", "session_id": "r1", "tool_name": "Agent", "tool_input": "#
                + #"{"subagent_type": "qa-manager", "prompt": "sign off release 1.10"}}"#
            try await sample(.post, "/v1/hooks/claude-code", "/v1/hooks/claude-code", body: delegation, status: 200)
            let start = #"{"hook_event_name": "SubagentStart", "session_id": "r1", "agent_type": "qa-manager"}"#
            try await sample(.post, "/v1/hooks/claude-code", "/v1/hooks/claude-code", body: start, status: 200)
            try await sample(.post, "/v1/hooks/claude-code", "/v1/hooks/claude-code", body: "{not json", status: 200)
            try await sample(.get, "/v1/status", "/v1/status", status: 200)
            try await sample(.get, "/v1/status?since=2d", "/v1/status", status: 200)
            try await sample(.get, "/v1/status?since=yesterday", "/v1/status", status: 400)
            try await sample(.post, "/v1/index", "/v1/index", status: 200)
            try await sample(.post, "/v1/index?rebuild=maybe", "/v1/index", status: 400)
            try await sample(.get, "/metrics", "/metrics", status: 200)
            try OpenAPIValidator.validate(samples)
        }
    }

    @Test(
        "POST /v1/hooks/claude-code answers as `ctxmem hook` does: the recorded task's pack, or {} when it fails open")
    func hook() async throws {
        try await InProcessServer.with { server in
            let delegation =
                #"{"hook_event_name": "PreToolUse", "session_id": "h1", "tool_name": "Task", "tool_input": "#
                + #"{"subagent_type": "gitops-manager", "prompt": "prod sync lock is stuck, recover it"}}"#
            let recorded = try await server.request(.post, "/v1/hooks/claude-code", body: delegation)
            #expect(recorded.status == 200 && recorded.body == "{}")
            let start = try await server.request(
                .post, "/v1/hooks/claude-code",
                body: #"{"hook_event_name": "SubagentStart", "session_id": "h1", "agent_type": "gitops-manager"}"#)
            #expect(start.status == 200 && start.contentType == "application/json")
            let specific = try #require(start.object["hookSpecificOutput"] as? [String: Any])
            #expect(specific["hookEventName"] as? String == "SubagentStart")
            let context = try #require(specific["additionalContext"] as? String)
            #expect(context.utf16.count <= 10_000 && context.contains("for the gitops-manager agent"))
            #expect(context.contains("and task."), "the task recorded by PreToolUse was used")
            for body in ["", "[]", #"{"hook_event_name": "SubagentStart", "agent_type": "nobody"}"#] {
                let quiet = try await server.request(.post, "/v1/hooks/claude-code", body: body)
                #expect(quiet.status == 200 && quiet.body == "{}", "\(body)")
            }
        }
    }

    @Test("SubagentStop over HTTP keeps the report and indexes it before answering; GET /v1/status merges it")
    func handoffOverHTTP() async throws {
        try await InProcessServer.with { server in
            try server.tree.write(".ctxmem.yaml", "handoffs: true\n")
            let stop =
                #"{"hook_event_name": "SubagentStop", "session_id": "h2", "agent_type": "qa-manager", "agent_id": "q77", "#
                + #""last_assistant_message": "- Status: blocked\n- Needs: the marmoset fixture from backend-manager"}"#
            let answer = try await server.request(.post, "/v1/hooks/claude-code", body: stop)
            #expect(answer.status == 200 && answer.body == "{}")
            let search = try await server.request(.get, "/v1/search?q=marmoset")
            let results = try #require(search.object["results"] as? [[String: Any]])
            #expect((results.first?["path"] as? String)?.hasPrefix("project_management/handoffs/") == true)
            let status = try await server.request(.get, "/v1/status")
            #expect(status.status == 200)
            #expect((status.object["text"] as? String)?.contains("- Status: blocked") == true)
            let agents = try #require(status.object["agents"] as? [[String: Any]])
            #expect(agents.first?["agent"] as? String == "qa-manager")
            #expect(
                (agents.first?["path"] as? String)?.contains("qa-manager-q77") == true, "the newest qa-manager report")
        }
    }

    @Test("GET /healthz: ok once indexed, with the version, the root and the index's state")
    func health() async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, "/healthz")
            #expect(response.status == 200)
            #expect(response.contentType == "application/json; charset=utf-8")
            let health = response.object
            #expect(health["status"] as? String == "ok", "\(response)")
            #expect(health["version"] as? String == Release.version)
            let root = await server.api.coordinator.service.root.path
            #expect(health["root"] as? String == root)
            let index = try #require(health["index"] as? [String: Any])
            #expect(index["refreshing"] as? Bool == false)
            #expect(index["generation"] as? Int == 1)
            #expect((index["documents"] as? Int ?? 0) > 0)
            #expect(index["lastIndexedAt"] is String)
            #expect(index["runs"] as? Int == 1 && index["failures"] as? Int == 0)
            #expect(health["watcher"] == nil, "no watcher runs here")
        }
    }

    @Test("GET /metrics: Prometheus text with each request counted by route, method and status")
    func metrics() async throws {
        try await InProcessServer.with { server in
            _ = try await server.request(.get, "/v1/agents")
            _ = try await server.request(.get, "/v1/search")
            let response = try await server.request(.get, "/metrics")
            #expect(response.status == 200)
            #expect(response.contentType == "text/plain; version=0.0.4; charset=utf-8")
            let documents = await server.api.coordinator.state().documents ?? 0
            for line in [
                #"ctxmem_http_requests_total{route="/v1/agents",method="GET",status="200"} 1"#,
                #"ctxmem_http_requests_total{route="/v1/search",method="GET",status="400"} 1"#,
                "ctxmem_index_generation 1", "ctxmem_index_documents \(documents)",
                "ctxmem_pack_queue_rejected_total 0",
            ] {
                #expect(response.body.contains(line + "\n"), "\(line)")
            }
        }
    }

    @Test("POST /v1/packs: JSON, Markdown and XML packs within the budget, their id and tokens in headers")
    func packs() async throws {
        try await InProcessServer.with { server in
            let json = try await server.pack(
                #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 30000}"#)
            #expect(json.status == 200, "\(json)")
            #expect(json.contentType == "application/json; charset=utf-8")
            let manifest = try #require(json.object["manifest"] as? [String: Any])
            #expect(manifest["agent"] as? String == "backend-manager")
            #expect(json.object["task"] as? String == "add the VPC peering API")
            let tokens = try #require(manifest["tokens"] as? Int)
            #expect(tokens <= 30000)
            #expect(json.header("Ctxmem-Pack-Id") == manifest["packId"] as? String)
            #expect(json.header("Ctxmem-Tokens") == String(tokens))

            let markdown = try await server.pack(
                #"{"task": "add the VPC peering API", "format": "markdown", "budget": 30000}"#)
            #expect(markdown.status == 200)
            #expect(markdown.contentType == "text/markdown; charset=utf-8")
            #expect(markdown.body.contains("add the VPC peering API"))
            let xml = try await server.pack(#"{"format": "xml", "budget": 30000}"#)
            #expect(xml.status == 200)
            #expect(xml.contentType == "application/xml; charset=utf-8")
            #expect(xml.body.hasPrefix("<?xml"), "\(xml.body.prefix(100))")
            // No body: a generic pack at the default budget, as JSON.
            let generic = try await server.request(.post, "/v1/packs")
            #expect(generic.status == 200, "\(generic)")
            #expect((generic.object["manifest"] as? [String: Any])?["agent"] == nil)
            // Over its essentials only when asked: trimmed to fit.
            let trimmed = try await server.pack(
                #"{"agent": "backend-manager", "budget": 4000, "trimEssentials": true}"#)
            #expect(trimmed.status == 200)
            #expect(Int(trimmed.header("Ctxmem-Tokens") ?? "") ?? .max <= 4000)
        }
    }

    @Test("POST /v1/packs with explain: the pack byte for byte as without, and what became of every candidate")
    func explainedPack() async throws {
        try await InProcessServer.with { server in
            for format in ["json", "markdown", "xml"] {
                let request = #""agent": "backend-manager", "task": "add the VPC peering API", "budget": 30000"#
                let plain = try await server.pack("{\(request), \"format\": \"\(format)\"}")
                let explained = try await server.pack("{\(request), \"format\": \"\(format)\", \"explain\": true}")
                #expect(explained.status == 200 && explained.contentType == "application/json; charset=utf-8")
                #expect(explained.object["pack"] as? String == plain.body, "\(format)")
                #expect(explained.header("Ctxmem-Pack-Id") == plain.header("Ctxmem-Pack-Id"))
                let decisions = try #require(explained.object["explanation"] as? [[String: Any]])
                let outcomes = Set(decisions.compactMap { $0["outcome"] as? String })
                #expect(outcomes.isSuperset(of: ["included", "left-out"]), "\(outcomes)")
                #expect(decisions.allSatisfy { ($0["reason"] as? String)?.isEmpty == false })
            }
        }
    }

    @Test("a JSON pack's sections carry their tokens, which sum by tier to the manifest's (with the role brief)")
    func sectionTokens() async throws {
        try await InProcessServer.with { server in
            let pack = try await server.pack(
                #"{"agent": "backend-manager", "task": "add the VPC peering API", "budget": 30000}"#)
            let manifest = try #require(pack.object["manifest"] as? [String: Any])
            let byTier = try #require(manifest["tokensByTier"] as? [String: Int])
            let overhead = try #require(manifest["overhead"] as? [String: Any])
            var sums: [String: Int] = [:]
            for document in try #require(pack.object["documents"] as? [[String: Any]]) {
                for section in try #require(document["sections"] as? [[String: Any]]) {
                    sums[section["tier"] as? String ?? "", default: 0] += try #require(section["tokens"] as? Int)
                }
            }
            #expect(sums["essential"] == overhead["essentialTokens"] as? Int)
            #expect(sums["detailed"] == byTier["detailed"] && sums["operational"] == byTier["operational"])
            #expect((byTier["essential"] ?? 0) > (sums["essential"] ?? 0), "the role brief counts in essential")
        }
    }

    @Test("GET /v1/memory?references=true: what a section links to and imports, and what links to it, by handle")
    func memoryReferences() async throws {
        try await InProcessServer.with { server in
            let file = try await server.request(.get, "/v1/memory?handle=memory://CLAUDE.md&references=true")
            let references = try #require(file.object["references"] as? [String: [[String: Any]]])
            let outgoing = try #require(references["outgoing"])
            let incoming = try #require(references["incoming"])
            let agentsImport = outgoing.first {
                $0["kind"] as? String == "import" && $0["target"] as? String == "AGENTS.md"
            }
            #expect(agentsImport?["handle"] as? String == "memory://AGENTS.md", "\(outgoing)")
            #expect(outgoing.allSatisfy { $0["path"] as? String == "CLAUDE.md" })
            #expect(
                incoming.contains {
                    $0["path"] as? String == "AGENTS.md"
                        && ($0["handle"] as? String)?.hasPrefix("memory://AGENTS.md#") == true
                })
            #expect(incoming.allSatisfy { $0["path"] as? String != "CLAUDE.md" })
            // A section's own lines only; without the flag, no references at all.
            let section = try await server.request(
                .get, "/v1/memory?handle=memory://CLAUDE.md%23stack-at-a-glance&references=true")
            let lines = (section.object["startLine"] as? Int ?? 0)...(section.object["endLine"] as? Int ?? 0)
            let written = (section.object["references"] as? [String: [[String: Any]]])?["outgoing"] ?? []
            #expect(written.allSatisfy { lines.contains($0["line"] as? Int ?? 0) })
            #expect(written.count < outgoing.count)
            let plain = try await server.request(.get, "/v1/memory?handle=memory://CLAUDE.md")
            #expect(plain.object["references"] == nil)
        }
    }

    @Test(
        "POST /v1/packs refuses what it cannot build, with a status and a code",
        arguments: [
            (#"{"agent": "nobody"}"#, 404, "unknown_agent"),
            (#"{"agent": "backend-manager", "budget": 4000}"#, 422, "essentials_exceed_budget"),
            (#"{"budget": 10}"#, 400, "invalid_budget"),
            (#"{"budget": 99999999999999999999}"#, 400, "invalid_json"),
            (#"{"task": 42}"#, 400, "invalid_json"),
            (#"{"format": "pdf"}"#, 400, "invalid_format"),
            ("{not json", 400, "invalid_json"),
            ("[]", 400, "invalid_json"),
            (#"{"task": "\#(String(repeating: "x", count: PackRequest.maxTaskLength + 1))"}"#, 400, "invalid_task"),
            (String(repeating: "x", count: 70_000), 413, "body_too_large"),
        ])
    func packErrors(body: String, status: Int, code: String) async throws {
        try await InProcessServer.with { server in
            let response = try await server.pack(body)
            #expect(response.status == status, "\(body.prefix(60)): \(response)")
            #expect(response.errorCode == code, "\(body.prefix(60)): \(response)")
            #expect(response.contentType == "application/json; charset=utf-8")
        }
    }

    @Test("POST /v1/packs: a field is its type or absent; null is refused for each, with what to do")
    func nullFields() async throws {
        try await InProcessServer.with { server in
            for field in ["agent", "task", "budget", "format", "trimEssentials"] {
                let response = try await server.pack(#"{"\#(field)": null}"#)
                #expect(response.status == 400, "\(field)")
                #expect(response.errorCode == "invalid_json")
                #expect(
                    response.errorMessage.contains("\(field) must not be null"), "\(field): \(response.errorMessage)")
            }
            let wrongType = try await server.pack(#"{"task": 42}"#)
            #expect(wrongType.errorMessage.contains("task must be a string"), "\(wrongType)")
        }
    }

    @Test("GET /v1/search: ranked sections with handles; limit, tier, kind and path narrow them; + is a space")
    func search() async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, "/v1/search?q=VPC+peering&limit=3")
            #expect(response.status == 200)
            #expect(response.contentType == "application/json; charset=utf-8")
            #expect(response.object["query"] as? String == "VPC peering")
            let results = try #require(response.object["results"] as? [[String: Any]])
            #expect((1...3).contains(results.count))
            for result in results {
                #expect((result["handle"] as? String)?.hasPrefix("memory://") == true)
                #expect(result["path"] is String && result["snippet"] is String && result["tier"] is String)
            }
            let narrowed = try await server.request(
                .get, "/v1/search?q=VPC&tier=detailed&path=project_management/**&limit=50")
            let hits = try #require(narrowed.object["results"] as? [[String: Any]])
            #expect(!hits.isEmpty)
            #expect(
                hits.allSatisfy {
                    $0["tier"] as? String == "detailed"
                        && ($0["path"] as? String)?.hasPrefix("project_management/") == true
                })
            let kind = try await server.request(.get, "/v1/search?q=VPC&kind=project-management")
            #expect(
                (kind.object["results"] as? [[String: Any]])?.allSatisfy {
                    $0["kind"] as? String == "project-management"
                } == true)
            let none = try await server.request(.get, "/v1/search?q=xylophone")
            #expect(
                none.status == 200 && (none.object["results"] as? [Any])?.isEmpty == true, "no results is not an error")
            let encoded = try await server.request(
                .get, "/v1/search?q=fabric+OR+%E3%83%95%E3%82%A1%E3%83%96%E3%83%AA%E3%83%83%E3%82%AF")
            #expect(encoded.status == 200)
            #expect(encoded.object["query"] as? String == "fabric OR ファブリック", "+ is a space in a query string")
        }
    }

    @Test(
        "GET /v1/search refuses a missing, malformed or over-long query and bad options",
        arguments: [
            ("/v1/search", 400, "missing_parameter"),
            ("/v1/search?q=+", 400, "missing_parameter"),
            ("/v1/search?q=%22unclosed", 400, "invalid_query"),
            ("/v1/search?q=x&limit=nope", 400, "invalid_parameter"),
            ("/v1/search?q=x&limit=0", 400, "invalid_query"),
            ("/v1/search?q=x&tier=urgent", 400, "invalid_parameter"),
            ("/v1/search?q=x&kind=wiki", 400, "invalid_parameter"),
            ("/v1/search?q=" + String(repeating: "a", count: SearchQuery.maxLength + 1), 400, "query_too_long"),
            // Over the query-string limit (12 bytes per character of the longest q, the most
            // percent-encoding takes, and 4 KiB for the other parameters): 414 before any route.
            ("/v1/search?q=" + String(repeating: "a", count: 60_000), 414, "query_too_long"),
        ])
    func searchErrors(uri: String, status: Int, code: String) async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, uri)
            #expect(response.status == status, "\(uri.prefix(60)): \(response)")
            #expect(response.errorCode == code, "\(uri.prefix(60)): \(response)")
        }
    }

    @Test("GET /v1/audit: the report as JSON or SARIF, for every rule or the ones named")
    func audit() async throws {
        try await InProcessServer.with { server in
            let json = try await server.request(.get, "/v1/audit")
            #expect(json.status == 200)
            #expect(json.contentType == "application/json; charset=utf-8")
            #expect(json.object["tool"] is [String: Any] || json.object["tool"] is String)
            #expect((json.object["rules"] as? [String])?.count == RuleID.auditRules.count)
            #expect(json.object["findings"] is [Any] && json.object["summary"] is [String: Any])
            let one = try await server.request(.get, "/v1/audit?rule=broken-link&rule=missing-path")
            #expect(one.object["rules"] as? [String] == ["broken-link", "missing-path"])
            let sarif = try await server.request(.get, "/v1/audit?format=sarif")
            #expect(sarif.status == 200)
            #expect(sarif.contentType == "application/sarif+json")
            #expect(sarif.object["version"] as? String == "2.1.0")
        }
    }

    @Test(
        "GET /v1/audit refuses unknown and empty rules and formats other than json and sarif",
        arguments: [
            ("/v1/audit?rule=nope", "invalid_rule"),
            ("/v1/audit?rule=", "invalid_rule"),
            ("/v1/audit?rule=broken-link&rule=", "invalid_rule"),
            ("/v1/audit?rule=+", "invalid_rule"),
            ("/v1/audit?format=text", "invalid_format"),
            ("/v1/audit?format=xml", "invalid_format"),
        ])
    func auditErrors(uri: String, code: String) async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, uri)
            #expect(response.status == 400, "\(uri): \(response)")
            #expect(response.errorCode == code, "\(uri): \(response)")
        }
    }

    @Test("GET /v1/agents: every agent of .claude/agents with its budget and essentials")
    func agents() async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, "/v1/agents")
            #expect(response.status == 200)
            #expect(response.contentType == "application/json; charset=utf-8")
            let agents = try #require(
                try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
            let names = agents.compactMap { ($0["profile"] as? [String: Any])?["name"] as? String }
            let definitions = try FileManager.default.contentsOfDirectory(
                atPath: server.tree.url(".claude/agents").path)
            #expect(Set(names) == Set(definitions.map { String($0.dropLast(3)) }))
            let manager = try #require(
                agents.first { ($0["profile"] as? [String: Any])?["name"] as? String == "backend-manager" })
            #expect(manager["budget"] as? Int == 40000)
            #expect((manager["essentialTokens"] as? Int ?? 0) > 0)
        }
    }

    @Test("GET /v1/memory: a file or a section by its handle")
    func memory() async throws {
        try await InProcessServer.with { server in
            let file = try await server.request(.get, "/v1/memory?handle=memory://CLAUDE.md")
            #expect(file.status == 200)
            #expect(file.contentType == "application/json; charset=utf-8")
            #expect(file.object["handle"] as? String == "memory://CLAUDE.md")
            #expect(file.object["path"] as? String == "CLAUDE.md")
            #expect(file.object["startLine"] as? Int == 1)
            #expect((file.object["text"] as? String)?.contains("Fabrikon") == true)
            let section = try await server.request(.get, "/v1/memory?handle=memory://CLAUDE.md%23stack-at-a-glance")
            #expect(section.status == 200, "\(section)")
            #expect(section.object["headingPath"] as? [String] == ["Fabrikon — project memory", "Stack at a glance"])
            #expect(section.object["startLine"] as? Int == 14)
        }
    }

    @Test(
        "GET /v1/memory refuses a missing or escaping handle, and answers 404 for what is not there",
        arguments: [
            ("/v1/memory", 400, "missing_parameter"),
            ("/v1/memory?handle=", 400, "missing_parameter"),
            ("/v1/memory?handle=CLAUDE.md", 400, "invalid_handle"),
            ("/v1/memory?handle=memory://../../etc/passwd", 400, "invalid_handle"),
            ("/v1/memory?handle=memory://..%2F..%2Fetc%2Fpasswd", 400, "invalid_handle"),
            ("/v1/memory?handle=memory://no/such.md", 404, "not_found"),
            ("/v1/memory?handle=memory://CLAUDE.md%23no-such-section", 404, "not_found"),
        ])
    func memoryErrors(uri: String, status: Int, code: String) async throws {
        try await InProcessServer.with { server in
            let response = try await server.request(.get, uri)
            #expect(response.status == status, "\(uri): \(response)")
            #expect(response.errorCode == code, "\(uri): \(response)")
        }
    }

    @Test("POST /v1/index: brings in a new file now; ?rebuild=true starts over; another value is refused")
    func index() async throws {
        try await InProcessServer.with { server in
            let unchanged = try await server.request(.post, "/v1/index")
            #expect(unchanged.status == 200)
            #expect(unchanged.contentType == "application/json; charset=utf-8")
            let documents = try #require(unchanged.object["documents"] as? Int)
            #expect(unchanged.object["unchanged"] as? Int == documents)
            #expect(unchanged.object["added"] as? Int == 0)

            try server.tree.write("project_management/zebracorn.md", "# Zebracorn\n\nThe zebracorn relay.\n")
            #expect(
                (try await server.request(.get, "/v1/search?q=zebracorn").object["results"] as? [Any])?.isEmpty == true)
            let added = try await server.request(.post, "/v1/index")
            #expect(added.object["added"] as? Int == 1, "\(added)")
            #expect((try await server.request(.get, "/v1/search?q=zebracorn").object["results"] as? [Any])?.count == 1)

            let rebuilt = try await server.request(.post, "/v1/index?rebuild=true")
            #expect(rebuilt.status == 200)
            #expect(rebuilt.object["documents"] as? Int == documents + 1)
            let refused = try await server.request(.post, "/v1/index?rebuild=maybe")
            #expect(refused.status == 400 && refused.errorCode == "invalid_parameter", "\(refused)")
        }
    }

    @Test("a known route asked with another method is a 405 with Allow; an unknown route a 404")
    func methodsAndRoutes() async throws {
        try await InProcessServer.with { server in
            for (path, allowed) in HTTPAPI.routes.sorted(by: { $0.key < $1.key }) {
                for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where method != allowed {
                    let response = try await server.request(method, path)
                    #expect(response.status == 405, "\(method) \(path): \(response)")
                    #expect(response.errorCode == "method_not_allowed")
                    #expect(response.header("Allow") == allowed.rawValue, "\(method) \(path)")
                }
            }
            for path in ["/v2/nothing", "/v1", "/v1/packs/extra", "/index.html", "/console"] {
                let response = try await server.request(.get, path)
                #expect(response.status == 404, "\(path): \(response)")
                #expect(response.errorCode == "unknown_route", "\(path)")
            }
        }
    }

    @Test("past the pack queue, POST /v1/packs is answered 503 overloaded with Retry-After, counted in /metrics")
    func overloaded() async throws {
        try await InProcessServer.with(configure: { configuration in
            configuration.packWorkers = 1
            configuration.packQueue = 0
        }) { server in
            // The one worker is taken by a job the test holds; the next pack has no place to wait.
            let (started, running) = AsyncStream.makeStream(of: Void.self)
            let gate = DispatchSemaphore(value: 0)
            let holder = Task {
                try await server.api.packQueue.run {
                    running.yield()
                    gate.wait()
                }
            }
            for await _ in started { break }
            let refused = try await server.pack(#"{"budget": 30000}"#)
            gate.signal()
            try await holder.value
            #expect(refused.status == 503, "\(refused)")
            #expect(refused.errorCode == "overloaded")
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.errorMessage.contains("--pack-queue"))
            try OpenAPIValidator.validate([
                .init(
                    route: "/v1/packs", method: "post", status: refused.status,
                    contentType: refused.contentType, body: refused.body)
            ])
            let metrics = try await server.request(.get, "/metrics").body
            #expect(metrics.contains("ctxmem_pack_queue_rejected_total 1\n"), "\(metrics)")
            #expect(metrics.contains(#"ctxmem_http_requests_total{route="/v1/packs",method="POST",status="503"} 1"#))
            // The worker free again, the same request is served.
            #expect(try await server.pack(#"{"budget": 30000}"#).status == 200)
        }
    }
}
