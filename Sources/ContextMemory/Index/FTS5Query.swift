/// How a parsed ``SearchQuery`` reaches FTS5: the only place that writes FTS5 syntax, so nothing
/// outside the store knows the index is SQLite's.
enum FTS5Query {
    /// The FTS5 expression: every term a quoted phrase of tokens that contain only letters and
    /// digits, so nothing the user typed is read as FTS5 syntax.
    ///
    /// `vpc "peering api" OR sync* -legacy` becomes
    /// `("vpc") AND ("peering api" OR "sync" *) NOT ("legacy")`.
    static func expression(_ query: SearchQuery) -> String {
        func phrase(_ term: SearchQuery.Term) -> String {
            "\"" + term.tokens.joined(separator: " ") + "\"" + (term.isPrefix ? " *" : "")
        }
        var expression = query.groups.map { "(" + $0.map(phrase).joined(separator: " OR ") + ")" }
            .joined(separator: " AND ")
        for exclusion in query.exclusions {
            expression = "(\(expression)) NOT (\(phrase(exclusion)))"
        }
        return expression
    }

    /// The boolean form of ``expression(_:)`` for ``FTS5TopRanked``: phrases per group, then the
    /// excluded phrases (`vpc "peering api" OR sync* -legacy` gives `1,2;1`).
    static func shape(_ query: SearchQuery) -> String {
        FTS5TopRanked.Shape(groups: query.groups.map(\.count), exclusions: query.exclusions.count).text
    }

    /// BM25 column weights: a section's own heading counts most; the headings above it only as
    /// much as body text, so a parent's title does not lift every subsection above the parent.
    static let pathWeight = 2.0
    static let headingPathWeight = 1.0
    static let titleWeight = 5.0
    static let bodyWeight = 1.0

    /// The weights as the ranking functions take them, in the columns' order.
    static let columnWeights = "\(pathWeight), \(headingPathWeight), \(titleWeight), \(bodyWeight)"
}
