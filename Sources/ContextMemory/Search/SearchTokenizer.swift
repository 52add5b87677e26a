import Foundation

/// The one tokenizer of ctxmem's full-text index, used for documents and for queries alike, so a
/// query term matches exactly what was indexed.
///
/// - ASCII letters and digits form words, lowercased; every other ASCII character separates, so
///   `ADR-0005`, `crd:sync`, `VPC_peering` and `netbox_hedgehog/models.py` become short runs of
///   words that a phrase query finds as typed.
/// - Letters and digits of other scripts join words too, lowercased and with Latin diacritics
///   removed (`Café` matches `cafe`).
/// - Han, Hiragana, Katakana and Hangul characters are words of one character each: those
///   scripts do not separate words with spaces, and a phrase of single characters finds any word
///   inside a sentence (SQLite's unicode61 would index a whole sentence as one token).
public enum SearchTokenizer {
    /// Calls `emit(token, startByte, endByte)` for every token of `bytes`; stops when it returns false.
    public static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ emit: (UnsafeBufferPointer<UInt8>, Int, Int) -> Bool
    ) {
        var token = Token()
        var i = 0
        let count = bytes.count
        while i < count {
            let byte = bytes[i]
            if byte < 0x80 {
                if (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) {
                    token.append(byte, at: i)
                } else if byte >= 0x41 && byte <= 0x5A {
                    token.append(byte | 0x20, at: i)
                } else if !token.flush(i, emit) {
                    return
                }
                i += 1
                continue
            }
            guard let (scalar, length) = decode(bytes, at: i) else {
                if !token.flush(i, emit) { return }
                i += 1
                continue
            }
            if isIdeographic(scalar) {
                if !token.flush(i, emit) { return }
                var single: [UInt8] = Array(String(scalar).utf8)
                let keepGoing = single.withUnsafeMutableBufferPointer { emit(UnsafeBufferPointer($0), i, i + length) }
                if !keepGoing { return }
                single.removeAll()
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                token.append(contentsOf: fold(scalar), at: i)
            } else if scalar.properties.generalCategory == .nonspacingMark, token.start >= 0 {
                // Combining marks (decomposed accents) stay with their word and are dropped.
            } else if !token.flush(i, emit) {
                return
            }
            i += length
        }
        _ = token.flush(count, emit)
    }

    /// The word being read. A struct with mutating methods rather than a local function that
    /// captures the scan's variables: those captures drew a dynamic exclusivity check on every
    /// token (about 4% of a cold index, on the writer thread that FTS5 tokenizes on).
    private struct Token {
        var bytes: [UInt8] = []
        /// Where the word starts in the input, -1 between words.
        var start = -1

        init() { bytes.reserveCapacity(64) }

        @inline(__always) mutating func append(_ byte: UInt8, at offset: Int) {
            if start < 0 { start = offset }
            bytes.append(byte)
        }

        mutating func append(contentsOf folded: [UInt8], at offset: Int) {
            if start < 0 { start = offset }
            bytes.append(contentsOf: folded)
        }

        /// Hands the word ending at `end` to `emit`, if there is one; false when `emit` says stop.
        @inline(__always) mutating func flush(_ end: Int, _ emit: (UnsafeBufferPointer<UInt8>, Int, Int) -> Bool)
            -> Bool
        {
            guard start >= 0 else { return true }
            let keepGoing = bytes.withUnsafeBufferPointer { emit($0, start, end) }
            bytes.removeAll(keepingCapacity: true)
            start = -1
            return keepGoing
        }
    }

    /// The tokens of a string, for queries and tests.
    public static func tokens(_ text: String) -> [String] {
        var result: [String] = []
        var copy = text
        copy.withUTF8 { buffer in
            scan(buffer) { token, _, _ in
                result.append(String(decoding: token, as: UTF8.self))
                return true
            }
        }
        return result
    }

    static func isIdeographic(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF,  // Hiragana, Katakana
            0x3400...0x4DBF, 0x4E00...0x9FFF,  // CJK ideographs
            0xF900...0xFAFF, 0x20000...0x3134F,
            0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF,  // Hangul
            0xFF66...0xFF9F:  // half-width Katakana
            return true
        default:
            return false
        }
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            value = UInt32(lead & 0x1F)
        case 0xE0...0xEF:
            length = 3
            value = UInt32(lead & 0x0F)
        case 0xF0...0xF4:
            length = 4
            value = UInt32(lead & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let continuation = bytes[index + offset]
            guard continuation & 0xC0 == 0x80 else { return nil }
            value = (value << 6) | UInt32(continuation & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }

    /// Lowercase, and strip diacritics from Latin letters (a table built once from Foundation).
    private static func fold(_ scalar: Unicode.Scalar) -> [UInt8] {
        if let folded = latinFolds[scalar.value] { return folded }
        return Array(scalar.properties.lowercaseMapping.utf8)
    }

    private static let latinFolds: [UInt32: [UInt8]] = {
        var table: [UInt32: [UInt8]] = [:]
        // Latin-1 Supplement, Extended-A and -B, and Extended Additional (Vietnamese `ệ`, `ẞ`).
        for value in Array(UInt32(0xC0)...UInt32(0x24F)) + Array(UInt32(0x1E00)...UInt32(0x1EFF)) {
            guard let scalar = Unicode.Scalar(value), scalar.properties.isAlphabetic else { continue }
            let folded = String(scalar).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            table[value] = Array(folded.lowercased().utf8)
        }
        return table
    }()
}
