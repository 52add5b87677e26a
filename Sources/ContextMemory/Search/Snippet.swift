/// A one-line excerpt around the first place a section matches. FTS5's `snippet()` would pick the
/// best fragment but tokenizes the whole column for it (50 ms for a 1 MB section, and a quarter of
/// every search's time under load); this stops a window after the first match.
///
/// Words are matched with the index's own tokenizer, so the excerpt highlights what the index
/// matched; a term matches a word equal to it (or starting with it, for prefix terms).
///
/// An excerpt is bounded whatever the text: at most `maxWords` words, at most `maxLeading`
/// characters before the first match, at most `maxCharacters` characters in all (not counting the
/// `«` `»` marks and the `…` at either end). A 1 MB line without a space, a run of punctuation or
/// a match inside a huge word is cut at a `Character` boundary, never inside a grapheme cluster
/// or a UTF-8 sequence; where the bound falls between words the cut is at the last whole word.
enum Snippet {
    static func make(
        text: String, query: SearchQuery, maxWords: Int = 24, maxCharacters: Int = 300, maxLeading: Int = 80,
        scanLimit: Int = 65_536
    ) -> String {
        let terms = query.groups.flatMap { $0 }
        let exact = Set(terms.filter { !$0.isPrefix }.flatMap(\.tokens).map { Array($0.utf8) })
        let exactLengths = Set(exact.map(\.count))
        let prefixes = terms.filter(\.isPrefix).flatMap(\.tokens).map { Array($0.utf8) }
        // Compared as bytes: most tokens are rejected by their length without an allocation.
        func matches(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
            if exactLengths.contains(token.count), exact.contains(Array(token)) { return true }
            return prefixes.contains { prefix in token.count >= prefix.count && token.starts(with: prefix) }
        }
        var copy = text
        var words: [(start: Int, end: Int, hit: Bool)] = []
        var firstHit: Int?
        copy.withUTF8 { buffer in
            let limited = UnsafeBufferPointer(rebasing: buffer[..<min(buffer.count, scanLimit)])
            SearchTokenizer.scan(limited) { token, start, end in
                let hit = matches(token)
                if hit, firstHit == nil { firstHit = words.count }
                words.append((start, end, hit))
                // Enough words after the first hit to fill the window.
                return firstHit.map { words.count < $0 + maxWords } ?? true
            }
        }
        guard !words.isEmpty else { return "" }
        let first = max(0, (firstHit ?? 0) - maxWords / 4)
        var window = words[first..<min(words.count, first + maxWords)]
        // Bounded in characters. A character is at least a byte, so the usual excerpt of short
        // words is measured by its bytes alone; only an overlong one counts characters.
        let anchor = words[firstHit ?? 0].start
        if anchor - window.first!.start > maxLeading {
            // Start at the first word within `maxLeading` characters of the first match.
            let limit = Self.offset(in: copy, characters: -maxLeading, from: anchor, bound: window.first!.start)
            window = window.drop { $0.start < limit }
        }
        var end = window.last!.end
        if end - window.first!.start > maxCharacters {
            let limit = Self.offset(in: copy, characters: maxCharacters, from: window.first!.start, bound: end)
            // The last whole word within the limit, unless that loses the first match: then the
            // match itself is cut at the limit.
            if let last = window.lastIndex(where: { $0.end <= limit }), window[last].end > anchor {
                window = window[...last]
                end = window[last].end
            } else {
                window = window.prefix { $0.start < limit }
                end = limit
            }
        }
        // Assembled as bytes and decoded once.
        var result: [UInt8] = window.startIndex > 0 ? Array("…".utf8) : []
        let open = Array(SearchHit.highlightOpen.utf8)
        let close = Array(SearchHit.highlightClose.utf8)
        var highlighting = false
        var total = 0
        copy.withUTF8 { bytes in
            total = bytes.count
            var cursor = window.first!.start
            for word in window {
                let gap = bytes[cursor..<word.start]
                // Matches separated only by spaces share one highlight: «VPC peering», as FTS5 shows a phrase.
                if highlighting, !(word.hit && gap.allSatisfy({ $0 == 0x20 || $0 == 0x09 })) {
                    result += close
                    highlighting = false
                }
                result += gap
                if word.hit, !highlighting {
                    result += open
                    highlighting = true
                }
                result += bytes[word.start..<min(word.end, end)]
                cursor = word.end
            }
        }
        if highlighting { result += close }
        if end < total { result += Array("…".utf8) }
        return String(decoding: result, as: UTF8.self)
    }

    /// The UTF-8 offset `characters` Characters away from the offset `from` (back when negative),
    /// on a Character boundary; `bound` itself when there are not that many characters before it.
    private static func offset(in text: String, characters: Int, from offset: Int, bound: Int) -> Int {
        let utf8 = text.utf8
        let origin = utf8.index(utf8.startIndex, offsetBy: offset)
        let limit = utf8.index(utf8.startIndex, offsetBy: bound)
        // `index(_:offsetBy:)` rounds its input down to a Character boundary first, so the result is one.
        guard let moved = text.index(origin, offsetBy: characters, limitedBy: limit) else { return bound }
        return utf8.distance(from: utf8.startIndex, to: moved)
    }
}
