import Testing
@testable import ContextMemory

@Suite("TextDecoding")
struct TextDecodingTests {
    @Test("valid UTF-8 decodes as is; a BOM is dropped")
    func valid() {
        let plain = TextDecoding.decode(Array("# Café 日本\n".utf8))
        #expect(plain.text == "# Café 日本\n")
        #expect(plain.firstInvalid == nil)
        let bom = TextDecoding.decode([0xEF, 0xBB, 0xBF] + Array("# A".utf8))
        #expect(bom.text == "# A")
        #expect(bom.firstInvalid == nil)
    }

    @Test("invalid sequences become U+FFFD and the first one's line and byte column is recorded", arguments: [
        // (bytes, decoded text, line, column)
        ([0x41, 0x0A, 0x42, 0x43, 0xFF, 0x44], "A\nBC\u{FFFD}D", 2, 3),         // stray byte
        ([0x43, 0x61, 0x66, 0xE9, 0x0A], "Caf\u{FFFD}\n", 1, 4),                 // Latin-1 é
        ([0x41, 0xC3], "A\u{FFFD}", 1, 2),                                       // truncated at the end
        ([0xC0, 0x80], "\u{FFFD}\u{FFFD}", 1, 1),                                // overlong NUL
        ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}", 1, 1),                  // UTF-16 surrogate
        ([0x41, 0xE2, 0x82, 0x41], "A\u{FFFD}A", 1, 2),                          // cut-off € sequence
        ([0x0A, 0x0A, 0xC3, 0xA9, 0xF5, 0x80], "\n\né\u{FFFD}\u{FFFD}", 3, 3),  // above U+10FFFF
        ([0xEF, 0xBB, 0xBF, 0x80], "\u{FFFD}", 1, 1),                            // column counted after the BOM
    ] as [([UInt8], String, Int, Int)])
    func invalid(bytes: [UInt8], text: String, line: Int, column: Int) throws {
        let decoded = TextDecoding.decode(bytes)
        #expect(decoded.text == text)
        let position = try #require(decoded.firstInvalid)
        #expect([position.line, position.column] == [line, column])
    }

    @Test("binary: a NUL byte in the first 8 KiB, as git decides")
    func binary() {
        #expect(TextDecoding.looksBinary([0x89, 0x50, 0x4E, 0x47, 0x00]))
        #expect(!TextDecoding.looksBinary(Array("plain text\n".utf8)))
        #expect(!TextDecoding.looksBinary([]))
        #expect(TextDecoding.looksBinary(Array(repeating: 0x41, count: 8191) + [0]))
        #expect(!TextDecoding.looksBinary(Array(repeating: 0x41, count: 8192) + [0]))
    }
}
