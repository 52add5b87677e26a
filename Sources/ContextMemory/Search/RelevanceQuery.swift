extension SearchQuery {
    /// A query that ranks sections by how much of `text` they share: every significant word of
    /// the text as one OR group (BM25 then favours sections with more and rarer of them). Used for
    /// a pack's task and role, which are prose, not search syntax: nothing in them is an operator.
    /// Returns nil when the text has no significant word.
    public static func relevance(from text: String, maxTerms: Int = 48) -> SearchQuery? {
        var seen = Set<String>()
        var terms: [Term] = []
        for token in SearchTokenizer.tokens(text) where terms.count < maxTerms {
            let isCJK = token.unicodeScalars.first.map(SearchTokenizer.isIdeographic) ?? false
            guard isCJK || token.count >= 2, !stopWords.contains(token), seen.insert(token).inserted else { continue }
            terms.append(Term(tokens: [token], isPrefix: false))
        }
        guard !terms.isEmpty else { return nil }
        return SearchQuery(groups: [terms], exclusions: [])
    }

    init(groups: [[Term]], exclusions: [Term]) {
        self.groups = groups
        self.exclusions = exclusions
    }

    /// English function words and the verbs every task starts with: they match nearly every
    /// section and would only dilute the ranking.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "do", "does", "for", "from", "has",
        "have", "how", "if", "in", "into", "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their",
        "them", "then", "there", "these", "this", "those", "to", "up", "was", "we", "were", "what", "when", "where",
        "which", "who", "why", "will", "with", "you", "your", "all", "any", "each", "it's", "not", "no", "use",
        "used", "using", "add", "make", "new", "get", "set", "also", "should", "must", "may", "via", "per",
        "about", "after", "before", "over", "out", "than", "too", "very", "just", "only", "own", "same", "such",
        "more", "most", "other", "some", "one", "two", "i", "me", "my", "he", "she", "they", "us", "let",
    ]
}
