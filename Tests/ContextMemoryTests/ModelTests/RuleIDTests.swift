import Foundation
import Testing

@testable import ContextMemory

@Suite("Rule ids")
struct RuleIDTests {
    @Test("ids are the strings users, reports and indexes have always had")
    func ids() {
        #expect(
            RuleID.auditRules.map(\.rawValue) == [
                "broken-import", "import-directory", "import-cycle", "import-too-deep", "import-outside-root",
                "broken-link", "broken-anchor", "case-mismatch", "missing-path", "stale-reference", "orphan-document",
                "duplicate-content", "oversized-memory", "handoff-folder-size", "handoff-cut", "invalid-frontmatter",
                "invalid-agent", "secret-in-memory",
            ])
        #expect(
            RuleID.allCases.filter { !$0.isAuditRule }.map(\.rawValue) == [
                "invalid-utf8", "invalid-utf16", "binary-file", "file-too-large", "unreadable", "not-a-regular-file",
                "broken-symlink", "symlink-loop", "symlink-outside-root", "invalid-marker",
            ])
        #expect("\(RuleID.brokenLink)" == "broken-link")
    }

    @Test("a finding's rule is encoded as its id")
    func encoding() throws {
        let finding = Finding(rule: .invalidUTF8, severity: .warning, path: "a.md", message: "m")
        let json = String(decoding: try JSONEncoder().encode(finding), as: UTF8.self)
        #expect(json.contains("\"rule\":\"invalid-utf8\""))
        #expect(try JSONDecoder().decode(Finding.self, from: Data(json.utf8)) == finding)
    }

    @Test("--rule names audit rules only, as typed")
    func auditRuleNames() {
        #expect(RuleID(auditRule: " Broken-Link ") == .brokenLink)
        #expect(RuleID(auditRule: "invalid-utf8") == nil)
        #expect(throws: AuditError.self) { try AuditError.rules(["binary-file"]) }
    }

    @Test("an id the index holds but this build does not know is an error, not a default")
    func unknownStoredID() {
        #expect(throws: StoredValue.Unknown.self) { try StoredValue.decode(RuleID.self, "retired-rule") }
    }

    @Test("a baseline entry of an unknown rule matches nothing and does not refuse the file")
    func baselineWithUnknownRule() throws {
        let known = Finding(rule: .brokenLink, severity: .error, path: "a.md", line: 3, message: "x", target: "b.md")
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("ctxmem-baseline-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let entries = [
            #"{"rule":"retired-rule","severity":"error","path":"a.md","message":"x","target":"b.md"}"#,
            #"{"rule":"broken-link","severity":"error","path":"a.md","line":9,"message":"y","target":"b.md"}"#,
        ]
        try Data(#"{"findings":[\#(entries.joined(separator: ","))]}"#.utf8).write(to: file)
        var baseline = try AuditBaseline(contentsOf: file)
        let (first, second) = (baseline.absorb(known), baseline.absorb(known))
        #expect(first && !second)
    }
}
