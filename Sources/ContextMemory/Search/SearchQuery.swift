/// A search as the user writes it, parsed into terms that can never reach SQLite as raw FTS5.
///
/// Syntax:
/// - `word word`: every word must match (in any column);
/// - `"quoted phrase"`: the words in this order;
/// - `a OR b`: either (binds tighter than the implicit AND: `x a OR b` is `x AND (a OR b)`);
/// - `-word`, `-"phrase"`: sections containing it are excluded;
/// - `word*`: prefix match.
/// Identifiers are found as typed: `ADR-0005`, `crd:sync` and `netbox_hedgehog/models.py` are
/// each searched as the phrase of their words.
public struct SearchQuery: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        /// The tokens of the term, as the index tokenizer makes them.
        public var tokens: [String]
        public var isPrefix: Bool
    }

    /// Every group must match; a group matches when any of its terms does.
    public var groups: [[Term]]
    /// Sections matching any of these are left out.
    public var exclusions: [Term]

    /// The longest query, in characters as JSON Schema's `maxLength` counts them (Unicode code
    /// points), so Schemas/openapi.yaml, the MCP tool's schema and this check agree. The length
    /// itself costs little: what a query costs FTS5 grows with its terms and their tokens, and
    /// those are bounded separately (``maxTerms``, ``maxTokens``). 4,096 lets a pasted log line
    /// or long path be searched as a phrase.
    public static let maxLength = 4_096
    /// Most terms (words or phrases, exclusions included): each is one FTS5 phrase to walk.
    public static let maxTerms = 64
    /// Most tokens over all terms: a phrase's cost grows with its tokens. 512 is what the earlier
    /// 1,000-character limit allowed at worst (single letters), so raising the length did not
    /// raise the worst cost.
    public static let maxTokens = 512

    /// - Throws: ``SearchError/malformedQuery(_:)`` with what is wrong and how to write it.
    public init(parsing text: String) throws {
        let length = text.unicodeScalars.count
        guard length <= Self.maxLength else {
            throw SearchError.malformedQuery("the query is \(length) characters long; the limit is \(Self.maxLength)")
        }
        var groups: [[Term]] = []
        var exclusions: [Term] = []
        var pendingOr = false
        var lastWasExclusion = false
        var words = 0
        var tokenCount = 0
        for raw in try Self.lex(text) {
            if raw.text == "OR" && !raw.quoted && !raw.negated {
                guard !groups.isEmpty, !pendingOr else {
                    throw SearchError.malformedQuery(
                        "OR needs a word on each side (write \"OR\" in quotes to search for it)")
                }
                // `a -b OR c` would otherwise silently become `(a OR c) NOT b`.
                guard !lastWasExclusion else {
                    throw SearchError.malformedQuery("an excluded term (-word) cannot be part of an OR")
                }
                pendingOr = true
                continue
            }
            words += 1
            guard words <= Self.maxTerms else {
                throw SearchError.malformedQuery("the query has more than \(Self.maxTerms) terms")
            }
            var body = raw.text
            let excluded = raw.negated
            var isPrefix = false
            if !raw.quoted, body.hasSuffix("*") {
                while body.hasSuffix("*") { body.removeLast() }
                isPrefix = true
            }
            let tokens = SearchTokenizer.tokens(body)
            tokenCount += tokens.count
            guard tokenCount <= Self.maxTokens else {
                throw SearchError.malformedQuery(
                    "the query has more than \(Self.maxTokens) words in all (a phrase counts each of its words); search for a shorter phrase"
                )
            }
            if tokens.isEmpty {
                if pendingOr { throw SearchError.malformedQuery("OR needs a word on each side") }
                continue  // punctuation alone has nothing to match
            }
            let term = Term(tokens: tokens, isPrefix: isPrefix)
            lastWasExclusion = excluded
            if excluded {
                if pendingOr { throw SearchError.malformedQuery("an excluded term (-word) cannot be part of an OR") }
                exclusions.append(term)
            } else if pendingOr {
                groups[groups.count - 1].append(term)
                pendingOr = false
            } else {
                groups.append([term])
            }
        }
        if pendingOr { throw SearchError.malformedQuery("OR needs a word on each side") }
        guard !groups.isEmpty else {
            throw SearchError.malformedQuery(
                exclusions.isEmpty
                    ? "the query has no words to search for"
                    : "the query only excludes; add at least one word to look for")
        }
        self.groups = groups
        self.exclusions = exclusions
    }

    private struct Lexeme {
        var text: String
        var quoted: Bool
        var negated: Bool
    }

    private static func lex(_ text: String) throws -> [Lexeme] {
        var result: [Lexeme] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i].isWhitespace {
                i += 1
                continue
            }
            var negated = false
            if chars[i] == "-", i + 1 < chars.count, !chars[i + 1].isWhitespace {
                negated = true
                i += 1
            }
            if chars[i] == "\"" {
                let open = i
                i += 1
                var phrase = ""
                while i < chars.count, chars[i] != "\"" {
                    phrase.append(chars[i])
                    i += 1
                }
                guard i < chars.count else {
                    throw SearchError.malformedQuery("the quote at character \(open + 1) is not closed")
                }
                i += 1
                result.append(Lexeme(text: phrase, quoted: true, negated: negated))
                continue
            }
            var word = ""
            while i < chars.count, !chars[i].isWhitespace, chars[i] != "\"" {
                word.append(chars[i])
                i += 1
            }
            result.append(Lexeme(text: word, quoted: false, negated: negated))
        }
        return result
    }
}

/// Why a search could not run.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    case malformedQuery(String)
    case invalidOption(String)

    public var description: String {
        switch self {
        case .malformedQuery(let detail): "malformed query: \(detail)"
        case .invalidOption(let detail): detail
        }
    }
}
