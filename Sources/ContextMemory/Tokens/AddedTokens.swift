/// A token of tokenizer.json's `added_tokens` (such as `<EOT>`): found in the text before anything else
/// and counted as one token, with HF `tokenizers`' matching rules.
struct AddedToken: Sendable {
    var content: [UInt8]
    /// Only when neither neighbour is a word character (Rust regex `\w`).
    var singleWord: Bool
    /// The whitespace before (`lstrip`) or after (`rstrip`) it belongs to the token.
    var leftStrip: Bool
    var rightStrip: Bool
}

/// Finds added tokens: leftmost-longest, non-overlapping (the Aho-Corasick `LeftmostLongest` of HF
/// `tokenizers`), then applies `single_word`, `lstrip` and `rstrip` as `AddedVocabulary::find_matches` does.
struct AddedTokenMatcher: Sendable {
    private let tokens: [AddedToken]
    private let firstBytes: [Bool]

    init(_ tokens: [AddedToken]) {
        self.tokens = tokens.filter { !$0.content.isEmpty }
        var firstBytes = [Bool](repeating: false, count: 256)
        for token in self.tokens { firstBytes[Int(token.content[0])] = true }
        self.firstBytes = firstBytes
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits covering all of `text` in order; `isToken` marks the added tokens.
    func split(_ text: UnsafeBufferPointer<UInt8>) -> [(range: Range<Int>, isToken: Bool)] {
        var splits: [(range: Range<Int>, isToken: Bool)] = []
        var emitted = 0
        var index = 0
        while index < text.count {
            guard firstBytes[Int(text[index])], let token = longestMatch(in: text, at: index) else {
                index += 1
                continue
            }
            var start = index
            var stop = index + tokens[token].content.count
            index = stop
            let rule = tokens[token]
            if rule.singleWord {
                let wordBefore = start > 0 && Self.isWordScalar(Self.scalar(before: start, in: text))
                let wordAfter = stop < text.count && Self.isWordScalar(decodeScalar(text, at: stop).value)
                if wordBefore || wordAfter { continue }
            }
            if rule.leftStrip {
                var newStart = start
                while newStart > 0, Self.isWhitespace(Self.scalar(before: newStart, in: text)) {
                    newStart = Self.scalarStart(before: newStart, in: text)
                }
                start = max(newStart, emitted)
            }
            // A right-stripping token before may have taken this one's leading whitespace and more:
            // never emit a range that starts after it ends.
            start = min(start, stop)
            if rule.rightStrip {
                while stop < text.count {
                    let (value, length) = decodeScalar(text, at: stop)
                    guard Self.isWhitespace(value) else { break }
                    stop += length
                }
            }
            if emitted < start { splits.append((emitted..<start, false)) }
            splits.append((start..<stop, true))
            emitted = stop
        }
        if emitted < text.count { splits.append((emitted..<text.count, false)) }
        return splits
    }

    private func longestMatch(in text: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        var best: Int?
        var bestLength = 0
        for (number, token) in tokens.enumerated() where token.content.count > bestLength {
            let content = token.content
            guard index + content.count <= text.count else { continue }
            var matches = true
            for offset in 0..<content.count where text[index + offset] != content[offset] {
                matches = false
                break
            }
            if matches {
                best = number
                bestLength = content.count
            }
        }
        return best
    }

    private static func scalarStart(before index: Int, in text: UnsafeBufferPointer<UInt8>) -> Int {
        var start = index - 1
        while start > 0, text[start] & 0xC0 == 0x80 { start -= 1 }
        return start
    }

    private static func scalar(before index: Int, in text: UnsafeBufferPointer<UInt8>) -> UInt32 {
        decodeScalar(text, at: scalarStart(before: index, in: text)).value
    }

    private static func isWhitespace(_ value: UInt32) -> Bool {
        Unicode.Scalar(value)?.properties.isWhitespace ?? false
    }

    /// Rust regex `\w`: Alphabetic, marks, decimal numbers, connector punctuation, Join_Control.
    private static func isWordScalar(_ value: UInt32) -> Bool {
        guard let properties = Unicode.Scalar(value)?.properties else { return false }
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
