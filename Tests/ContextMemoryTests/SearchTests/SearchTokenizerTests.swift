import Testing

@testable import ContextMemory

@Suite("SearchTokenizer")
struct SearchTokenizerTests {
    @Test(
        "tokens",
        arguments: [
            // Identifiers split at ASCII punctuation, so a phrase of their words finds them as typed.
            ("ADR-0005", ["adr", "0005"]),
            ("crd:sync", ["crd", "sync"]),
            ("VPC_peering", ["vpc", "peering"]),
            ("netbox_hedgehog/models.py", ["netbox", "hedgehog", "models", "py"]),
            ("naïve co-op v2.0", ["naive", "co", "op", "v2", "0"]),
            ("  \t\n", []),
            ("!@#$%^&*()", []),
            // Latin diacritics folded, composed or decomposed; other scripts lowercased.
            ("Café crème", ["cafe", "creme"]),
            ("Cafe\u{301}", ["cafe"]),
            ("İstanbul", ["istanbul"]),
            ("Việt Nam", ["viet", "nam"]),
            ("Vie\u{323}\u{302}t", ["viet"]),
            ("Straße ẞ", ["strasse", "ss"]),
            ("ΑΒΓ δ", ["αβγ", "δ"]),
            ("Сборка", ["сборка"]),
            ("١٢٣ x½", ["١٢٣", "x½"]),
            // CJK and Hangul: one token a character, so a phrase finds a word inside a sentence.
            ("日本語テキスト", ["日", "本", "語", "テ", "キ", "ス", "ト"]),
            ("한국어", ["한", "국", "어"]),
            ("abc日本def", ["abc", "日", "本", "def"]),
            ("ｶﾀｶﾅ", ["ｶ", "ﾀ", "ｶ", "ﾅ"]),
            // Emoji and symbols separate.
            ("emoji🎉x", ["emoji", "x"]),
            ("a→b", ["a", "b"]),
            ("\u{301}a", ["a"]),
        ])
    func tokens(text: String, expected: [String]) {
        #expect(SearchTokenizer.tokens(text) == expected)
    }

    private func scanned(_ bytes: [UInt8], limit: Int = .max) -> [String] {
        var result: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            SearchTokenizer.scan(buffer) { token, start, end in
                result.append("\(String(decoding: token, as: UTF8.self))@\(start)-\(end)")
                return result.count < limit
            }
        }
        return result
    }

    @Test("tokens carry their byte range in the source")
    func byteRanges() {
        #expect(scanned(Array("Ab cd-é 日x".utf8)) == ["ab@0-2", "cd@3-5", "e@6-8", "日@9-12", "x@12-13"])
    }

    @Test("invalid UTF-8 separates tokens and never traps")
    func invalidBytes() {
        #expect(scanned([0x61, 0xFF, 0x62, 0xC3, 0x28, 0x63, 0xE2, 0x82]) == ["a@0-1", "b@2-3", "c@5-6"])
    }

    @Test("scanning stops when the callback says so")
    func stops() {
        #expect(scanned(Array("one two three four".utf8), limit: 2) == ["one@0-3", "two@4-7"])
        #expect(scanned(Array("日本語".utf8), limit: 1) == ["日@0-3"])
    }

    @Test("isIdeographic covers the scripts without spaces")
    func ideographic() {
        for scalar in ["日", "あ", "ア", "한", "ｱ", "𠀋"] {
            #expect(SearchTokenizer.isIdeographic(scalar.unicodeScalars.first!))
        }
        for scalar in ["a", "é", "я", "١"] {
            #expect(!SearchTokenizer.isIdeographic(scalar.unicodeScalars.first!))
        }
    }
}
