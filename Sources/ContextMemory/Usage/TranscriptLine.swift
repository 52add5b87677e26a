import CByteSearch
import Foundation

/// What one line of a Claude Code transcript says about context use, read from its bytes.
///
/// A transcript line can be megabytes (a tool result holding a whole file), and most lines say
/// nothing about usage, so a line is only parsed when it holds one of the byte strings that matter:
/// `"usage"` (an API response's token counts), `compact_boundary` (a compaction) or `"agentType"`
/// (an Agent tool's result naming the sub-agent it ran). Inside a JSON string every `"` is escaped,
/// so these quoted names occur unescaped only as keys (or as a whole string value, which the parse
/// then sorts out): a tool result that quotes a transcript never passes for one.
///
/// The parse walks the line's top-level object and reads only the fields below, skipping every
/// other value (strings by `memchr` to their closing quote) without building anything:
///
/// ```json
/// {"type": "assistant", "requestId": "req_..", "isSidechain": false, "agentId": "..", "sessionId": "..",
///  "message": {"id": "msg_..", "model": "claude-..", "usage": {"input_tokens": 1,
///    "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3, "output_tokens": 4}, "content": [..]}}
/// {"type": "system", "subtype": "compact_boundary", "compactMetadata": {"trigger": "auto", "preTokens": 1}}
/// {"type": "user", "toolUseResult": {"agentId": "..", "agentType": "..", "resolvedModel": ".."}, ..}
/// ```
///
/// A line that is not a JSON object (first and last non-blank bytes `{` and `}`), or one of the
/// lines that matter whose object does not parse, is ``Kind/malformed``. Anything else that is not
/// a request, a compaction or an agent's result is ``Kind/other``; so are requests whose model is
/// `<synthetic>` (messages Claude Code writes itself, with no API call behind them).
struct TranscriptLine {
    enum Kind: Equatable {
        /// A line of an API response with its usage.
        case request
        /// A `compact_boundary` system line.
        case compaction
        /// An Agent (or Task) tool's result naming the sub-agent: `toolUseResult.agentId`.
        case agentResult
        /// Any other object: user lines, summaries, snapshots, other system lines, unknown types.
        case other
        /// Not a JSON object, or a line that matters whose object does not parse.
        case malformed
        /// A blank line (not counted).
        case blank
    }

    var kind = Kind.other
    /// Hashes of `requestId` and `message.id`: the lines of one response share them (either may be
    /// missing from a line).
    var requestKey: UInt64?
    var messageKey: UInt64?
    var model: String?
    var sessionId: String?
    var isSidechain = false
    var agentId: String?
    /// input + cache creation + cache read tokens of the request.
    var context = 0
    var output = 0
    /// The sub-agent an Agent tool's result names (``Kind/agentResult``), its type and model.
    var resultAgentId: String?
    var resultAgentType: String?
    var resultModel: String?

    /// A line that says nothing.
    init() {}

    /// Reads a line (without its line feed). `agentResults`: also parse Agent tool results.
    init(_ line: UnsafeBufferPointer<UInt8>, agentResults: Bool = true) {
        guard let base = line.baseAddress else {
            kind = .blank
            return
        }
        var first = 0
        var last = line.count - 1
        while first <= last, JSONCursor.isSpace(base[first]) { first += 1 }
        while last >= first, JSONCursor.isSpace(base[last]) { last -= 1 }
        guard first <= last else {
            kind = .blank
            return
        }
        guard base[first] == UInt8(ascii: "{"), base[last] == UInt8(ascii: "}") else {
            kind = .malformed
            return
        }
        let length = last + 1 - first
        let start = base + first
        let matters =
            Self.contains(start, length, Self.usageNeedle) || Self.contains(start, length, Self.compactNeedle)
            || (agentResults && Self.contains(start, length, Self.agentTypeNeedle))
        guard matters else { return }
        var cursor = JSONCursor(start, count: length)
        guard parse(&cursor) else {
            self = TranscriptLine()
            kind = .malformed
            return
        }
    }

    static let usageNeedle = Array("\"usage\"".utf8)
    static let compactNeedle = Array("compact_boundary".utf8)
    static let agentTypeNeedle = Array("\"agentType\"".utf8)

    static func contains(_ start: UnsafePointer<UInt8>, _ length: Int, _ needle: [UInt8]) -> Bool {
        needle.withUnsafeBufferPointer { ctxmem_memmem(start, length, $0.baseAddress, $0.count) != nil }
    }

