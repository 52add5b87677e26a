/// `<!-- ctxmem-ignore RULE -->` on the line before a finding (or on its line) silences it; with
/// no rule it silences every rule there. Findings about a whole document (orphan-document,
/// oversized-memory) are silenced by the comment anywhere in the file.
enum InlineSuppression {
    static let documentRules: Set<RuleID> = [.orphanDocument, .oversizedMemory]

    /// The rules a comment on this line silences: nil when there is none, empty for all.
    static func rules(onLine line: Substring) -> Set<String>? {
        // `<!--`, spaces, `ctxmem-ignore`, the rules, `-->`: scanned by hand (a Regex literal is
        // parsed again on every call).
        guard let open = line.range(of: "<!--") else { return nil }
        let rest = line[open.upperBound...].drop { $0 == " " || $0 == "\t" }
        guard rest.hasPrefix("ctxmem-ignore"), let close = rest.range(of: "-->") else { return nil }
        let body = rest[rest.index(rest.startIndex, offsetBy: "ctxmem-ignore".count)..<close.lowerBound]
        guard body.isEmpty || body.first == " " || body.first == "\t" else { return nil }  // not ctxmem-ignored-...
        return Set(body.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init))
    }

    /// Whether a comment in `lines` (by line number) silences `finding`.
    static func silences(_ finding: Finding, lines: [Int: Substring]) -> Bool {
        func matches(_ line: Substring?) -> Bool {
            guard let line, let rules = rules(onLine: line) else { return false }
            return rules.isEmpty || rules.contains(finding.rule.rawValue)
        }
        if documentRules.contains(finding.rule) { return lines.values.contains { matches($0) } }
        guard let number = finding.line else { return false }
        return matches(lines[number - 1]) || matches(lines[number])
    }
}
