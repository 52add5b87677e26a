/// A one-line excerpt around the first place a section matches, for sections too large for
/// FTS5's `snippet()` (which tokenizes the whole column: 50 ms for a 1 MB section).
///
/// Words are matched with the index's own tokenizer, so the excerpt highlights what the index
/// matched; a term matches a word equal to it (or starting with it, for prefix terms).
enum Snippet {
    static func make(text: String, query: SearchQuery, maxWords: Int = 24, scanLimit: Int = 65_536) -> String {
        let terms = query.groups.flatMap { $0 }
        let exact = Set(terms.filter { !$0.isPrefix }.flatMap(\.tokens))
        let prefixes = terms.filter(\.isPrefix).flatMap(\.tokens)
        func matches(_ token: String) -> Bool {
            exact.contains(token) || prefixes.contains { token.hasPrefix($0) }
        }
        var copy = text
        var words: [(start: Int, end: Int, hit: Bool)] = []
        var firstHit: Int?
        copy.withUTF8 { buffer in
            let limited = UnsafeBufferPointer(rebasing: buffer[..<min(buffer.count, scanLimit)])
            SearchTokenizer.scan(limited) { token, start, end in
                let hit = matches(String(decoding: token, as: UTF8.self))
                if hit, firstHit == nil { firstHit = words.count }
                words.append((start, end, hit))
                // Enough words after the first hit to fill the window.
                return firstHit.map { words.count < $0 + maxWords } ?? true
            }
        }
        guard !words.isEmpty else { return "" }
        let first = max(0, (firstHit ?? 0) - maxWords / 4)
        let window = words[first..<min(words.count, first + maxWords)]
        let bytes = Array(text.utf8)
        var result = first > 0 ? "…" : ""
        var cursor = window.first!.start
        for word in window {
            result += String(decoding: bytes[cursor..<word.start], as: UTF8.self)
            let literal = String(decoding: bytes[word.start..<word.end], as: UTF8.self)
            result += word.hit ? SearchHit.highlightOpen + literal + SearchHit.highlightClose : literal
            cursor = word.end
        }
        if window.last!.end < bytes.count { result += "…" }
        return result
    }
}
