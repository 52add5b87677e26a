/// A plain token estimate until the Claude tokenizer lands: about four bytes of UTF-8 a token for
/// English Markdown, and one token a scalar for CJK and other scripts that Claude's BPE splits finely.
public enum TokenEstimate {
    public static func count(_ text: String) -> Int {
        var ascii = 0, other = 0
        for scalar in text.unicodeScalars {
            if scalar.isASCII { ascii += 1 } else { other += 1 }
        }
        return (ascii + 3) / 4 + other
    }
}
