/// The character classes of the GPT-2 pre-tokenizer pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
enum ScalarClass: UInt8, Sendable {
    case letter = 0
    case number, space, other
}

enum ScalarClassifier {
    /// Classes of the Basic Multilingual Plane, one byte a scalar, built once (about 2 ms).
    static let basicPlane: [UInt8] = (0..<0x1_0000).map { value in
        Unicode.Scalar(UInt32(value)).map { classify(properties: $0.properties).rawValue } ?? ScalarClass.other.rawValue
    }

    /// `\s` is Unicode White_Space (what Oniguruma, and so HF `tokenizers`, match: U+0009-000D, U+0020, U+0085,
    /// U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000), then the letter and number
    /// general categories; everything else, unassigned scalars included, is "other".
    static func classify(properties: Unicode.Scalar.Properties) -> ScalarClass {
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    @inline(__always)
    static func classify(_ value: UInt32, table: UnsafeBufferPointer<UInt8>) -> ScalarClass {
        if value < 0x1_0000 { return ScalarClass(rawValue: table[Int(value)]).unsafelyUnwrapped }
        return Unicode.Scalar(value).map { classify(properties: $0.properties) } ?? .other
    }
}

/// Decodes the scalar at `index` of valid UTF-8 (a Swift string's bytes): its value and length in bytes.
@inline(__always)
func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
    let lead = UInt32(bytes[index])
    if lead < 0x80 { return (lead, 1) }
    if lead < 0xE0 {
        return ((lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2)
    }
    if lead < 0xF0 {
        return ((lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
    }
    return (
        (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
            | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F), 4
    )
}

/// One match of the GPT-2 pattern: bytes `start..<end`; the "core" is the piece without the optional
/// leading space that ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+` take.
struct Piece {
    var start: Int
    var coreStart: Int
    var end: Int
    /// The class of the core's scalars (contractions such as `'s` report `.other`, the class of `'`).
    var coreClass: ScalarClass
    var coreScalars: Int
}

/// The GPT-2 pre-tokenizer pattern, hand-written over UTF-8: one pass, no backtracking, no allocation.
///
/// It reproduces the regex's leftmost-first alternation exactly: a contraction (`'s 't 're 've 'm 'll 'd`,
/// case-sensitive) only at the start of a match; one ASCII space joins the run of letters, numbers or
/// other symbols that follows it; a whitespace run followed by a non-space leaves its last scalar to the
/// next match (`\s+(?!\S)`) unless the run is a single scalar (`\s+`).
struct GPT2Splitter {
    let bytes: UnsafeBufferPointer<UInt8>
    let classes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>, classes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.classes = classes
    }

    @inline(__always)
    private func scalar(at index: Int) -> (cls: ScalarClass, length: Int) {
        let byte = bytes[index]
        if byte < 0x80 { return (ScalarClass(rawValue: classes[Int(byte)]).unsafelyUnwrapped, 1) }
        let (value, length) = decodeScalar(bytes, at: index)
        return (ScalarClassifier.classify(value, table: classes), length)
    }

    mutating func next() -> Piece? {
        let count = bytes.count
        let start = position
        guard start < count else { return nil }
        let first = bytes[start]

        if first == 0x27, start + 1 < count {  // '
            let second = bytes[start + 1]
            if second == 0x73 || second == 0x74 || second == 0x6D || second == 0x64 {  // s t m d
                position = start + 2
                return Piece(start: start, coreStart: start, end: start + 2, coreClass: .other, coreScalars: 2)
            }
            if start + 2 < count {
                let third = bytes[start + 2]
                if (second == 0x72 && third == 0x65) || (second == 0x76 && third == 0x65)
                    || (second == 0x6C && third == 0x6C)
                {
                    position = start + 3  // 're 've 'll
                    return Piece(start: start, coreStart: start, end: start + 3, coreClass: .other, coreScalars: 3)
                }
            }
        }

        var coreStart = start
        var (cls, length) = scalar(at: start)
        if first == 0x20, start + 1 < count {
            let following = scalar(at: start + 1)
            if following.cls != .space {
                coreStart = start + 1
                (cls, length) = following
            }
        }
        if cls != .space {
            var end = coreStart + length
            var scalars = 1
            while end < count {
                let next = scalar(at: end)
                guard next.cls == cls else { break }
                end += next.length
                scalars += 1
            }
            position = end
            return Piece(start: start, coreStart: coreStart, end: end, coreClass: cls, coreScalars: scalars)
        }

        var lastStart = start
        var end = start + length
        var scalars = 1
        while end < count {
            let next = scalar(at: end)
            guard next.cls == .space else { break }
            lastStart = end
            end += next.length
            scalars += 1
        }
        if end < count && lastStart != start {
            end = lastStart
            scalars -= 1
        }
        position = end
        return Piece(start: start, coreStart: start, end: end, coreClass: .space, coreScalars: scalars)
    }
}
