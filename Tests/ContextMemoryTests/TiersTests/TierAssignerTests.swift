import Testing

@testable import ContextMemory

private func assigned(
    _ text: String, path: String = "docs/notes.md", kind: DocumentKind = .projectManagement,
    rules: [Configuration.TierRule] = []
) -> Document {
    var document = MarkdownParser.parse(text: text, path: path, rootPath: "/repo")
    TierAssigner(rules: rules).assign(&document, kind: kind)
    return document
}

/// `title: tier (reason)` for every section.
private func tiers(
    _ text: String, path: String = "docs/notes.md", kind: DocumentKind = .projectManagement,
    rules: [Configuration.TierRule] = []
) -> [String] {
    assigned(text, path: path, kind: kind, rules: rules).sections.map {
        "\($0.title): \($0.tier.rawValue) (\($0.tierReason))"
    }
}

@Suite("TierAssigner")
struct TierAssignerTests {
    @Test("a marker before a heading sets its whole subtree, not its siblings")
    func headingMarkerScope() {
        let text = """
            # Guide
            <!-- ctxmem: tier=operational -->
            ## Deploy
            ### Steps
            #### Detail
            ## Design
            # Next
            """
        #expect(
            tiers(text) == [
                "Guide: detailed (project_management default)",
                "Deploy: operational (marker at line 2)",
                "Steps: operational (marker at line 2)",
                "Detail: operational (marker at line 2)",
                "Design: detailed (project_management default)",
                "Next: detailed (project_management default)",
            ])
    }

    @Test("a marker may be separated from its heading by blank lines; an inner marker wins inside its subtree")
    func nestedMarkers() {
        let text = """
            <!-- ctxmem: tier=essential -->

            # A
            <!-- ctxmem: tier=operational -->

            ## B
            ### C
            ## D
            """
        #expect(
            tiers(text) == [
                ": essential (file marker at line 1)",
                "A: essential (file marker at line 1)",
                "B: operational (marker at line 4)",
                "C: operational (marker at line 4)",
                "D: essential (file marker at line 1)",
            ])
    }

    @Test("a marker applies to the heading after it however many blank lines come between")
    func markerAfterBlankLines() {
        #expect(
            tiers("# A\n<!-- ctxmem: tier=operational -->\n\n\n\n\n## B\n## C\n") == [
                "A: detailed (project_management default)",
                "B: operational (marker at line 2)",
                "C: detailed (project_management default)",
            ])
    }

    @Test("a heading marker beats the file marker, which beats frontmatter, which beats config rules")
    func precedence() {
        let text = """
            ---
            tier: detailed
            ---
            <!-- ctxmem: tier=operational -->
            # A
            <!-- ctxmem: tier=essential -->
            ## B
            """
        let rules = [Configuration.TierRule(path: "docs/**", tier: .essential)]
        #expect(
            tiers(text, rules: rules) == [
                ": operational (file marker at line 4)",
                "A: operational (file marker at line 4)",
                "B: essential (marker at line 6)",
            ])
        #expect(
            tiers("---\ntier: Operational\n---\n# A\n## Commands\n", rules: rules) == [
                "A: operational (frontmatter tier)",
                "Commands: operational (frontmatter tier)",
            ])
        #expect(
            tiers("---\ntier: essential\n---\n# History\n", rules: rules) == [
                "History: essential (frontmatter tier)"
            ])
    }

    @Test("the first matching tier_rules entry applies, before operational headings and defaults")
    func configRules() {
        let rules = [
            Configuration.TierRule(path: "project_management/archive/**", tier: .operational),
            Configuration.TierRule(path: "project_management/**", tier: .essential),
            Configuration.TierRule(path: "*.md", tier: .detailed),
        ]
        #expect(
            tiers("# A\n## Commands\n", path: "project_management/archive/2023/q1.md", rules: rules) == [
                "A: operational (config rule 'project_management/archive/**')",
                "Commands: operational (config rule 'project_management/archive/**')",
            ])
        #expect(
            tiers("# A\n## Commands\n", path: "project_management/plan.md", rules: rules) == [
                "A: essential (config rule 'project_management/**')",
                "Commands: essential (config rule 'project_management/**')",
            ])
        #expect(
            tiers("# A\n", path: "CLAUDE.md", kind: .claudeMD, rules: rules) == [
                "A: detailed (config rule '*.md')"
            ])
    }

    @Test(
        "operational headings set their subtree",
        arguments: [
            "Commands", "Useful commands", "Runbook", "Troubleshooting", "Changelog", "History", "Archive",
            "Archived decisions", "Release history (2024)",
        ])
    func operationalHeadings(title: String) {
        #expect(
            tiers("# Guide\n## \(title)\n### Inner\n## Other\n", path: "CLAUDE.md", kind: .claudeMD) == [
                "Guide: essential (root memory file)",
                "\(title): operational (heading '\(title)')",
                "Inner: operational (heading '\(title)')",
                "Other: essential (root memory file)",
            ])
    }

    @Test(
        "headings that only contain an operational word inside another word stay default",
        arguments: [
            "Commandments", "Historical context", "Archiver design", "Overview",
        ])
    func notOperationalHeadings(title: String) {
        #expect(tiers("# \(title)\n", path: "CLAUDE.md", kind: .claudeMD) == ["\(title): essential (root memory file)"])
    }

    @Test(
        "defaults by kind and path",
        arguments: [
            ("CLAUDE.md", DocumentKind.claudeMD, "---\n---\n", Tier.essential, "root memory file"),
            ("CLAUDE.local.md", .claudeMD, "", .essential, "root memory file"),
            (".claude/CLAUDE.md", .claudeMD, "", .essential, "root memory file"),
            ("services/api/CLAUDE.md", .claudeMD, "", .detailed, "nested CLAUDE.md (loaded on demand)"),
            (".claude/agents/reviewer.md", .agent, "", .essential, "agent definition"),
            (".claude/rules/style.md", .rule, "", .essential, "rule loaded at launch"),
            (
                ".claude/rules/api.md", .rule, "---\npaths: [\"src/api/**\"]\n---\n", .detailed,
                "rule with paths: (conditional)"
            ),
            (".claude/skills/pdf/SKILL.md", .skill, "", .detailed, "skill body (read when relevant)"),
            ("project_management/plan.md", .projectManagement, "", .detailed, "project_management default"),
            ("AGENTS.md", .agentsMD, "", .detailed, "default"),
            ("docs/x.md", .included, "", .detailed, "default"),
            ("docs/y.md", .referenced, "", .detailed, "default"),
            ("project_management/archive/old.md", .projectManagement, "", .operational, "under archive/"),
            ("docs/Runbooks/deploy.md", .included, "", .operational, "under runbooks/"),
            ("archives/CLAUDE.md", .claudeMD, "", .operational, "under archives/"),
        ] as [(String, DocumentKind, String, Tier, String)])
    func defaults(path: String, kind: DocumentKind, frontmatter: String, tier: Tier, reason: String) {
        let document = assigned(frontmatter + "# Title\ntext\n", path: path, kind: kind)
        #expect(document.sections.map(\.tier) == [tier])
        #expect(document.sections.map(\.tierReason) == [reason])
    }

    @Test("a frontmatter tier that is not a tier is a finding and is ignored")
    func invalidFrontmatterTier() {
        for value in ["urgent", "[essential]", "3"] {
            let document = assigned("---\ntier: \(value)\n---\n# A\n", path: "CLAUDE.md", kind: .claudeMD)
            #expect(document.sections.map(\.tier) == [.essential])
            #expect(document.findings.map(\.rule) == [RuleID.invalidFrontmatter])
            #expect(document.findings.first?.line == 2)
            #expect(document.findings.first?.message.contains("essential|detailed|operational") == true)
        }
    }

    @Test("the preamble takes the file's tier")
    func preamble() {
        #expect(
            tiers("intro\n# Commands\n", path: "CLAUDE.md", kind: .claudeMD) == [
                ": essential (root memory file)",
                "Commands: operational (heading 'Commands')",
            ])
    }
}
