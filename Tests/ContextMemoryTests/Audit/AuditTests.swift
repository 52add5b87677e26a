import Foundation
import Testing

@testable import ContextMemory

/// `ctxmem audit` on Fixtures/audit, where each line of CLAUDE.md and docs/guide.md is one case.
@Suite("Auditing references")
struct AuditTests {
    /// Every rule but stale-reference (dated by file times, which a copy does not keep in order).
    static let timeless = Set(RuleID.auditRules).subtracting([.staleReference])

    static func audit(
        _ tree: FixtureTree, rules: Set<RuleID> = timeless, baseline: AuditBaseline? = nil,
        useGit: Bool = false
    ) async throws -> AuditReport {
        try await tree.service.audit(AuditOptions(rules: rules, baseline: baseline, useGit: useGit))
    }

    struct Key: Hashable, CustomStringConvertible {
        var rule: String, path: String, line: Int
        var description: String { "\(path):\(line) \(rule)" }
    }

    static func keys(_ findings: [Finding]) -> Set<Key> {
        Set(findings.map { Key(rule: $0.rule.rawValue, path: $0.path, line: $0.line ?? 0) })
    }

    @Test("each rule fires where it must and nowhere else")
    func everyRule() async throws {
        let tree = try FixtureTree("audit")
        let report = try await Self.audit(tree)
        let expected: Set<Key> = [
            Key(rule: "broken-import", path: "CLAUDE.md", line: 7),  // @docs/missing.md
            Key(rule: "broken-import", path: "CLAUDE.md", line: 8),  // run into the next word
            Key(rule: "import-directory", path: "CLAUDE.md", line: 9),
            Key(rule: "import-outside-root", path: "CLAUDE.md", line: 10),
            Key(rule: "case-mismatch", path: "CLAUDE.md", line: 12),  // @Docs/Architecture.md
            Key(rule: "missing-path", path: "CLAUDE.md", line: 16),  // `@docs/not-an-import.md` names a doc
            Key(rule: "import-too-deep", path: "chain/four.md", line: 2),  // the fifth hop
            Key(rule: "import-cycle", path: "cycle/b.md", line: 2),
            Key(rule: "broken-link", path: "docs/guide.md", line: 20),
            Key(rule: "broken-link", path: "docs/guide.md", line: 21),
            Key(rule: "broken-link", path: "docs/guide.md", line: 22),
            Key(rule: "broken-anchor", path: "docs/guide.md", line: 23),
            Key(rule: "broken-anchor", path: "docs/guide.md", line: 24),
            Key(rule: "case-mismatch", path: "docs/guide.md", line: 26),
            Key(rule: "broken-link", path: "docs/guide.md", line: 27),  // image
            Key(rule: "broken-link", path: "docs/guide.md", line: 28),  // reference-style, at its use
            Key(rule: "missing-path", path: "docs/guide.md", line: 29),  // `docs/removed.md`
            Key(rule: "broken-link", path: "docs/guide.md", line: 32),  // the ignore comment covers one line
            Key(rule: "invalid-frontmatter", path: "docs/bad-frontmatter.md", line: 3),
            Key(rule: "duplicate-content", path: "docs/copy-b.md", line: 3),
            Key(rule: "orphan-document", path: "project_management/notes/orphan.md", line: 1),
            Key(rule: "invalid-agent", path: ".claude/agents/broken.md", line: 1),  // no description
            Key(rule: "invalid-agent", path: ".claude/agents/broken.md", line: 2),  // name not lowercase-hyphen
            Key(rule: "oversized-memory", path: ".claude/agents/tiny.md", line: 1),  // essentials over its 500 budget
        ]
        let found = Self.keys(report.findings)
        #expect(
            found.subtracting(expected).isEmpty,
            "false alarms: \(found.subtracting(expected).sorted { $0.description < $1.description })")
        #expect(
            expected.subtracting(found).isEmpty,
            "missed: \(expected.subtracting(found).sorted { $0.description < $1.description })")
        #expect(report.findings.allSatisfy { $0.line != nil && $0.column != nil && !$0.message.isEmpty })
        #expect(report.documents == 19)
    }

    @Test("what must not fire: valid imports and links, code, e-mail, home imports, anchors of every kind")
    func mustNotFire() async throws {
        let tree = try FixtureTree("audit")
        let lines = Set(try await Self.audit(tree).findings.map { "\($0.path):\($0.line ?? 0)" })
        let clean = [
            "CLAUDE.md:5", "CLAUDE.md:6",  // @docs/guide.md, inline after a label
            "CLAUDE.md:11",  // @~/.claude/personal.md: the user's own memory
            "CLAUDE.md:13", "CLAUDE.md:14",  // chain and cycle entries themselves
            "CLAUDE.md:19",  // inside a fenced block
            "CLAUDE.md:22",  // team@example.com
            "CLAUDE.md:23",  // a link that resolves
            "docs/guide.md:18",  // file and file#anchor
            "docs/guide.md:19",  // -1 suffix of a repeated heading, {#id}, HTML id
            "docs/guide.md:25",  // #L10 line anchor, a folder, an external URL
            "project_management/README.md:3",  // @... outside CLAUDE.md and rules is not an import
            "project_management/notes/kept.md:1",
        ]
        for line in clean { #expect(!lines.contains(line), "unexpected finding at \(line)") }
    }

    @Test("locations and suggestions are written as the source writes them")
    func suggestions() async throws {
        let tree = try FixtureTree("audit")
        let findings = try await Self.audit(tree).findings
        func finding(_ path: String, _ line: Int) -> Finding? { findings.first { $0.path == path && $0.line == line } }
        #expect(finding("CLAUDE.md", 8)?.suggestion == "@docs/guide.md")
        #expect(finding("CLAUDE.md", 8)?.target == "docs/guide.md00_current_state")
        #expect(finding("CLAUDE.md", 12)?.suggestion == "@docs/architecture.md")
        #expect(finding("docs/guide.md", 20)?.column == 3)
        #expect(finding("docs/guide.md", 21)?.suggestion == "architecture.md", "same name elsewhere: moved")
        #expect(finding("docs/guide.md", 22)?.suggestion == "architecture.md", "near spelling: a typo")
        #expect(finding("docs/guide.md", 23)?.suggestion == "architecture.md#data-flow")
        #expect(finding("docs/guide.md", 24)?.suggestion == "#setup")
        #expect(finding("docs/guide.md", 26)?.suggestion == "architecture.md")
        #expect(finding("docs/guide.md", 20)?.suggestion == nil, "nothing close: no guess")
        #expect(finding("docs/guide.md", 23)?.message.contains("did you mean architecture.md#data-flow?") == true)
        #expect(finding("chain/four.md", 2)?.message.contains("Claude Code follows 4") == true)
        #expect(finding("cycle/b.md", 2)?.message.contains("cycle/a.md -> cycle/b.md -> cycle/a.md") == true)
    }

    @Test("<!-- ctxmem-ignore RULE --> silences the next line's finding of that rule only")
    func inlineSuppression() async throws {
        let tree = try FixtureTree("audit")
        let report = try await Self.audit(tree)
        let silenced = Set(
            report.suppressed.filter { $0.reason == .inline }.map { "\($0.finding.path):\($0.finding.line ?? 0)" })
        #expect(silenced == ["CLAUDE.md:25", "docs/guide.md:31", "project_management/notes/kept.md:1"])

        // Naming another rule silences nothing; no rule silences every rule.
        let guide = try String(contentsOf: tree.url("docs/guide.md"), encoding: .utf8)
        try tree.write(
            "docs/guide.md",
            guide.replacingOccurrences(
                of: "<!-- ctxmem-ignore broken-link -->", with: "<!-- ctxmem-ignore broken-anchor -->"))
        #expect(
            Self.keys(try await Self.audit(tree).findings).contains(
                Key(rule: "broken-link", path: "docs/guide.md", line: 31)))
        try tree.write(
            "docs/guide.md",
            guide.replacingOccurrences(of: "<!-- ctxmem-ignore broken-link -->", with: "<!-- ctxmem-ignore -->"))
        #expect(
            !Self.keys(try await Self.audit(tree).findings).contains(
                Key(rule: "broken-link", path: "docs/guide.md", line: 31)))
    }

    @Test("a baseline absorbs known findings, by rule, file and target, whatever their line")
    func baseline() async throws {
        let tree = try FixtureTree("audit")
        let first = try await Self.audit(tree)
        let baseline = AuditBaseline(findings: first.findings)
        let again = try await Self.audit(tree, baseline: baseline)
        #expect(again.findings.isEmpty)
        #expect(again.suppressed.filter { $0.reason == .baseline }.count == first.findings.count)

        // Moving a known finding keeps it known; a new one, even a second copy of a known link, is reported.
        try tree.write(
            "docs/guide.md",
            "\n\n"
                + (try String(contentsOf: tree.url("docs/guide.md"), encoding: .utf8))
                .replacingOccurrences(
                    of: "- [missing](missing-page.md)", with: "- [missing](missing-page.md) [again](missing-page.md)"))
        try tree.append("docs/architecture.md", "\nSee [the new page](new-page.md).\n")
        let later = try await Self.audit(tree, baseline: baseline)
        #expect(
            Set(later.findings.map { "\($0.path) \($0.target ?? "")" }) == [
                "docs/guide.md missing-page.md", "docs/architecture.md new-page.md",
            ])
        #expect(later.findings.count == 2)
    }

    @Test("a baseline file is an earlier JSON report; a bad one is a clear error")
    func baselineFile() async throws {
        let tree = try FixtureTree("audit")
        let report = try await Self.audit(tree)
        let file = tree.url("baseline.json")
        try Data(try AuditRenderer.render(report, as: .json).utf8).write(to: file)
        let loaded = try AuditBaseline(contentsOf: file)
        #expect(loaded == AuditBaseline(findings: report.findings))

        try Data("{\"findings\": 3}".utf8).write(to: file)
        #expect(throws: AuditError.self) { try AuditBaseline(contentsOf: file) }
        #expect(throws: AuditError.self) { try AuditBaseline(contentsOf: tree.url("no-such.json")) }
    }

    @Test("--rule runs only the rules named; unknown ids are refused with a suggestion")
    func ruleSelection() async throws {
        let tree = try FixtureTree("audit")
        let report = try await Self.audit(tree, rules: [.brokenAnchor])
        #expect(Set(report.findings.map(\.rule)) == [.brokenAnchor])
        #expect(report.findings.count == 2)
        #expect(
            try AuditError.rules(["broken-link,broken-anchor", "orphan-document"]) == [
                .brokenLink, .brokenAnchor, .orphanDocument,
            ])
        #expect(throws: AuditError.unknownRule("broken-links", suggestion: "broken-link")) {
            try AuditError.rules(["broken-links"])
        }
    }

    @Test("import_depth in .ctxmem.yaml moves the depth limit")
    func importDepthSetting() async throws {
        let tree = try FixtureTree("audit")
        try tree.write(".ctxmem.yaml", "import_depth: 5\n")
        let rules = try await Self.audit(tree).findings.map(\.rule)
        #expect(!rules.contains(.importTooDeep))
    }

    @Test("a CLAUDE.md over 200 lines is oversized; 200 lines is not")
    func oversizedClaudeMD() async throws {
        let tree = try FixtureTree("audit")
        try tree.write("sub/CLAUDE.md", "# Sub\n" + String(repeating: "A line.\n", count: 199))
        #expect(
            !Self.keys(try await Self.audit(tree, rules: [.oversizedMemory]).findings).contains {
                $0.path == "sub/CLAUDE.md"
            })
        try tree.append("sub/CLAUDE.md", "One more.\n")
        let finding = try await Self.audit(tree, rules: [.oversizedMemory]).findings.first {
            $0.path == "sub/CLAUDE.md"
        }
        #expect(finding?.message.contains("has 201 lines") == true)
    }

    @Test("two paths to one file (a symlink) are not duplicate content")
    func symlinkIsNotACopy() async throws {
        let tree = try FixtureTree("audit")
        try tree.symlink("docs/alias.md", to: "copy-a.md")
        try tree.append("docs/guide.md", "\n[alias](alias.md)\n")
        let duplicates = try await Self.audit(tree, rules: [.duplicateContent]).findings
        #expect(duplicates.map(\.path) == ["docs/copy-b.md"])
    }

    @Test("stale-reference dates targets from one pass over git history, both dates in the message")
    func staleFromGit() async throws {
        let tree = try FixtureTree("audit")
        let git = GitRepository(root: tree.root)
        try git.run("init", "-q")
        try git.commit(["."], date: "2026-01-05T10:00:00Z")
        try tree.append("docs/architecture.md", "\nA later change.\n")
        try git.commit(["docs/architecture.md"], date: "2026-03-01T10:00:00Z")

        let report = try await Self.audit(tree, rules: [.staleReference], useGit: true)
        #expect(report.history == "git (2 commits)")
        let stale = report.findings.filter {
            $0.target?.hasPrefix("architecture.md") == true || $0.target == "docs/architecture.md"
        }
        #expect(Set(stale.map(\.path)) == ["docs/guide.md", "CLAUDE.md"])
        #expect(stale.allSatisfy { $0.message.contains("changed 2026-03-01, after this document (2026-01-05)") })
        #expect(stale.filter { $0.path == "docs/guide.md" }.count == 1, "one finding per document and target")

        // Bringing the document up to date clears it; an uncommitted edit counts from its file time.
        try tree.append("docs/guide.md", "\nReviewed.\n")
        try git.commit(["docs/guide.md"], date: "2026-03-02T10:00:00Z")
        let after = try await Self.audit(tree, rules: [.staleReference], useGit: true).findings
        #expect(!after.contains { $0.path == "docs/guide.md" && $0.target?.hasPrefix("architecture.md") == true })
        try tree.append("docs/architecture.md", "\nNot committed yet.\n")
        let dirty = try await Self.audit(tree, rules: [.staleReference], useGit: true).findings
        #expect(dirty.contains { $0.path == "docs/guide.md" && $0.target == "architecture.md" })
    }

    @Test("outside a git work tree, stale-reference uses file modification times")
    func staleFromFileTimes() async throws {
        let tree = try FixtureTree("audit")
        let old = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        for path in ["docs/guide.md", "docs/architecture.md", "CLAUDE.md"] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: tree.url(path).path)
        }
        try FileManager.default.setAttributes(
            [.modificationDate: old.addingTimeInterval(86_400 * 40)],
            ofItemAtPath: tree.url("docs/architecture.md").path)
        let report = try await Self.audit(tree, rules: [.staleReference], useGit: false)
        #expect(report.history == "file times")
        let guide = report.findings.filter {
            $0.path == "docs/guide.md" && $0.target?.hasPrefix("architecture.md") == true
        }
        #expect(guide.count == 1)
        #expect(guide.first?.message.contains("changed 2026-02-10, after this document (2026-01-01)") == true)
    }

    @Test("nothing outside the root is read: a link through a symlink that leaves the root is broken")
    func outsideRoot() async throws {
        let tree = try FixtureTree("audit")
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data("# Secret\n".utf8).write(to: outside.appendingPathComponent("secret.md"))
        try tree.symlink("docs/escape", to: outside.path)
        try tree.append("docs/guide.md", "\n[escape](escape/secret.md)\n")
        let findings = try await Self.audit(tree, rules: [.brokenLink]).findings
        #expect(findings.contains { $0.target == "escape/secret.md" })
    }
}

