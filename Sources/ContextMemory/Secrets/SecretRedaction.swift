import Foundation

/// What indexing keeps of a file: its text with every credential replaced by
/// `[REDACTED:<rule-id>]`, and a `secret-in-memory` finding for each.
///
/// Redaction happens once, before parsing, so nothing downstream ever holds the value: not the
/// sections, the full-text index, the stored frontmatter, snippets, packs in any format, `read`,
/// HTTP or MCP; token counts are of the redacted text. A value spanning lines (a private key
/// block) is replaced by the marker and as many line breaks, so every line number stays the file's.
/// `<!-- ctxmem-ignore secret-in-memory -->` on the value's line or the line before keeps it.
struct SecretRedaction: Sendable {
    static let rule = RuleID.secretInMemory

    let scanner: SecretScanner

    init(scanner: SecretScanner = SecretScanner()) {
        self.scanner = scanner
    }

    func redact(_ text: String, path: String) -> (text: String, findings: [Finding]) {
        var text = text
        let matches = text.withUTF8 { scanner.scan(utf8: $0) }
        guard !matches.isEmpty else { return (text, []) }
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + 24 * matches.count)
            var findings: [Finding] = []
            var copied = 0
            var line = 1
            var lineStart = 0
            var scanned = 0
            var previousLineStart = 0
            for match in matches {
                // Advance the line count to the match (matches are sorted).
                while scanned < match.range.lowerBound {
                    if bytes[scanned] == UInt8(ascii: "\n") {
                        line += 1
                        previousLineStart = lineStart
                        lineStart = scanned + 1
                    }
                    scanned += 1
                }
                if Self.suppressed(bytes, previousLineStart: line > 1 ? previousLineStart : nil, lineStart: lineStart) {
                    continue
                }
                output.append(contentsOf: bytes[copied..<match.range.lowerBound])
                output.append(contentsOf: match.rule.redactionMarker.utf8)
                let breaks = bytes[match.range].reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                output.append(contentsOf: repeatElement(UInt8(ascii: "\n"), count: breaks))
                copied = match.range.upperBound
                let column =
                    1 + bytes[lineStart..<match.range.lowerBound].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
                findings.append(
                    Finding(
                        rule: Self.rule, severity: .error, path: path, line: line, column: column,
                        message:
                            "a credential (\(match.rule.title)) is in this file: ctxmem never indexes or emits it and shows \(match.rule.redactionMarker) "
                            + "instead; remove it from memory and revoke it",
                        target: match.rule.rawValue,
                        suggestion:
                            "keep credentials in a secret store; for a false positive put <!-- ctxmem-ignore secret-in-memory --> "
                            + "on the line before, or list the value under secrets.allow_values in .ctxmem.yaml"))
            }
            guard copied > 0 else { return (String(decoding: bytes, as: UTF8.self), findings) }
            output.append(contentsOf: bytes[copied...])
            return (String(decoding: output, as: UTF8.self), findings)
        }
    }

    /// A `ctxmem-ignore` comment naming this rule (or none) on the match's line or the one before.
    private static func suppressed(_ bytes: UnsafeBufferPointer<UInt8>, previousLineStart: Int?, lineStart: Int) -> Bool
    {
        func line(from start: Int) -> Substring {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            return Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
        }
        for start in [previousLineStart, lineStart].compactMap({ $0 }) {
            if let rules = InlineSuppression.rules(onLine: line(from: start)),
                rules.isEmpty || rules.contains(rule.rawValue)
            {
                return true
            }
        }
        return false
    }
}

extension SecretRule {
    /// The kind of credential, as the start of its summary says (`GitHub token`).
    var title: String {
        String(summary.prefix { $0 != "(" && $0 != "." }).trimmingCharacters(in: .whitespaces)
    }
}
