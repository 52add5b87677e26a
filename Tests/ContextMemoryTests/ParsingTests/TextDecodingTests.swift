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

    @Test(
        "invalid sequences become U+FFFD and the first one's line and byte column is recorded",
        arguments: [
            // (bytes, decoded text, line, column)
            ([0x41, 0x0A, 0x42, 0x43, 0xFF, 0x44], "A\nBC\u{FFFD}D", 2, 3),  // stray byte
            ([0x43, 0x61, 0x66, 0xE9, 0x0A], "Caf\u{FFFD}\n", 1, 4),  // Latin-1 é
            ([0x41, 0xC3], "A\u{FFFD}", 1, 2),  // truncated at the end
            ([0xC0, 0x80], "\u{FFFD}\u{FFFD}", 1, 1),  // overlong NUL
            ([0xED, 0xA0, 0x80], "\u{FFFD}\u{FFFD}\u{FFFD}", 1, 1),  // UTF-16 surrogate
            ([0x41, 0xE2, 0x82, 0x41], "A\u{FFFD}A", 1, 2),  // cut-off € sequence
            ([0x0A, 0x0A, 0xC3, 0xA9, 0xF5, 0x80], "\n\né\u{FFFD}\u{FFFD}", 3, 3),  // above U+10FFFF
            ([0xEF, 0xBB, 0xBF, 0x80], "\u{FFFD}", 1, 1),  // column counted after the BOM
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

    /// `text` as UTF-16 with its byte order mark.
    static func utf16(_ units: [UInt16], littleEndian: Bool) -> [UInt8] {
        (littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF])
            + units.flatMap { unit -> [UInt8] in
                littleEndian ? [UInt8(unit & 0xFF), UInt8(unit >> 8)] : [UInt8(unit >> 8), UInt8(unit & 0xFF)]
            }
    }

    @Test("UTF-16 with a byte order mark decodes, the mark dropped, surrogate pairs joined", arguments: [true, false])
    func utf16(littleEndian: Bool) {
        let text = "# Caf\u{E9} \u{65E5}\u{672C}\r\nkangaroo \u{1F998}\n"
        let decoded = TextDecoding.decode(Self.utf16(Array(text.utf16), littleEndian: littleEndian))
        #expect(decoded.text == text)
        #expect(decoded.encoding == (littleEndian ? .utf16LittleEndian : .utf16BigEndian))
        #expect(decoded.firstInvalid == nil)
        #expect(decoded.invalidFinding(path: "a.md") == nil)
        #expect(TextDecoding.decode([0xFF, 0xFE]).text == "")
    }

    @Test(
        "invalid UTF-16 becomes U+FFFD; the first problem's line and code-unit column are recorded",
        arguments: [
            // (code units, odd last byte, decoded text, line, column)
            ([0x41, 0x0A, 0x42, 0xD83E, 0x43], false, "A\nB\u{FFFD}C", 2, 2),  // high surrogate alone
            ([0xDD98, 0x41], false, "\u{FFFD}A", 1, 1),  // low surrogate first
            ([0x41, 0xD83E], false, "A\u{FFFD}", 1, 2),  // cut off at the end
            ([0x0A, 0x0A, 0xD83E, 0xDD98, 0xDD98], false, "\n\n\u{1F998}\u{FFFD}", 3, 3),  // pair, then a lone low half
            ([0x41, 0x42], true, "AB\u{FFFD}", 1, 3),  // odd number of bytes
        ] as [([UInt16], Bool, String, Int, Int)])
    func invalidUTF16(units: [UInt16], oddByte: Bool, text: String, line: Int, column: Int) throws {
        for littleEndian in [true, false] {
            let decoded = TextDecoding.decode(Self.utf16(units, littleEndian: littleEndian) + (oddByte ? [0x41] : []))
            #expect(decoded.text == text)
            let position = try #require(decoded.firstInvalid)
            #expect([position.line, position.column] == [line, column])
            let finding = try #require(decoded.invalidFinding(path: "w.md"))
            #expect(finding.rule == RuleID.invalidUTF16 && finding.line == line && finding.column == column)
        }
    }

    @Test("UTF-16 text is not binary; UTF-16 with a U+0000 and UTF-32 are")
    func utf16Binary() {
        let text = Array("plain text, the first 8 KiB and more\n".utf16)
        #expect(!TextDecoding.looksBinary(Self.utf16(text, littleEndian: true)))
        #expect(!TextDecoding.looksBinary(Self.utf16(text, littleEndian: false)))
        #expect(TextDecoding.looksBinary(Self.utf16(text + [0], littleEndian: true)))
        #expect(!TextDecoding.looksBinary(Self.utf16(Array(repeating: 0x41, count: 4096) + [0], littleEndian: true)))
        // UTF-32LE: FF FE 00 00, then 'A' 00 00 00.
        #expect(TextDecoding.looksBinary([0xFF, 0xFE, 0x00, 0x00, 0x41, 0x00, 0x00, 0x00]))
    }

    @Test("the UTF-8 finding keeps its rule and message")
    func utf8Finding() throws {
        let finding = try #require(TextDecoding.decode([0x41, 0xFF]).invalidFinding(path: "l.md"))
        #expect(
            finding
                == Finding(
                    rule: .invalidUTF8, severity: .warning, path: "l.md", line: 1, column: 2,
                    message: "invalid UTF-8 (first bad byte here); decoded with U+FFFD replacement characters"))
    }
}