/// Drives git in a test tree with a fixed identity and commit dates, ignoring the user's config.
struct GitRepository {
    let root: URL

    func run(_ arguments: String..., date: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", root.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        for role in ["AUTHOR", "COMMITTER"] {
            environment["GIT_\(role)_NAME"] = "Test"
            environment["GIT_\(role)_EMAIL"] = "test@example.com"
            if let date { environment["GIT_\(role)_DATE"] = date }
        }
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "git \(arguments.joined(separator: " ")) failed")
    }

    func commit(_ paths: [String], date: String) throws {
        for path in paths { try run("add", "--", path) }
        try run("commit", "-q", "-m", "change", date: date)
    }
}

@Suite("Audit reports")
struct AuditReportTests {
    static let fixtures = TestPaths.fixtures

    @Test("SARIF of the audit fixture matches the golden file (root written as /audit-fixture)")
    func goldenSARIF() async throws {
        let tree = try FixtureTree("audit")
        var report = try await AuditTests.audit(tree)
        report.root = "/audit-fixture"
        let sarif = try AuditRenderer.render(report, as: .sarif)
        let golden = Self.fixtures.appendingPathComponent("sarif/expected.sarif")
        if ProcessInfo.processInfo.environment["CTXMEM_RECORD"] == "1" {
            try Data(sarif.utf8).write(to: golden)
            Issue.record("recorded \(golden.path); review it and run again without CTXMEM_RECORD")
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(
            sarif == expected,
            "SARIF changed; if intended, regenerate with CTXMEM_RECORD=1 swift test --filter goldenSARIF")
    }

    @Test("SARIF levels, URIs and fingerprints follow the spec")
    func sarifDetails() {
        let finding = Finding(
            rule: .brokenLink, severity: .error, path: "docs/a b#1.md", line: 3, column: 7,
            message: "m", target: "x.md")
        let note = Finding(rule: .orphanDocument, severity: .info, path: "p.md", line: 1, column: 1, message: "n")
        let report = AuditReport(
            root: "/r", rules: [.brokenLink, .orphanDocument], findings: [finding, note], suppressed: [],
            documents: 2, history: nil, seconds: 0)
        let log = AuditRenderer.SARIFLog(report)
        let results = log.runs[0].results
        #expect(results.map(\.level) == ["error", "note"])
        #expect(results[0].locations[0].physicalLocation.artifactLocation.uri == "docs/a%20b%231.md")
        #expect(results[0].ruleIndex == 0 && results[1].ruleIndex == 1)
        #expect(results[0].partialFingerprints["ctxmem/v1"] == finding.fingerprint)
        #expect(log.runs[0].originalUriBaseIds["%SRCROOT%"]?.uri == "file:///r/")
    }

    @Test("fingerprints ignore line and wording, and tell rule, file and target apart")
    func fingerprints() {
        let a = Finding(rule: .brokenLink, severity: .error, path: "a.md", line: 3, message: "x", target: "b.md")
        var moved = a
        moved.line = 40
        moved.message = "other words"
        #expect(a.fingerprint == moved.fingerprint)
        var other = a
        other.target = "c.md"
        #expect(a.fingerprint != other.fingerprint)
    }

    @Test("ctxmem-ignore comments: one rule, several, or all")
    func ignoreComments() {
        #expect(InlineSuppression.rules(onLine: "<!-- ctxmem-ignore broken-link -->") == ["broken-link"])
        #expect(
            InlineSuppression.rules(onLine: "text <!--ctxmem-ignore broken-link, broken-anchor-->") == [
                "broken-link", "broken-anchor",
            ])
        #expect(InlineSuppression.rules(onLine: "<!-- ctxmem-ignore -->") == [])
        #expect(InlineSuppression.rules(onLine: "<!-- ctxmem: tier=essential -->") == nil)
        #expect(InlineSuppression.rules(onLine: "ctxmem-ignore broken-link") == nil)
    }
}
