import Testing

@testable import ContextMemory

@Suite("ContentHash")
struct ContentHashTests {
    @Test(
        "64-bit FNV-1a reference values",
        arguments: [
            ("", "cbf29ce484222325"),
            ("a", "af63dc4c8601ec8c"),
            ("foobar", "85944171f73967e8"),
        ])
    func fnv1a(text: String, hex: String) {
        #expect(ContentHash(text).hex == hex)
        #expect(ContentHash(Array(text.utf8)).hex == hex)
        #expect(Array(text.utf8).withUnsafeBytes { ContentHash($0) }.hex == hex)
    }

    @Test("hex is 16 digits and round-trips")
    func hex() {
        #expect(ContentHash(value: 1).hex == "0000000000000001")
        #expect(ContentHash(value: 1).description == "0000000000000001")
        #expect(ContentHash(hex: "85944171f73967e8") == ContentHash("foobar"))
        #expect(ContentHash(hex: "not hex") == nil)
    }

    @Test("different text, different hash; same text, same hash")
    func distinct() {
        #expect(ContentHash("# A\nbody") == ContentHash("# A\nbody"))
        #expect(ContentHash("# A\nbody") != ContentHash("# A\nbody "))
        #expect(ContentHash("é") != ContentHash("e\u{301}"))  // bytes, not canonical equivalence
    }
}
