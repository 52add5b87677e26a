/// A one-line excerpt around the first place a section matches. FTS5's `snippet()` would pick the
/// best fragment but tokenizes the whole column for it (50 ms for a 1 MB section, and a quarter of
/// every search's time under load); this stops a window after the first match.
///
/// Words are matched with the index's own tokenizer, so the excerpt highlights what the index
/// matched; a term matches a word equal to it (or starting with it, for prefix terms).
enum Snippet {
    static func make(text: String, query: SearchQuery, maxWords: Int = 24, scanLimit: Int = 65_536) -> String {
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
        let window = words[first..<min(words.count, first + maxWords)]
        // Assembled as bytes and decoded once.
        var result: [UInt8] = first > 0 ? Array("…".utf8) : []
        let open = Array(SearchHit.highlightOpen.utf8), close = Array(SearchHit.highlightClose.utf8)
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
                result += bytes[word.start..<word.end]
                cursor = word.end
            }
        }
        if highlighting { result += close }
        if window.last!.end < total { result += Array("…".utf8) }
        return String(decoding: result, as: UTF8.self)
    }
}
