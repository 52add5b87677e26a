import Foundation
import Testing

@testable import ContextMemory

/// Expected counts come from the reference (reftok.py, i.e. HF `tokenizers`), written by
/// scripts/gen-token-fixtures into Fixtures/token-counts*.json.
enum TokenFixtures {
    static let tests = TestPaths.coreTests
    static let claudeURL = TestPaths.repository.appendingPathComponent("Tokenizers/claude2-tokenizer.json")

    /// Loaded once for every test of the suite.
    static let claude: BPETokenizer = try! BPETokenizer(contentsOf: claudeURL)

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var `repeat`: Int?
        var tokens: Int
        var estimate: Double

        var fullText: String { String(repeating: text, count: self.repeat ?? 1) }
        var testDescription: String { name }
    }

    struct Configuration: Decodable, Sendable, CustomTestStringConvertible {
        struct Count: Decodable, Sendable {
            var text: String
            var tokens: Int
        }
        var name: String
        var counts: [Count]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        struct File: Decodable { var cases: [Case] }
        let data = try! Data(contentsOf: tests.appendingPathComponent("Fixtures/token-counts.json"))
        return try! JSONDecoder().decode(File.self, from: data).cases
    }()

    static let configurationsData = try! Data(
        contentsOf: tests.appendingPathComponent("Fixtures/token-counts-configurations.json"))

    static let configurations: [Configuration] = try! JSONDecoder().decode(
        [Configuration].self, from: configurationsData)

    /// The `tokenizer` object of one configuration, re-serialised for `BPETokenizer(json:)`.
    static func tokenizerJSON(_ name: String) throws -> Data {
        let list = try #require(try JSONSerialization.jsonObject(with: configurationsData) as? [[String: Any]])
        let entry = try #require(list.first { $0["name"] as? String == name })
        return try JSONSerialization.data(withJSONObject: try #require(entry["tokenizer"]))
    }
}

@Suite("Exact BPE counts (Claude-2 tokenizer)")
struct BPETokenizerTests {
    @Test("identical to HF tokenizers", arguments: TokenFixtures.cases)
    func matchesReference(_ sample: TokenFixtures.Case) {
        #expect(TokenFixtures.claude.count(sample.fullText) == sample.tokens)
    }

    @Test("identifier names the file and its content hash")
    func identifier() {
        #expect(TokenFixtures.claude.identifier.hasPrefix("bpe:claude2-tokenizer.json:"))
        #expect(TokenFixtures.claude.identifier.count == "bpe:claude2-tokenizer.json:".count + 8)
    }

    @Test("counting is the same from several threads at once (shared piece cache)")
    func concurrent() async {
        let samples = TokenFixtures.cases.filter { $0.repeat == nil }
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { samples.allSatisfy { TokenFixtures.claude.count($0.fullText) == $0.tokens } }
            }
            for await agreed in group { #expect(agreed) }
        }
    }

    @Test(
        "added-token flags, normalizer and pre-tokenizer variants as HF counts them",
        arguments: TokenFixtures.configurations)
    func configurations(_ configuration: TokenFixtures.Configuration) throws {
        let tokenizer = try BPETokenizer(
            json: try TokenFixtures.tokenizerJSON(configuration.name),
            path: "tiny.json", identifier: "tiny")
        for sample in configuration.counts {
            #expect(tokenizer.count(sample.text) == sample.tokens, "\(sample.text)")
        }
    }
}

@Suite("Unsupported or malformed tokenizer.json")
struct TokenizerErrorTests {
    static func load(_ json: String) -> TokenizerError? {
        do {
            _ = try BPETokenizer(json: Data(json.utf8), path: "t.json", identifier: "t")
            return nil
        } catch {
            return error as? TokenizerError
        }
    }

    static let byteLevel = #""pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}"#

    @Test(
        "each error names the file and the field",
        arguments: [
            ("not json", "not JSON"),
            ("[1, 2]", "top level is not a JSON object"),
            (#"{\#(byteLevel)}"#, "no \"model\" object"),
            (
                #"{\#(byteLevel), "model": {"type": "WordPiece", "vocab": {}}}"#,
                "model.type WordPiece is not supported; ctxmem needs a byte-level BPE"
            ),
            (
                #"{\#(byteLevel), "normalizer": {"type": "Lowercase"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#,
                "normalizer.type Lowercase is not supported"
            ),
            (
                #"{"pre_tokenizer": {"type": "Whitespace"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#,
                "pre_tokenizer.type Whitespace is not supported"
            ),
            (
                #"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}"#,
                "pre_tokenizer.pattern is not supported"
            ),
            (
                #"{"pre_tokenizer": null, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#,
                "pre_tokenizer has no ByteLevel step"
            ),
            (
                #"{\#(byteLevel), "model": {"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}}"#,
                "model.dropout 0.1 is not supported"
            ),
            (
                #"{\#(byteLevel), "model": {"type": "BPE", "vocab": {"hello": 0}, "merges": []}}"#,
                "model.vocab has none of the 256 byte-level symbols"
            ),
            (
                #"{\#(byteLevel), "model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#,
                "model.merges[0] \"a b\" uses a token missing from model.vocab"
            ),
            (
                #"{\#(byteLevel), "model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#,
                "model.merges[0] is not a pair"
            ),
        ])
    func messages(json: String, expected: String) throws {
        let error = try #require(Self.load(json))
        #expect("\(error)".hasPrefix("t.json: "))
        #expect("\(error)".contains(expected), "\(error)")
    }

    @Test("a missing file is unreadable, with the path")
    func missingFile() {
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))
        }
        do {
            _ = try BPETokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))
        } catch {
            #expect("\(error)".hasPrefix("/nonexistent/tokenizer.json: cannot read the tokenizer"), "\(error)")
        }
    }
}

