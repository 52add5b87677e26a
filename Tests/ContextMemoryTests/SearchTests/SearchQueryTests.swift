import Foundation
import Testing

@testable import ContextMemory

@Suite("SearchQuery")
struct SearchQueryTests {
    @Test(
        "queries become FTS5 expressions of quoted phrases",
        arguments: [
            ("vpc", #"("vpc")"#),
            ("vpc peering", #"("vpc") AND ("peering")"#),
            (#"vpc "peering api" OR sync* -legacy"#, #"(("vpc") AND ("peering api" OR "sync" *)) NOT ("legacy")"#),
            ("a OR b OR c d", #"("a" OR "b" OR "c") AND ("d")"#),
            ("x a OR b", #"("x") AND ("a" OR "b")"#),
            ("ADR-0005", #"("adr 0005")"#),
            ("crd:sync", #"("crd sync")"#),
            ("netbox_hedgehog/models.py", #"("netbox hedgehog models py")"#),
            ("日本語", #"("日 本 語")"#),
            ("Café", #"("cafe")"#),
            (#""OR""#, #"("or")"#),
            ("or and not near", #"("or") AND ("and") AND ("not") AND ("near")"#),
            ("a* b**", #"("a" *) AND ("b" *)"#),
            (#""a*""#, #"("a")"#),  // no prefix inside quotes
            (#"-"x y" z"#, #"(("z")) NOT ("x y")"#),
            ("a -b -c", #"((("a")) NOT ("b")) NOT ("c")"#),
            ("a -OR", #"(("a")) NOT ("or")"#),  // -OR excludes the word
            ("a ... OR b", #"("a" OR "b")"#),  // punctuation alone is dropped
            ("a - b", #"("a") AND ("b")"#),  // a lone dash is not an exclusion
            (#"a"b""#, #"("a") AND ("b")"#),
            ("  spaced\tout  ", #"("spaced") AND ("out")"#),
        ])
    func expression(query: String, expected: String) throws {
        #expect(FTS5Query.expression(try SearchQuery(parsing: query)) == expected)
    }

    @Test("terms, groups and exclusions")
    func structure() throws {
        let query = try SearchQuery(parsing: "ADR-0005 sync* OR x -old")
        #expect(
            query.groups == [
                [.init(tokens: ["adr", "0005"], isPrefix: false)],
                [.init(tokens: ["sync"], isPrefix: true), .init(tokens: ["x"], isPrefix: false)],
            ])
        #expect(query.exclusions == [.init(tokens: ["old"], isPrefix: false)])
    }

    @Test(
        "malformed queries are errors that say what is wrong",
        arguments: [
            ("", "no words"),
            ("   ", "no words"),
            ("-", "no words"),
            ("***", "no words"),
            ("-b", "only excludes"),
            ("-b -c", "only excludes"),
            ("a OR", "OR needs a word on each side"),
            ("OR a", "OR needs a word on each side"),
            ("a OR OR b", "OR needs a word on each side"),
            ("a OR ***", "OR needs a word on each side"),
            ("a OR -b", "excluded term"),
            ("a -b OR c", "excluded term"),
            (#""unclosed"#, "quote at character 1 is not closed"),
            (#"ok "open"#, "quote at character 4 is not closed"),
            (#"a"b"#, "quote at character 2 is not closed"),
        ])
    func malformed(query: String, message: String) {
        #expect {
            try SearchQuery(parsing: query)
        } throws: { error in
            guard case .malformedQuery(let detail) = error as? SearchError else { return false }
            return detail.contains(message)
        }
    }

    @Test("length, term and word limits")
    func limits() throws {
        _ = try SearchQuery(parsing: String(repeating: "a", count: SearchQuery.maxLength))
        #expect(throws: SearchError.malformedQuery("the query is 4097 characters long; the limit is 4096")) {
            try SearchQuery(parsing: String(repeating: "a", count: SearchQuery.maxLength + 1))
        }
        // Characters as JSON Schema counts them (code points): "é" written as e + combining accent is two.
        _ = try SearchQuery(parsing: String(repeating: "e\u{301}", count: SearchQuery.maxLength / 2))
        #expect(throws: SearchError.self) {
            try SearchQuery(parsing: String(repeating: "e\u{301}", count: SearchQuery.maxLength / 2) + "x")
        }
        // Long phrases are bounded by their words: 512 in all, then a clear error.
        let phrase = { (words: Int) in "\"" + (1...words).map { "w\($0)" }.joined(separator: " ") + "\"" }
        #expect(
            try SearchQuery(parsing: phrase(SearchQuery.maxTokens)).groups[0][0].tokens.count == SearchQuery.maxTokens)
        #expect(
            throws: SearchError.malformedQuery(
                "the query has more than 512 words in all (a phrase counts each of its words); search for a shorter phrase"
            )
        ) {
            try SearchQuery(parsing: phrase(SearchQuery.maxTokens - 1) + " two-words")
        }
        let words = (1...SearchQuery.maxTerms).map { "w\($0)" }
        #expect(try SearchQuery(parsing: words.joined(separator: " ")).groups.count == SearchQuery.maxTerms)
        #expect(throws: SearchError.malformedQuery("the query has more than 64 terms")) {
            try SearchQuery(parsing: (words + ["one-more"]).joined(separator: " "))
        }
    }

    @Test("error descriptions")
    func descriptions() {
        #expect(SearchError.malformedQuery("x").description == "malformed query: x")
        #expect(SearchError.invalidOption("bad --limit").description == "bad --limit")
    }
}

/// Whatever is typed, the query either parses into an expression whose phrases hold only letters,
/// digits and spaces, or is rejected as malformed: user text never reaches FTS5 as syntax.
@Suite("SearchQuery: arbitrary input")
struct SearchQueryFuzzTests {
    static let pieces: [String] = [
        "\"", "*", "-", "(", ")", ":", "^", "{", "}", "[", "]", "'", "\\", "/", "@", "#", "$", "%", "&", "|", "!",
        "~", "<", ">", "+", ",", ";", "=", "?", ".", "`", " ", "  ", "\t", "\n",
        "OR", "or", "AND", "NOT", "NEAR", "NEAR(a b, 2)", "vpc", "ADR-0005", "crd:sync", "x*", "-y", "\"p q\"",
        "col:term", "{a b}:c", "^start", "Café", "e\u{301}", "İ", "ß", "ẞ", "日本語", "한국어", "ｶﾀ", "١٢٣", "½",
        "🎉", "\u{200B}", "\u{0}", "\u{FEFF}", "ॐ", "क्षि", "\u{0345}", "Ω", "ﬁ", "x\u{FFFD}y",
    ]

    static func randomQuery(_ generator: inout SplitMix64) -> String {
        var query = ""
        let count = Int.random(in: 1...24, using: &generator)
        for _ in 0..<count {
            query += pieces.randomElement(using: &generator)!
            if Bool.random(using: &generator) { query += " " }
        }
        if Int.random(in: 0..<200, using: &generator) == 0 {
            query += String(repeating: "a ", count: 600)  // sometimes past the length or term limit
        }
        return query
    }

    /// Splits an expression at its quotes: phrases must be letters, digits and single spaces;
    /// everything between them only parentheses, spaces, `*` and the operators.
    static func problem(in expression: String) -> String? {
        var outside = ""
        var phrase = ""
        var inPhrase = false
        var phrases = 0
        for scalar in expression.unicodeScalars {
            if scalar == "\"" {
                if inPhrase {
                    if phrase.isEmpty || phrase.hasPrefix(" ") || phrase.hasSuffix(" ") || phrase.contains("  ") {
                        return "badly spaced phrase \(phrase.debugDescription)"
                    }
                    phrases += 1
                    phrase = ""
                }
                inPhrase.toggle()
                outside += " "
                continue
            }
            if inPhrase {
                guard scalar == " " || scalar.properties.isAlphabetic || scalar.properties.numericType != nil else {
                    return "phrase holds \(scalar.escaped(asASCII: true))"
                }
                phrase.unicodeScalars.append(scalar)
            } else {
                outside.unicodeScalars.append(scalar)
            }
        }
        if inPhrase { return "unclosed phrase" }
        if phrases == 0 { return "no phrase" }
        var depth = 0
        for character in outside {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if depth < 0 { return "unbalanced parentheses" }
        }
        if depth != 0 { return "unbalanced parentheses" }
        let words = outside.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" })
        if let word = words.first(where: { !["AND", "OR", "NOT", "*"].contains($0) }) {
            return "syntax outside phrases: \(word)"
        }
        return nil
    }

    @Test("5,000 seeded punctuation-heavy queries: a safe expression or malformedQuery")
    func arbitraryQueries() {
        var generator = SplitMix64(seed: 0xC7C7_2026)
        var failures: [String] = []
        var parsed = 0
        for _ in 0..<5_000 {
            let query = Self.randomQuery(&generator)
            do {
                let expression = FTS5Query.expression(try SearchQuery(parsing: query))
                parsed += 1
                if let problem = Self.problem(in: expression) {
                    failures.append("\(query.debugDescription) -> \(expression.debugDescription): \(problem)")
                }
            } catch let error as SearchError {
                if case .malformedQuery = error { continue }
                failures.append("\(query.debugDescription) threw \(error)")
            } catch {
                failures.append("\(query.debugDescription) threw \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
        #expect(parsed > 2_500)  // the generator mostly produces searchable queries
    }

    @Test(
        "the checker itself rejects unsafe expressions",
        arguments: [
            #"("a" OR "b\"c")"#, #"("a") NEAR ("b")"#, #"("a"#, #"(("a")"#, #"("a:b")"#, #"("")"#, "(x)",
        ])
    func checkerRejects(expression: String) {
        #expect(Self.problem(in: expression) != nil)
    }

    @Test("the checker accepts what the parser writes")
    func checkerAccepts() {
        #expect(Self.problem(in: #"(("vpc") AND ("peering api" OR "sync" *)) NOT ("legacy")"#) == nil)
    }
}

@Suite("Search results as JSON")
struct SearchResultsJSONTests {
    @Test("the hand-written JSON decodes to the same hits as JSONEncoder's, escapes included")
    func sameAsEncoder() throws {
        let hits = [
            SearchHit(
                path: "docs/a \"b\".md", startLine: 1, endLine: 9, headingPath: ["Tab\there", "Back\\slash", "ファブリック"],
                tier: .detailed, kind: .projectManagement, score: 5.84, snippet: "line\nbreak «VPC» \u{1}ctl /slash",
                handle: "memory://docs/a%20%22b%22.md#x", tokens: 97),
            SearchHit(
                path: "p.md", startLine: 3, endLine: 3, headingPath: [], tier: .essential, kind: .claudeMD,
                score: 1e-7, snippet: "", handle: "memory://p.md", tokens: 0),
        ]
        struct Results: Codable, Equatable {
            var query: String
            var results: [SearchHit]
        }
        let text = SearchResultsJSON.encode(query: "q \"x\"", hits: hits)
        let decoded = try JSONDecoder().decode(Results.self, from: Data(text.utf8))
        #expect(decoded == Results(query: "q \"x\"", results: hits))
    }
}

@Suite("Heading paths")
struct HeadingPathTests {
    static let paths: [[String]] = [
        [], ["A"], ["Plan: VPC > peering", "Tests"], ["", "x"], ["ファブリック", "運用 > 手順", "end >"], ["a>b", " > "],
        ["quote \" and \\ backslash", "tab\tand\u{1}control", "emoji 🚀 and \u{2028}"],
    ]

    @Test("stored as JSON arrays, every title read back as written (\" > \" included)")
    func roundTrip() throws {
        for titles in Self.paths {
            let json = HeadingPathColumn.encode(titles)
            #expect(try HeadingPathColumn.decode(json) == titles, "\(titles)")
            // Valid JSON that any reader (sqlite3's json functions, Python) decodes the same.
            #expect(try JSONDecoder().decode([String].self, from: Data(json.utf8)) == titles)
        }
        #expect(HeadingPathColumn.encode(["A", "B"]) == #"["A","B"]"#)
        #expect(try HeadingPathColumn.decode(#"["\ud83d\ude80 x","\u00e9\/"]"#) == ["🚀 x", "é/"])
    }

    @Test("the full-text index sees the titles joined as before, without JSON's escapes")
    func indexedText() {
        #expect(HeadingPathColumn.text(ofJSON: HeadingPathColumn.encode(["A\tB", "C \"D\""])) == "A\tB > C \"D\"")
        #expect(HeadingPathColumn.text(ofJSON: "[]") == "")
    }

    @Test(
        "anything but an array of strings is damage, not a guess",
        arguments: [
            "", "A > B", "[", "[\"a\"", "[\"a\",]", "[1]", "[\"a\" ,\"b\"]", "[\"\\x\"]", "[\"\\ud800\"]", "{\"a\":1}",
        ])
    func damaged(_ text: String) {
        #expect(throws: StoredValue.Unknown.self) { try HeadingPathColumn.decode(text) }
    }
}
