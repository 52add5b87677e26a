import Foundation

/// Memory files are untrusted: a title, path, snippet or message may hold an escape sequence that
/// would drive the terminal it is printed on (move the cursor, rewrite the title, hide lines), or
/// bidi overrides that make text read differently from what it is (Trojan Source).
///
/// On a terminal, every human-readable line ctxmem writes (stdout and stderr) shows these
/// characters as escapes instead, in Python's notation:
///
/// | characters | shown as |
/// |---|---|
/// | C0 controls U+0000–U+001F but tab and line feed, and a carriage return not before a line feed | `\x1b` |
/// | DEL U+007F and the C1 controls U+0080–U+009F | `\x7f`, `\x9b` |
/// | bidi embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069 | `\u202e` |
///
/// JSON on a terminal keeps C0 controls as JSONEncoder escapes them (`\u001b`) and writes the others
/// as `\u007f`, `\u009b`, `\u202e`: the same JSON value, valid, and inert.
///
/// When stdout or stderr is a file or a pipe nothing is changed, byte for byte: packs, scripts and
/// `--out` files get the text as the memory holds it.
extension Terminal {
    /// Whether stdout is a terminal (asked once: `tiers` prints thousands of lines).
    static let escapesStandardOutput = isStandardOutputTerminal
    /// Whether stderr is a terminal.
    static let escapesStandardError = isStandardErrorTerminal

    /// Prints a line of human-readable text on stdout, made ``visible(_:)`` on a terminal.
    static func standardOutput(_ text: String) {
        print(escapesStandardOutput ? visible(text) : text)
    }

    /// Prints a value as JSON on stdout (``json(_:)``), made ``visibleJSON(_:)`` on a terminal.
    static func standardOutput(json value: some Encodable) throws {
        let text = try json(value)
        print(escapesStandardOutput ? visibleJSON(text) : text)
    }

    /// `text` made ``visible(_:)`` when stdout is a terminal, else as is: for output that adds
    /// escape sequences of its own (colour) around text from memory files.
    static func shown(_ text: String) -> String {
        escapesStandardOutput ? visible(text) : text
    }

    /// `text` with every character that could act on a terminal written as a visible escape (see
    /// the table above). Text with none of them is returned as is.
    ///
    ///     Terminal.visible("a\u{1B}[2Jb\r\n")   // "a\\x1b[2Jb\r\n"
    static func visible(_ text: String) -> String {
        escaping(text) { scalar in
            scalar.value <= 0xFF ? "\\x" + hex(scalar.value, digits: 2) : "\\u" + hex(scalar.value, digits: 4)
        }
    }

    /// JSON text with DEL, C1 controls and bidi controls written as `\uXXXX` escapes. They can only
    /// appear inside strings (JSON's own syntax is ASCII), so the result is the same JSON value.
    /// C0 controls are left to JSONEncoder, which always escapes them.
    static func visibleJSON(_ json: String) -> String {
        escaping(json, keepC0: true) { "\\u" + hex($0.value, digits: 4) }
    }

    /// Whether a terminal could act on `scalar`: a control other than tab and line feed (carriage
    /// return is decided by what follows it), DEL, a C1 control, or a bidi embedding, override or isolate.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: false
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private static func escaping(_ text: String, keepC0: Bool = false, _ escape: (Unicode.Scalar) -> String) -> String {
        let scalars = Array(text.unicodeScalars)
        func unsafe(_ index: Int) -> Bool {
            let scalar = scalars[index]
            guard isUnsafe(scalar) else { return false }
            if scalar.value < 0x20, keepC0 { return false }
            // CR LF is a line end as the file wrote it; a lone CR would overwrite the line.
            if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" { return false }
            return true
        }
        guard let first = scalars.indices.first(where: unsafe) else { return text }
        var result = String.UnicodeScalarView(scalars[..<first])
        for index in first..<scalars.count {
            if unsafe(index) {
                result.append(contentsOf: escape(scalars[index]).unicodeScalars)
            } else {
                result.append(scalars[index])
            }
        }
        return String(result)
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
