import Testing

@testable import ContextMemory

@Suite("DocumentKind")
struct DocumentKindTests {
    @Test(
        "classify by path",
        arguments: [
            ("CLAUDE.md", DocumentKind.claudeMD),
            ("CLAUDE.local.md", .claudeMD),
            (".claude/CLAUDE.md", .claudeMD),
            ("services/api/CLAUDE.md", .claudeMD),
            ("AGENTS.md", .agentsMD),
            ("pkg/AGENTS.md", .agentsMD),
            (".claude/rules/style.md", .rule),
            (".claude/rules/frontend/react.md", .rule),
            ("pkg/.claude/rules/x.md", .rule),
            (".claude/agents/reviewer.md", .agent),
            (".claude/agents/team/reviewer.md", .agent),
            (".claude/skills/pdf/SKILL.md", .skill),
            (".claude/skills/pdf/sub/SKILL.md", .skill),
            ("project_management/plan.md", .projectManagement),
            ("project_management/archive/2023/notes.txt", .projectManagement),
            ("project_management/site/index.html", .projectManagement),
            ("project_management/data.xml", .projectManagement),
        ])
    func kinds(path: String, kind: DocumentKind) {
        #expect(DocumentKind.classify(path) == kind)
    }

    @Test(
        "paths that are memory only by an include glob or a reference",
        arguments: [
            "README.md", "docs/guide.md", "claude.md", "CLAUDE.md.bak", "agents.md",
            ".claude/rules/notes.txt", ".claude/agents/helper.json", ".claude/skills/pdf/reference.md",
            ".claude/rules.md", ".claude/settings.json", "project_management", "project_management/diagram.png",
            "docs/project_management/plan.md", "",
        ])
    func unclassified(path: String) {
        #expect(DocumentKind.classify(path) == nil)
    }

    @Test("Claude Code expands imports only in CLAUDE.md files and rules")
    func evaluatesImports() {
        #expect(DocumentKind.allCases.filter(\.evaluatesImports) == [.claudeMD, .rule])
    }

    @Test("choices list every spelling")
    func choices() {
        #expect(DocumentKind.choices == "claude-md|agents-md|rule|agent|skill|project-management|included|referenced")
    }

    @Test(
        "file formats by extension",
        arguments: [
            ("a.md", Document.Format.markdown, true), ("a.MDX", .markdown, true), ("a.mdc", .markdown, true),
            ("a.markdown", .markdown, true), ("a.html", .html, true), ("a.htm", .html, true), ("a.xhtml", .html, true),
            ("a.xml", .xml, true), ("a.txt", .text, true), ("a.rst", .text, true), ("a.adoc", .text, true),
            ("a.png", .markdown, false), ("Makefile", .markdown, false),
        ])
    func formats(path: String, format: Document.Format, isText: Bool) {
        #expect(MemoryFormats.format(of: path) == format)
        #expect(MemoryFormats.isText(path) == isText)
    }
}
