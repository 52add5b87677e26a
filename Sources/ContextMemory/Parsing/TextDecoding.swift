/// Decodes file bytes into text: UTF-8, or UTF-16 when the file starts with a UTF-16 byte order
/// mark (Windows editors write it). Invalid sequences become U+FFFD and the first one's place is
/// kept, so a file with a stray Latin-1 byte or a lone surrogate is still indexed and the problem
/// is recorded.
///
/// Edge cases, stated outright:
/// - A byte order mark is never text: `EF BB BF` (UTF-8), `FF FE` (UTF-16LE) and `FE FF`
///   (UTF-16BE) are dropped, and line 1 starts after them.
/// - Without a BOM a file is UTF-8: UTF-16 without one has NUL bytes and is binary (as git says).
/// - `FF FE 00 00` is UTF-32LE's mark: read as UTF-16LE it starts with a U+0000 code unit, so
///   ``looksBinary(_:)`` says binary, as for any UTF-32 file.
/// - In UTF-16, an odd last byte is invalid (one U+FFFD), as is an unpaired surrogate.
public enum TextDecoding {
    public enum Encoding: String, Sendable {
        case utf8 = "UTF-8"
        case utf16LittleEndian = "UTF-16LE"
        case utf16BigEndian = "UTF-16BE"
    }

    public struct Decoded: Sendable {
        public var text: String
        /// The encoding the bytes were read in, from their byte order mark.
        public var encoding: Encoding = .utf8
        /// 1-based line and column of the first invalid sequence, when there was one: the column
        /// counts bytes in UTF-8, 16-bit code units in UTF-16 (the BOM is not counted).
        public var firstInvalid: (line: Int, column: Int)?

        /// The `invalid-utf8` or `invalid-utf16` finding for ``firstInvalid``, nil for valid text.
        public func invalidFinding(path: String) -> Finding? {
            guard let invalid = firstInvalid else { return nil }
            switch encoding {
            case .utf8:
                return Finding(
                    rule: RuleID.invalidUTF8, severity: .warning, path: path, line: invalid.line,
                    column: invalid.column,
                    message: "invalid UTF-8 (first bad byte here); decoded with U+FFFD replacement characters")
            case .utf16LittleEndian, .utf16BigEndian:
                return Finding(
                    rule: RuleID.invalidUTF16, severity: .warning, path: path, line: invalid.line,
                    column: invalid.column,
                    message:
                        "invalid \(encoding.rawValue) (an unpaired surrogate or odd last byte first here, column in "
                        + "16-bit units); decoded with U+FFFD replacement characters")
            }
        }
    }

    /// The encoding the bytes announce, and the length of their byte order mark (0 for none).
    public static func encoding(of bytes: [UInt8]) -> (encoding: Encoding, markLength: Int) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return (.utf8, 3) }
        if bytes.starts(with: [0xFF, 0xFE]) { return (.utf16LittleEndian, 2) }
        if bytes.starts(with: [0xFE, 0xFF]) { return (.utf16BigEndian, 2) }
        return (.utf8, 0)
    }

    public static func decode(_ bytes: [UInt8]) -> Decoded {
        let (encoding, markLength) = encoding(of: bytes)
        switch encoding {
        case .utf8:
            var bytes = bytes
            bytes.removeFirst(markLength)  // a BOM is not text
            if let text = String(validating: bytes, as: UTF8.self) {
                return Decoded(text: text, firstInvalid: nil)
            }
            return Decoded(text: String(decoding: bytes, as: UTF8.self), firstInvalid: firstInvalidPosition(bytes))
        case .utf16LittleEndian, .utf16BigEndian:
            let units = codeUnits(bytes, littleEndian: encoding == .utf16LittleEndian, from: markLength)
            let oddByte = (bytes.count - markLength) % 2 == 1
            var text = String(decoding: units, as: UTF16.self)
            if oddByte { text += "\u{FFFD}" }
            return Decoded(text: text, encoding: encoding, firstInvalid: firstInvalidPosition(units, oddByte: oddByte))
        }
    }

    /// Whether the bytes look like a binary file, as git decides: a NUL byte in the first 8 KiB,
    /// or for UTF-16 (by its byte order mark) a U+0000 code unit in them.
    public static func looksBinary(_ bytes: [UInt8]) -> Bool {
        let (encoding, markLength) = encoding(of: bytes)
        switch encoding {
        case .utf8:
            return bytes.prefix(8192).contains(0)
        case .utf16LittleEndian, .utf16BigEndian:
            let head = Array(bytes.prefix(8192 + markLength))
            return codeUnits(head, littleEndian: encoding == .utf16LittleEndian, from: markLength).contains(0)
        }
    }

    /// The 16-bit code units of `bytes` from `start` (an odd last byte left out).
    private static func codeUnits(_ bytes: [UInt8], littleEndian: Bool, from start: Int) -> [UInt16] {
        let count = (bytes.count - start) / 2
        return [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count {
                let first = UInt16(bytes[start + 2 * index])
                let second = UInt16(bytes[start + 2 * index + 1])
                buffer[index] = littleEndian ? first | second << 8 : first << 8 | second
            }
            initialized = count
        }
    }

    static func firstInvalidPosition(_ bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                lineStart = i + 1
                i += 1
                continue
            }
            let length: Int
            switch b {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return (line, i - lineStart + 1)
            }
            guard i + length <= bytes.count else { return (line, i - lineStart + 1) }
            let sequence = bytes[i..<(i + length)]
            if String(validating: sequence, as: UTF8.self) == nil { return (line, i - lineStart + 1) }
            i += length
        }
        return (line, 1)
    }

    /// The first unpaired surrogate's line and code-unit column, or the odd last byte's; nil when
    /// the units are valid UTF-16.
    static func firstInvalidPosition(_ units: [UInt16], oddByte: Bool) -> (line: Int, column: Int)? {
        var line = 1
        var lineStart = 0
        var i = 0
        while i < units.count {
            let unit = units[i]
            switch unit {
            case 0x000A:
                line += 1
                lineStart = i + 1
            case 0xD800...0xDBFF:
                guard i + 1 < units.count, (0xDC00...0xDFFF).contains(units[i + 1]) else {
                    return (line, i - lineStart + 1)
                }
                i += 1
            case 0xDC00...0xDFFF:
                return (line, i - lineStart + 1)
            default:
                break
            }
            i += 1
        }
        return oddByte ? (line, units.count - lineStart + 1) : nil
    }
}
