/// "Did you mean": the closest candidate by edit distance, when it is close enough to be a typo.
public enum Suggest {
    /// The candidate closest to `word` by edit distance (ignoring case), when it is within
    /// `maximumDistance` (default: a third of the word's length, at least 2); the first of equals.
    public static func nearest(to word: String, in candidates: [String], maximumDistance: Int? = nil) -> String? {
        let target = Array(word.lowercased())
        let limit = maximumDistance ?? max(2, target.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.lowercased()))
            if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
