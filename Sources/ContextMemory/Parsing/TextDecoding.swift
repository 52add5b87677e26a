/// Decodes file bytes as UTF-8, replacing invalid sequences with U+FFFD and saying where the first
/// one was, so a file with a stray Latin-1 byte is still indexed and the problem is recorded.
public enum TextDecoding {
    public struct Decoded: Sendable {
        public var text: String
        /// 1-based line and byte column of the first invalid sequence, when there was one.
        public var firstInvalid: (line: Int, column: Int)?
    }

    public static func decode(_ bytes: [UInt8]) -> Decoded {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a BOM is not text
        if let text = String(validating: bytes, as: UTF8.self) {
            return Decoded(text: text, firstInvalid: nil)
        }
        return Decoded(text: String(decoding: bytes, as: UTF8.self), firstInvalid: firstInvalidPosition(bytes))
    }

    /// Whether the bytes look like a binary file: a NUL byte in the first 8 KiB, as git decides.
    public static func looksBinary(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(8192).contains(0)
    }

    static func firstInvalidPosition(_ bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1, lineStart = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0A { line += 1; lineStart = i + 1; i += 1; continue }
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
}
