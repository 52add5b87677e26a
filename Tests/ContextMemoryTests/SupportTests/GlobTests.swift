import Testing

@testable import ContextMemory

@Suite("Glob")
struct GlobTests {
    @Test(
        "matches",
        arguments: [
            // A pattern without `/` matches the last component anywhere.
            ("*.md", "a.md", true),
            ("*.md", "docs/deep/a.md", true),
            ("*.md", "a.txt", false),
            ("*.md", "a.md.bak", false),
            ("*.md", "docs.md/a.txt", false),
            ("CLAUDE.md", "x/y/CLAUDE.md", true),
            ("CLAUDE.md", "CLAUDE.md.bak", false),
            ("CLAUDE.md", "claude.md", false),  // case-sensitive
            ("*.draft.md", "notes/x.draft.md", true),
            // With `/`, the pattern is anchored at the root and `*` stays inside one segment.
            ("docs/*.md", "docs/a.md", true),
            ("docs/*.md", "docs/sub/a.md", false),
            ("docs/*.md", "other/docs/a.md", false),
            ("docs/*", "docs/a/b", false),
            ("./docs/*.md", "docs/a.md", true),
            // `**` is zero or more whole segments.
            ("docs/**/*.md", "docs/a.md", true),
            ("docs/**/*.md", "docs/x/y/a.md", true),
            ("docs/**/*.md", "docs/x/a.txt", false),
            ("**/*.md", "a.md", true),
            ("**/*.md", "x/y/a.md", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/x/c", false),
            ("vendor/**", "vendor/a/b.c", true),
            ("vendor/**", "vendors/a", false),
            ("**", "anything/at/all", true),
            // A trailing `/` means everything below that folder.
            ("archive/", "archive/a.md", true),
            ("archive/", "archive/x/y.md", true),
            ("archive/", "archives/a.md", false),
            ("project_management/archive/", "project_management/archive/2023/q1.md", true),
            // `?` and classes.
            ("?.md", "a.md", true),
            ("?.md", "ab.md", false),
            ("[abc].md", "b.md", true),
            ("[abc].md", "d.md", false),
            ("[a-c].md", "c.md", true),
            ("[!a-c].md", "d.md", true),
            ("[!a-c].md", "a.md", false),
            ("[^a].md", "b.md", true),
            ("[]].md", "].md", true),
            ("[x.md", "[x.md", true),  // an unclosed bracket is literal
            // `*` backtracks.
            ("a*b*c.md", "aXbYc.md", true),
            ("a*b*c.md", "abc.md", true),
            ("a*b*c.md", "acb.md", false),
            ("*", "", false),
        ])
    func matches(pattern: String, path: String, expected: Bool) {
        #expect(Glob(pattern).matches(path) == expected)
    }

    @Test("the pattern is kept as written")
    func description() {
        #expect(Glob("./docs/").description == "./docs/")
        #expect(Glob("./docs/") != Glob("docs/"))
    }
}
