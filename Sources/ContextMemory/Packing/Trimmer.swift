/// Cuts a section to its first blocks: paragraphs, lists and tables end at a blank line; a fenced
/// code block is one block, never cut inside.
enum Trimmer {
    /// The longest prefix of whole blocks whose count is at most `limit`, or nil when not even the
    /// first block fits.
    static func prefix(of text: String, fitting limit: Int, counter: PackTokenCounter) -> String? {
        guard limit > 0 else { return nil }
        let blocks = Self.blocks(of: text)
        // Add blocks while the running sum fits, then confirm on the joined text (counts of
        // pieces do not add up exactly) and step back if needed.
        var kept = 0
        var total = 0
        for block in blocks {
            let tokens = counter.count(block)
            guard total + tokens <= limit else { break }
            total += tokens
            kept += 1
        }
        while kept > 0 {
            let candidate = blocks[0..<kept].joined().trimmingTrailingNewlines()
            if counter.count(candidate) <= limit { return candidate }
            kept -= 1
        }
        return nil
    }

    /// Blocks with their trailing blank lines, so that joining them gives the text back.
    static func blocks(of text: String) -> [String] {
        var blocks: [String] = []
        var current = ""
        var fence: Substring?
        var sawContent = false
        var isBlank = false  // the previous line was blank
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop(while: { $0 == " " })
            if let open = fence {
                current += line + "\n"
                if trimmed.hasPrefix(open),
                    trimmed.drop(while: { $0 == open.first }).allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" })
                {
                    fence = nil
                }
                continue
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                if sawContent, isBlank {
                    blocks.append(current)
                    current = ""
                }
                let marker = trimmed.first!
                fence = trimmed.prefix(while: { $0 == marker })
                current += line + "\n"
                sawContent = true
                isBlank = false
                continue
            }
            if trimmed.allSatisfy({ $0 == "\r" || $0 == "\t" }) {
                current += line + "\n"
                isBlank = true
                continue
            }
            if sawContent, isBlank {
                blocks.append(current)
                current = ""
            }
            current += line + "\n"
            sawContent = true
            isBlank = false
        }
        if !current.isEmpty { blocks.append(current) }
        return blocks
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var result = self
        while result.last == "\n" || result.last == " " { result.removeLast() }
        return result
    }
}
