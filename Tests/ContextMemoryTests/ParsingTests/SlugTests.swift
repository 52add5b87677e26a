import Testing

@testable import ContextMemory

@Suite("Slug: GitHub heading anchors")
struct SlugTests {
    @Test(
        "Slug.make",
        arguments: [
            ("Hello, World! (v2)", "hello-world-v2"),
            ("Getting Started", "getting-started"),
            ("API v2.0", "api-v20"),
            ("C++ & C#", "c--c"),
            ("100% done", "100-done"),
            ("Café & crème", "café--crème"),
            ("Ünïcödé", "ünïcödé"),
            ("Сборка проекта", "сборка-проекта"),
            ("日本語 見出し", "日本語-見出し"),
            ("emoji 🎉 here", "emoji--here"),
            ("under_score -- dash", "under_score----dash"),
            ("a\u{301}", "a\u{301}"),  // a combining mark stays
            ("`code` heading", "code-heading"),
            ("", ""),
        ])
    func make(heading: String, slug: String) {
        #expect(Slug.make(heading) == slug)
    }

    @Test(
        "SlugCounter: repeats get -1, -2 ... and never collide with a written suffix",
        arguments: [
            (["A", "A", "A"], ["a", "a-1", "a-2"]),
            (["A", "A", "A-1", "A"], ["a", "a-1", "a-1-1", "a-2"]),
            (["x-1", "x", "x"], ["x-1", "x", "x-2"]),
            (["Intro", "Setup", "Intro"], ["intro", "setup", "intro-1"]),
            (["", ""], ["", "-1"]),
        ])
    func counter(headings: [String], slugs: [String]) {
        var counter = SlugCounter()
        #expect(headings.map { counter.unique($0) } == slugs)
    }
}
