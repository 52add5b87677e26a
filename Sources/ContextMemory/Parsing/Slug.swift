/// GitHub's heading anchors: lowercase; drop everything but letters, numbers, marks, spaces, `-`
/// and `_`; spaces become `-`. Repeated headings in one file get `-1`, `-2`, ... (``SlugCounter``).
public enum Slug {
    public static func make(_ heading: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in heading.lowercased().unicodeScalars {
            if scalar == " " {
                result.append("-")
            } else if scalar == "-" || scalar == "_" {
                result.append(scalar)
            } else {
                let properties = scalar.properties
                if properties.isAlphabetic || properties.numericType != nil
                    || properties.generalCategory == .nonspacingMark
                    || properties.generalCategory == .spacingMark
                    || properties.generalCategory == .decimalNumber
                {
                    result.append(scalar)
                }
            }
        }
        return String(result)
    }
}

/// Hands out GitHub's unique slugs within one document.
struct SlugCounter {
    private var seen: [String: Int] = [:]

    /// github-slugger's algorithm: bump the base's counter until the candidate is unused.
    mutating func unique(_ heading: String) -> String {
        let base = Slug.make(heading)
        var candidate = base
        while seen[candidate] != nil {
            let next = seen[base, default: 0] + 1
            seen[base] = next
            candidate = "\(base)-\(next)"
        }
        seen[candidate] = 0
        return candidate
    }
}
