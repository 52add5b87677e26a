import ContextMemory
import Foundation
import Testing

/// `ctxmem audit` through the built binary on Fixtures/audit, as a CI job runs it.
@Suite("ctxmem audit end to end")
struct AuditCLITests {
    typealias Tree = CLITests.Tree

    static func audit(_ tree: Tree, _ arguments: [String] = [], environment: [String: String] = [:]) throws
        -> CLITests.Run
    {
        try CLITests.run(["audit", "--root", tree.root.path, "--no-git"] + arguments, environment: environment)
    }

    @Test("exit codes: 0 below --fail-on, 1 at or above it, 2 for usage and runtime errors")
    func exitCodes() throws {
        let tree = try Tree("audit")
        #expect(try Self.audit(tree).status == 1, "errors fail by default")
        #expect(try Self.audit(tree, ["--fail-on", "never"]).status == 0)
        #expect(try Self.audit(tree, ["--rule", "broken-anchor"]).status == 0, "warnings pass --fail-on error")
        #expect(try Self.audit(tree, ["--rule", "broken-anchor", "--fail-on", "warning"]).status == 1)
        #expect(
            try Self.audit(tree, ["--rule", "orphan-document", "--fail-on", "warning"]).status == 0, "infos never fail")
        let two = try Self.audit(tree, ["--rule", "orphan-document", "broken-anchor", "--format", "json"])
        let rules =
            try #require(try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as? [String: Any])["rules"]
            as? [String]
        #expect(rules == ["broken-anchor", "orphan-document"])
        let comma = try Self.audit(tree, ["--rule", "orphan-document,Broken-Anchor", "--format", "json"])
        #expect(comma.status == 0, "warnings and infos pass --fail-on error")
        #expect(
            try #require(try JSONSerialization.jsonObject(with: Data(comma.stdout.utf8)) as? [String: Any])["rules"]
                as? [String] == rules)
        let findings = try Self.audit(tree)
        #expect(findings.status == 1)
        #expect(findings.stderr.isEmpty, "findings are the verdict, not an error: \(findings.stderr)")

        for (arguments, message) in [
            (["--rule", "broken-links"], "unknown rule 'broken-links'; did you mean 'broken-link'?"),
            (
                ["--format", "xml"],
                "The value 'xml' is invalid for '--format <format>'. Please provide one of 'text', 'json' or 'sarif'."
            ),
            (
                ["--fail-on", "sometimes"],
                "The value 'sometimes' is invalid for '--fail-on <severity>'. Please provide one of 'error', 'warning' or 'never'."
            ),
            (["--list-rules", "--rule", "broken-links"], "unknown rule 'broken-links'; did you mean 'broken-link'?"),
            (
                ["--out", tree.root.appendingPathComponent("no/such/folder/report.txt").path],
                "ctxmem: error: cannot write "
            ),
            (
                ["--write-baseline", tree.root.appendingPathComponent("no/such/folder/b.json").path],
                "ctxmem: error: cannot write "
            ),
            (
                ["--baseline", tree.root.appendingPathComponent("none.json").path],
                "create one with `ctxmem audit --write-baseline"
            ),
            (["--frmat", "json"], "Unknown option '--frmat'"),
        ] {
            let run = try Self.audit(tree, arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        let noRoot = try CLITests.run(["audit", "--root", tree.root.appendingPathComponent("missing").path])
        #expect(noRoot.status == 2)
        #expect(noRoot.stderr.contains("cannot use"))
    }

    @Test("text is grouped by file with line:column, uncoloured when not a terminal, with a summary")
    func text() throws {
        let tree = try Tree("audit")
        let run = try Self.audit(tree)
        #expect(!run.stdout.contains("\u{1B}["))
        #expect(run.stdout.contains("docs/guide.md\n  20:3 "))
        #expect(
            run.stdout.contains(
                "error    link target missing-page.md does not exist (docs/missing-page.md)  broken-link"))
        #expect(run.stdout.contains("did you mean architecture.md#data-flow?"))
        #expect(run.stdout.hasSuffix("(19 documents audited); 3 suppressed inline\n"), "\(run.stdout.suffix(200))")
    }

    @Test("--format json validates against Schemas/audit-report.schema.json")
    func json() throws {
        let tree = try Tree("audit")
        let run = try Self.audit(tree, ["--format", "json"])
        #expect(run.status == 1)
        let file = tree.root.appendingPathComponent("report.json")
        try Data(run.stdout.utf8).write(to: file)
        try SchemaValidator.validate(
            instance: file, schema: TestPaths.schemas.appendingPathComponent("audit-report.schema.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary["suppressedInline"] == 3)
        #expect(
            (object["findings"] as? [Any])?.count == (summary["errors"] ?? 0) + (summary["warnings"] ?? 0)
                + (summary["infos"] ?? 0))
    }

    @Test("--format sarif --out writes SARIF 2.1.0 valid against the official schema")
    func sarif() throws {
        let tree = try Tree("audit")
        let file = tree.root.appendingPathComponent("audit.sarif")
        let run = try Self.audit(tree, ["--format", "sarif", "--out", file.path])
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("wrote \(file.path)"))
        try SchemaValidator.validate(
            instance: file, schema: TestPaths.fixtures.appendingPathComponent("sarif/sarif-schema-2.1.0.json"))
        let log = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let results = try #require(((log["runs"] as? [[String: Any]])?.first)?["results"] as? [[String: Any]])
        #expect(results.contains { ($0["suppressions"] as? [[String: Any]])?.first?["kind"] as? String == "inSource" })
    }

    @Test("--write-baseline then --baseline: CI fails only on new findings")
    func baseline() throws {
        let tree = try Tree("audit")
        let file = tree.root.appendingPathComponent(".ctxmem-baseline.json").path
        let write = try Self.audit(tree, ["--write-baseline", file])
        #expect(write.status == 0)
        #expect(write.stderr.contains("pass --baseline \(file)"))
        let clean = try Self.audit(tree, ["--baseline", file])
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("No findings in 19 documents"))

        let guide = tree.root.appendingPathComponent("docs/guide.md")
        try Data((try String(contentsOf: guide, encoding: .utf8) + "\n[new](brand-new.md)\n").utf8).write(to: guide)
        let fresh = try Self.audit(tree, ["--baseline", file])
        #expect(fresh.status == 1)
        #expect(fresh.stdout.contains("brand-new.md"))
        #expect(!fresh.stdout.contains("missing-page.md"))
    }

    @Test("--list-rules and --help teach the rules, suppression, baseline and exit codes")
    func help() throws {
        let list = try CLITests.run(["audit", "--list-rules"])
        #expect(list.status == 0)
        #expect(list.stdout.split(separator: "\n").count == RuleID.auditRules.count)
        #expect(list.stdout.contains("broken-import       error    "))
        let help = try CLITests.run(["audit", "--help"])
        for fragment in [
            "<!-- ctxmem-ignore RULE -->", "--write-baseline", "--format sarif", "Exit codes", "docs/audit-rules.md",
        ] {
            #expect(help.stdout.contains(fragment), "help lacks \(fragment)")
        }
    }
}