    private mutating func parse(_ cursor: inout JSONCursor) -> Bool {
        var type: String?
        var subtype: String?
        var requestId: UInt64?
        var messageId: UInt64?
        var usage: (input: Int, creation: Int, read: Int, output: Int)?
        let parsed = cursor.object { cursor, key in
            switch key {
            case "type":
                type = cursor.text()
                return type != nil
            case "subtype":
                subtype = cursor.text()
                return subtype != nil
            case "requestId":
                requestId = cursor.hashedString()
                return requestId != nil
            case "sessionId":
                sessionId = cursor.text()
                return sessionId != nil
            case "agentId":
                agentId = cursor.text()
                return agentId != nil
            case "isSidechain":
                isSidechain = cursor.boolean() ?? false
                return true
            case "message":
                guard cursor.peek == UInt8(ascii: "{") else { return cursor.skipValue() }
                return cursor.object { cursor, key in
                    switch key {
                    case "id":
                        messageId = cursor.hashedString()
                        return messageId != nil
                    case "model":
                        model = cursor.text()
                        return model != nil
                    case "usage":
                        guard cursor.peek == UInt8(ascii: "{") else { return cursor.skipValue() }
                        var counts = (input: 0, creation: 0, read: 0, output: 0)
                        let ok = cursor.object { cursor, key in
                            switch key {
                            case "input_tokens": counts.input = cursor.count()
                            case "cache_creation_input_tokens": counts.creation = cursor.count()
                            case "cache_read_input_tokens": counts.read = cursor.count()
                            case "output_tokens": counts.output = cursor.count()
                            default: return cursor.skipValue()
                            }
                            return true
                        }
                        usage = counts
                        return ok
                    default:
                        return cursor.skipValue()
                    }
                }
            case "toolUseResult":
                guard cursor.peek == UInt8(ascii: "{") else { return cursor.skipValue() }
                return cursor.object { cursor, key in
                    switch key {
                    case "agentId":
                        resultAgentId = cursor.text()
                        return resultAgentId != nil
                    case "agentType":
                        resultAgentType = cursor.text()
                        return resultAgentType != nil
                    case "resolvedModel":
                        resultModel = cursor.text()
                        return resultModel != nil
                    default:
                        return cursor.skipValue()
                    }
                }
            default:
                return cursor.skipValue()
            }
        }
        guard parsed else { return false }
        cursor.skipSpace()
        guard cursor.atEnd else { return false }
        if type == "assistant", let usage, model != "<synthetic>" {
            kind = .request
            requestKey = requestId
            messageKey = messageId
            context = Self.sum(usage.input, usage.creation, usage.read)
            output = usage.output
        } else if type == "system", subtype == "compact_boundary" {
            kind = .compaction
        } else if resultAgentId != nil {
            kind = .agentResult
        } else {
            kind = .other
        }
        return true
    }

    private static func sum(_ values: Int...) -> Int {
        values.reduce(0) { total, value in
            let (result, overflow) = total.addingReportingOverflow(value)
            return overflow ? Int.max : result
        }
    }
}

/// A forward-only reader of JSON bytes: just enough to walk objects, read short strings and
/// counts, and skip every other value. Tolerant (it does not check that brackets pair by kind),
/// never reads past its end, and never recurses: a hostile line of a million `[` costs a loop.
struct JSONCursor {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private(set) var index = 0

    /// The longest string kept as text (a model, an id); longer ones are cut with `…`.
    static let textLimit = 200

