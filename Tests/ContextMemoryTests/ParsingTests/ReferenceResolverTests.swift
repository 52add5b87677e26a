import Testing

@testable import ContextMemory

@Suite("ReferenceResolver")
struct ReferenceResolverTests {
    private let resolver = ReferenceResolver(documentPath: "docs/guide.md", rootPath: "/repo")

    @Test(
        "URL schemes",
        arguments: [
            ("https://x.y", true), ("http:x", true), ("mailto:a@b.c", true), ("vscode:open", true),
            ("git+ssh:host", true),
            ("a.md", false), ("C:/x.md", false), ("crd:sync", true), ("1ab:x", false), (":x", false), ("a b:c", false),
        ])
    func scheme(text: String, hasScheme: Bool) {
        #expect(ReferenceResolver.hasScheme(text) == hasScheme)
    }

    @Test(
        "link destinations",
        arguments: [
            ("x.md", "docs/x.md", nil, Reference.Status.inRoot, false),
            ("./x.md", "docs/x.md", nil, .inRoot, false),
            ("../x.md", "x.md", nil, .inRoot, false),
            ("/top/x.md", "top/x.md", nil, .inRoot, false),
            ("x.md#A%20b", "docs/x.md", "A b", .inRoot, false),
            ("my%20file.md", "docs/my file.md", nil, .inRoot, false),
            ("x.md?raw=1", "docs/x.md", nil, .inRoot, false),
            ("#top", "docs/guide.md", "top", .inRoot, true),
            ("~/x.md", nil, nil, .home, false),
            ("../../x.md", nil, nil, .outsideRoot, false),
            ("https://x.y/a.md#f", nil, nil, .external, false),
            ("//cdn.example/a.js", nil, nil, .external, false),
        ] as [(String, String?, String?, Reference.Status, Bool)])
    func link(written: String, path: String?, fragment: String?, status: Reference.Status, isAnchor: Bool) {
        let resolved = resolver.resolveLink(written)
        #expect(resolved.path == path)
        #expect(resolved.fragment == fragment)
        #expect(resolved.status == status)
        #expect(resolved.isAnchor == isAnchor)
    }

    @Test(
        "import targets",
        arguments: [
            ("x.md", "docs/x.md", nil, Reference.Status.inRoot),
            ("x.md#Part", "docs/x.md", "Part", .inRoot),
            ("my\\ file.md", "docs/my file.md", nil, .inRoot),
            ("~", nil, nil, .home),
            ("~/x.md", nil, nil, .home),
            ("/repo/a/b.md", "a/b.md", nil, .inRoot),
            ("/repo//a/./b.md", "a/b.md", nil, .inRoot),
            ("/repo", "", nil, .inRoot),
            ("/repo2/a.md", nil, nil, .outsideRoot),
            ("/etc/passwd", nil, nil, .outsideRoot),
            ("../../x.md", nil, nil, .outsideRoot),
            // Percent signs are not decoded in imports: Claude Code reads the path as written.
            ("my%20file.md", "docs/my%20file.md", nil, .inRoot),
        ] as [(String, String?, String?, Reference.Status)])
    func importTarget(written: String, path: String?, fragment: String?, status: Reference.Status) {
        let resolved = resolver.resolveImport(written)
        #expect(resolved.path == path)
        #expect(resolved.fragment == fragment)
        #expect(resolved.status == status)
    }

    @Test("a root path with a trailing slash is the same root")
    func trailingSlashRoot() {
        let resolver = ReferenceResolver(documentPath: "CLAUDE.md", rootPath: "/repo/")
        #expect(resolver.resolveImport("/repo/a.md").path == "a.md")
    }

    @Test("path mentions: ./ and ../ from the file, others from the root")
    func mentions() {
        #expect(resolver.resolveMention("src/a.py") == "src/a.py")
        #expect(resolver.resolveMention("./a.py") == "docs/a.py")
        #expect(resolver.resolveMention("../a.py") == "a.py")
        #expect(resolver.resolveMention("../../a.py") == nil)
    }
}
