import Testing

@testable import ContextMemory

@Suite("Snippets are bounded")
struct SnippetTests {
    private func snippet(_ text: String, _ query: String) throws -> String {
        Snippet.make(text: text, query: try SearchQuery(parsing: query))
    }

    /// The section's own text in a snippet: marks and the ellipses at either end left out.
    private func ownText(_ snippet: String) -> String {
        var text = snippet.replacingOccurrences(of: SearchHit.highlightOpen, with: "")
            .replacingOccurrences(of: SearchHit.highlightClose, with: "")
        if text.hasPrefix("…") { text.removeFirst() }
        if text.hasSuffix("…") { text.removeLast() }
        return text
    }

    @Test("ordinary text is excerpted as before: words around the first match")
    func ordinary() throws {
        let text = "The staging cluster runs the VPC peering controller, which syncs routes every minute"
        #expect(try snippet(text, "VPC peering") == text.replacingOccurrences(of: "VPC peering", with: "«VPC peering»"))
        let long = (1...40).map { "w\($0)" }.joined(separator: " ")
        #expect(
            try snippet(long, "w20")
                == "…w14 w15 w16 w17 w18 w19 «w20» w21 w22 w23 w24 w25 w26 w27 w28 w29 w30 w31 w32 w33 w34 w35 w36 w37…"
        )
    }

    @Test("a 1 MB line without a space gives a bounded snippet, wherever the match is")
    func hugeWord() throws {
        let word = String(repeating: "x", count: 1_000_000)
        for (text, query) in [
            ("needle \(word)", "needle"), ("\(word) needle", "needle"), (word, "xxx*"),
            ("intro \(word) needle", "zzz"), ("a b c d e f \(word)", "xxxx*"),
        ] {
            let result = try snippet(text, query)
            #expect(ownText(result).count <= 300, "\(query): \(result.count) characters")
            #expect(result.count <= 310)
        }
        #expect(try snippet("needle \(word)", "needle").hasPrefix("«needle»"))
        let inside = try snippet(word, "xxx*")
        #expect(inside == "«" + String(repeating: "x", count: 300) + "»…", "the match itself is cut")
    }

    @Test("a huge word before the match is left out, not shown")
    func hugeWordBefore() throws {
        let text = "start " + String(repeating: "y", count: 5_000) + " the needle here"
        #expect(try snippet(text, "needle") == "…the «needle» here")
    }

    @Test("a long run of punctuation around the match is cut at a whole word")
    func punctuationRun() throws {
        let rule = String(repeating: "=", count: 40_000)
        let result = try snippet("title needle \(rule) after", "needle")
        #expect(result == "title «needle»…")
    }

    @Test("a long run of matches stays within the bound")
    func runOfMatches() throws {
        let text = String(repeating: "echo ", count: 50_000)
        let result = try snippet(text, "echo")
        #expect(ownText(result).count <= 300)
        #expect(result.hasPrefix("«echo echo"))
        let longWords = String(repeating: String(repeating: "z", count: 90) + " ", count: 1_000)
        let prefixed = try snippet(longWords, "zz*")
        #expect(ownText(prefixed).count <= 300)
        #expect(prefixed.hasPrefix("«zzz") && prefixed.hasSuffix("»…"))
    }

    @Test(
        "a cut never splits a character: marks stay on their letters",
        arguments: [
            "e\u{301}",  // decomposed é: a word of letters and marks
            "o\u{308}\u{331}",  // o with two combining marks
        ])
    func graphemes(unit: String) throws {
        let word = String(repeating: unit, count: 2_000)
        for text in [word, "lead " + word, word + " tail"] {
            let result = try snippet(text, String(word.prefix(2)) + "*")
            let own = ownText(result)
            #expect(own.count <= 300)
            let cut = try #require(own.split(separator: " ").first { $0 != "lead" && $0 != "tail" })
            #expect(cut.count > 200)
            for character in cut {
                #expect(
                    String(character) == unit,
                    "a character cut in two: \(character.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }
}