@Suite("Token estimate")
struct ClaudeTokenEstimatorTests {
    /// Where the estimate is known to differ (docs/tokens.md): added tokens such as `<EOT>` (one
    /// token, three pieces) and long runs of one symbol (BPE's merges stop short of the longest token).
    static let unusual: Set = [
        "special token alone", "special tokens inside text", "special token adjacent to words",
        "20000 equals",
    ]

    @Test(
        "within 10% of the exact Claude-2 count, or 2 tokens on short texts",
        arguments: TokenFixtures.cases.filter { !unusual.contains($0.name) })
    func closeToExact(_ sample: TokenFixtures.Case) {
        let estimate = ClaudeTokenEstimator().count(sample.fullText)
        #expect(
            abs(estimate - sample.tokens) <= max(2, sample.tokens / 10), "estimate \(estimate), exact \(sample.tokens)")
    }

    @Test("a word of the vocabulary is one token; a longer piece is split into the longest tokens")
    func longestMatch() {
        let estimator = ClaudeTokenEstimator()
        #expect(estimator.count("Hello") == 1)
        #expect(estimator.count(" world") == 1)
        #expect(estimator.count("Hello, world") == 3)
        // The exact BPE agrees on an invented word, split into known parts.
        let invented = "xqzvplorthians"
        #expect(estimator.count(invented) == TokenFixtures.claude.count(invented))
    }

    @Test("text is counted after NFKC, as the tokenizer counts it: full-width forms are ASCII")
    func fullWidthFolding() {
        let estimator = ClaudeTokenEstimator()
        #expect(estimator.count("Ｈｅｌｌｏ\u{3000}ＷＯＲＬＤ！") == estimator.count("Hello WORLD!"))
        #expect(estimator.count("中文测试，结束（完）") == estimator.count("中文测试,结束(完)"))
        #expect(estimator.count("ｘ") == 1)
        #expect(estimator.count("\u{FF5F}") == TokenFixtures.claude.count("\u{FF5F}"))  // past the folded range
    }

    @Test("never below the number of pre-tokenizer pieces", arguments: TokenFixtures.cases)
    func pieceLowerBound(_ sample: TokenFixtures.Case) {
        let text = sample.fullText
        #expect(ClaudeTokenEstimator().count(text) >= ClaudeTokenEstimator.pieceCount(text))
    }

    @Test("TokenEstimate, which the index stores, is the estimator")
    func tokenEstimateDelegates() {
        for sample in TokenFixtures.cases {
            #expect(TokenEstimate.count(sample.fullText) == ClaudeTokenEstimator().count(sample.fullText))
        }
        #expect(ClaudeTokenEstimator().identifier == "estimate-v2")
    }
}

@Suite("GPT-2 pre-tokenizer and normalisation")
struct PreTokenizerTests {
    static func pieces(_ text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { bytes in
            ScalarClassifier.basicPlane.withUnsafeBufferPointer { classes in
                var splitter = GPT2Splitter(bytes, classes: classes)
                var pieces: [String] = []
                while let piece = splitter.next() {
                    pieces.append(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[piece.start..<piece.end]), as: UTF8.self))
                }
                return pieces
            }
        }
    }

    @Test(
        "splits as the regex does",
        arguments: [
            ("I'm fine, they've 'S", ["I", "'m", " fine", ",", " they", "'ve", " '", "S"]),
            ("a  b\t\tc   \nd", ["a", " ", " b", "\t", "\t", "c", "   ", "\n", "d"]),
            ("x   ", ["x", "   "]),
            ("abc123 !!?? 漢字", ["abc", "123", " !!??", " 漢字"]),
            ("a\u{A0}b", ["a", "\u{A0}", "b"]),
            ("", []),
        ])
    func split(text: String, expected: [String]) {
        #expect(Self.pieces(text) == expected)
    }

    static func normalize(_ text: String, _ form: NormalizationForm) -> String {
        var output: [UInt8] = []
        var scratch: [UInt32] = []
        Array(text.utf8).withUnsafeBufferPointer {
            UnicodeNormalizer(form: form).normalize($0, into: &output, scratch: &scratch)
        }
        return String(decoding: output, as: UTF8.self)
    }

    @Test(
        "NFKC as HF tokenizers, where Foundation on Linux differs",
        arguments: [
            ("ﬁ Ｈｅｌｌｏ x²", "fi Hello x2"),
            ("A\u{10041}\u{301}", "A\u{10041}\u{301}"),  // Foundation drops U+10041
            ("\u{1C4}\u{323}", "D\u{1E92}\u{30C}"),  // Foundation leaves it unordered
            ("e\u{301}\u{323}", "\u{1EB9}\u{301}"),
            ("\u{1100}\u{1161}\u{11A8} 각", "각 각"),
            ("\u{32FF}", "\u{32FF}"),  // Unicode 12.1: not in the reference's tables
        ])
    func nfkc(text: String, expected: String) {
        #expect(Array(Self.normalize(text, .nfkc).unicodeScalars) == Array(expected.unicodeScalars))
    }

    @Test("NFD decomposes Hangul and canonical pairs only")
    func nfd() {
        #expect(
            Array(Self.normalize("각 é ﬁ", .nfd).unicodeScalars)
                == Array("\u{1100}\u{1161}\u{11A8} e\u{301} ﬁ".unicodeScalars))
    }
}
