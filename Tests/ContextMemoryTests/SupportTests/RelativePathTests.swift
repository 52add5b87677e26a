import Testing

@testable import ContextMemory

@Suite("RelativePath")
struct RelativePathTests {
    @Test(
        "normalize",
        arguments: [
            ("a/b.md", "a/b.md"),
            ("a/./b", "a/b"),
            ("a//b/", "a/b"),
            ("a/b/../c", "a/c"),
            ("a/..", ""),
            ("./a", "a"),
            ("/a/b", "a/b"),
            (".", ""),
            ("", ""),
            ("...", "..."),
            (".hidden/..x/x..", ".hidden/..x/x.."),
            ("..", nil),
            ("../a", nil),
            ("a/../..", nil),
            ("a/../../b", nil),
        ] as [(String, String?)])
    func normalize(path: String, expected: String?) {
        #expect(RelativePath.normalize(path) == expected)
    }

    @Test(
        "resolve against a folder",
        arguments: [
            ("x.md", "", "x.md"),
            ("x.md", "docs", "docs/x.md"),
            ("../x.md", "docs", "x.md"),
            ("./a/../b", "d", "d/b"),
            ("../x", "", nil),
            ("../../x", "docs", nil),
        ] as [(String, String, String?)])
    func resolve(relative: String, base: String, expected: String?) {
        #expect(RelativePath.resolve(relative, against: base) == expected)
    }

    @Test(
        "directory, basename, extension",
        arguments: [
            ("a/b/c.md", "a/b", "c.md", "md"),
            ("c.MD", "", "c.MD", "md"),
            ("a.tar.gz", "", "a.tar.gz", "gz"),
            (".env", "", ".env", ""),
            ("dir.d/file", "dir.d", "file", ""),
            ("x.", "", "x.", ""),
            ("docs/", "docs", "", ""),
        ])
    func components(path: String, directory: String, basename: String, fileExtension: String) {
        #expect(RelativePath.directory(of: path) == directory)
        #expect(RelativePath.basename(path) == basename)
        #expect(RelativePath.fileExtension(path) == fileExtension)
    }
}