    init(_ base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    var atEnd: Bool { index >= end }
    var peek: UInt8? { index < end ? base[index] : nil }

    mutating func skipSpace() {
        while index < end, Self.isSpace(base[index]) { index += 1 }
    }

    /// Walks an object, calling `member` with each key (the cursor at its value, which `member`
    /// must read or skip). Returns false when the bytes are not an object or `member` fails.
    mutating func object(_ member: (inout JSONCursor, Key) -> Bool) -> Bool {
        skipSpace()
        guard index < end, base[index] == UInt8(ascii: "{") else { return false }
        index += 1
        skipSpace()
        if index < end, base[index] == UInt8(ascii: "}") {
            index += 1
            return true
        }
        while true {
            skipSpace()
            guard let key = rawString() else { return false }
            skipSpace()
            guard index < end, base[index] == UInt8(ascii: ":") else { return false }
            index += 1
            skipSpace()
            guard member(&self, Key(base: base, range: key)) else { return false }
            skipSpace()
            guard index < end else { return false }
            let byte = base[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            return byte == UInt8(ascii: "}")
        }
    }

    /// An object key, compared with string literals without making a String.
    struct Key {
        let base: UnsafePointer<UInt8>
        let range: Range<Int>

        static func ~= (literal: StaticString, key: Key) -> Bool {
            literal.utf8CodeUnitCount == key.range.count
                && memcmp(literal.utf8Start, key.base + key.range.lowerBound, key.range.count) == 0
        }
    }

    /// The raw bytes of a string (escapes left as they are), the cursor after its closing quote.
    mutating func rawString() -> Range<Int>? {
        guard index < end, base[index] == UInt8(ascii: "\"") else { return nil }
        let open = index
        var from = index + 1
        while from < end {
            guard let found = memchr(base + from, 0x22, end - from) else { return nil }
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            var before = quote - 1
            while before > open, base[before] == UInt8(ascii: "\\") {
                backslashes += 1
                before -= 1
            }
            if backslashes % 2 == 0 {
                index = quote + 1
                return (open + 1)..<quote
            }
            from = quote + 1
        }
        return nil
    }

    /// A string value as text (escapes decoded, at most ``textLimit`` characters), or nil when the
    /// value is not a string.
    mutating func text() -> String? {
        guard let range = rawString() else { return nil }
        let bytes = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        var text: String
        if memchr(base + range.lowerBound, 0x5C, range.count) == nil {
            text = String(decoding: bytes, as: UTF8.self)
        } else {
            text = Self.unescaped(bytes)
        }
        if text.count > Self.textLimit { text = String(text.prefix(Self.textLimit)) + "…" }
        return text
    }

    /// A string value's FNV-1a hash (of its raw bytes), or nil when the value is not a string.
    mutating func hashedString() -> UInt64? {
        guard let range = rawString() else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for offset in range {
            hash = (hash ^ UInt64(base[offset])) &* 0x100_0000_01b3
        }
        return hash
    }

    /// `true` or `false`; nil (and the value skipped) for anything else.
    mutating func boolean() -> Bool? {
        let start = index
        guard skipValue() else { return nil }
        let length = index - start
        if length == 4, memcmp(base + start, "true", 4) == 0 { return true }
        if length == 5, memcmp(base + start, "false", 5) == 0 { return false }
        return nil
    }

    /// A token count: a non-negative number (fractions cut, absurd values capped); 0 for anything
    /// else, which is skipped.
    mutating func count() -> Int {
        let start = index
        var value = 0
        while index < end, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") {
            value = min(value &* 10 &+ Int(base[index] - UInt8(ascii: "0")), 1 << 48)
            index += 1
        }
        if index == start {
            _ = skipValue()
            return 0
        }
        // A fraction or exponent: rare; read the whole number.
        if index < end, base[index] == UInt8(ascii: ".") || base[index] | 0x20 == UInt8(ascii: "e") {
            index = start
            _ = skipValue()
            let literal = String(
                decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
            guard let number = Double(literal), number.isFinite, number >= 0 else { return 0 }
            return Int(min(number, Double(1 << 48)))
        }
        return value
    }

    /// Skips one value of any kind. Returns false when it runs off the end or meets no value.
    mutating func skipValue() -> Bool {
        skipSpace()
        guard index < end else { return false }
        switch base[index] {
        case UInt8(ascii: "\""):
            return rawString() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < end {
                let byte = base[index]
                if byte == UInt8(ascii: "\"") {
                    guard rawString() != nil else { return false }
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                }
                index += 1
            }
            return false
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"):
            return false
        default:
            // A number, true, false or null: up to the next delimiter.
            let start = index
            while index < end {
                let byte = base[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                    || Self.isSpace(byte)
                {
                    break
                }
                index += 1
            }
            return index > start
        }
    }

    /// A JSON string's bytes with its escapes decoded (an invalid escape is kept as written).
    static func unescaped(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        func flush() {
            if !utf8.isEmpty {
                scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                utf8.removeAll(keepingCapacity: true)
            }
        }
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for offset in at..<(at + 4) {
                guard let digit = Character(Unicode.Scalar(bytes[offset])).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        var offset = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            guard byte == UInt8(ascii: "\\"), offset + 1 < bytes.count else {
                utf8.append(byte)
                offset += 1
                continue
            }
            let escape = bytes[offset + 1]
            let simple: UInt8? =
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape
                case UInt8(ascii: "b"): 0x08
                case UInt8(ascii: "f"): 0x0C
                case UInt8(ascii: "n"): 0x0A
                case UInt8(ascii: "r"): 0x0D
                case UInt8(ascii: "t"): 0x09
                default: nil
                }
            if let simple {
                utf8.append(simple)
                offset += 2
                continue
            }
            guard escape == UInt8(ascii: "u"), var value = hex4(offset + 2) else {
                utf8.append(byte)
                offset += 1
                continue
            }
            offset += 6
            if (0xD800..<0xDC00).contains(value), offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                bytes[offset + 1] == UInt8(ascii: "u"), let low = hex4(offset + 2), (0xDC00..<0xE000).contains(low)
            {
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                offset += 6
            }
            flush()
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        flush()
        return String(scalars)
    }
}
