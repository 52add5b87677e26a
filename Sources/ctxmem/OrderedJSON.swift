/// A JSON value that keeps what a person wrote: object members in their order (duplicates
/// included) and numbers as their text. `ctxmem init` reads Claude Code's `.claude/settings.json`
/// and `.mcp.json` into it, changes a few keys and writes the rest back as it was, which
/// Foundation's `JSONSerialization` cannot (it loses the order and rewrites `1.0` as `1`).
///
///     let value = try OrderedJSON(parsing: #"{"b": 1, "a": [true, null]}"#)
///     value.rendered()   // "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null\n  ]\n}\n"
///
/// Parsing is strict JSON (RFC 8259): no comments, no trailing commas. Errors carry the line and
/// column (``ParseError``).
enum OrderedJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number as written (`10`, `1.5e3`): compared and written back as text.
    case number(String)
    case string(String)
    case array([OrderedJSON])
    case object([Member])

    struct Member: Equatable, Sendable {
        var key: String
        var value: OrderedJSON
    }

    static func number(_ value: Int) -> OrderedJSON { .number(String(value)) }

    static let emptyObject = OrderedJSON.object([])

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var arrayValue: [OrderedJSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// What kind of value this is, for messages ("a string", "a list").
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "true or false"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    // MARK: - Members

    /// The value of `key` in an object (the last one when the key is repeated, as JSON.parse
    /// reads it); nil for a missing key or a value that is not an object. Setting a key replaces
    /// its value where it stands, or appends it; setting nil removes every member with that key.
    subscript(key: String) -> OrderedJSON? {
        get {
            guard case .object(let members) = self else { return nil }
            return members.last(where: { $0.key == key })?.value
        }
        set {
            guard case .object(var members) = self else { return }
            if let newValue {
                if let index = members.lastIndex(where: { $0.key == key }) {
                    members[index].value = newValue
                } else {
                    members.append(Member(key: key, value: newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
            self = .object(members)
        }
    }

    /// Renames the member `old` to `new` where it stands (its value kept); nothing when `old` is
    /// missing or `new` already exists.
    mutating func renameKey(_ old: String, to new: String) {
        guard case .object(var members) = self, self[new] == nil,
            let index = members.lastIndex(where: { $0.key == old })
        else { return }
        members[index].key = new
        self = .object(members)
    }

    // MARK: - Writing

    /// The value as `JSON.stringify(value, null, 2)` writes it (what Claude Code itself writes):
    /// two-space indent, one member or element per line, `"key": value`, `{}` and `[]` when
    /// empty, a trailing newline. Strings escape only `"`, `\` and control characters.
    func rendered() -> String {
        var text = ""
        write(to: &text, indent: "")
        return text + "\n"
    }

    private func write(to text: inout String, indent: String) {
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .number(let literal): text += literal
        case .string(let value): Self.writeString(value, to: &text)
        case .array(let items):
            guard !items.isEmpty else {
                text += "[]"
                return
            }
            let inner = indent + "  "
            text += "[\n"
            for (offset, item) in items.enumerated() {
                text += inner
                item.write(to: &text, indent: inner)
                text += offset == items.count - 1 ? "\n" : ",\n"
            }
            text += indent + "]"
        case .object(let members):
            guard !members.isEmpty else {
                text += "{}"
                return
            }
            let inner = indent + "  "
            text += "{\n"
            for (offset, member) in members.enumerated() {
                text += inner
                Self.writeString(member.key, to: &text)
                text += ": "
                member.value.write(to: &text, indent: inner)
                text += offset == members.count - 1 ? "\n" : ",\n"
            }
            text += indent + "}"
        }
    }

    private static func writeString(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{8}": text += "\\b"
            case "\u{C}": text += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}

// MARK: - Parsing

extension OrderedJSON {
    /// Why a text is not JSON, and where: line and column count from 1, columns in characters.
    struct ParseError: Error, Equatable, CustomStringConvertible {
        var line: Int
        var column: Int
        var reason: String

        var description: String { "line \(line), column \(column): \(reason)" }
    }

    /// Nesting deeper than this is refused rather than risking the stack on a hostile file.
    static let maxDepth = 512

    /// Parses strict JSON. A leading UTF-8 byte order mark is skipped.
    /// - Throws: ``ParseError`` naming the line and column of the first problem.
    init(parsing text: String) throws {
        var parser = Parser(bytes: Array(text.utf8))
        self = try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var depth = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        mutating func document() throws -> OrderedJSON {
            skipWhitespace()
            guard index < bytes.count else { throw failure("the file is empty; Claude Code expects a JSON object") }
            let value = try parseValue()
            skipWhitespace()
            guard index == bytes.count else { throw failure("unexpected \(describeNext()) after the JSON value") }
            return value
        }

        private mutating func parseValue() throws -> OrderedJSON {
            guard index < bytes.count else { throw failure("unexpected end of file; a value is missing") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw failure("unexpected \(describeNext()); expected a value")
            }
        }

        private mutating func parseObject() throws -> OrderedJSON {
            try enter()
            defer { depth -= 1 }
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if peek(UInt8(ascii: "}")) {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard peek(UInt8(ascii: "\"")) else {
                    throw failure("unexpected \(describeNext()); expected a key in double quotes")
                }
                let key = try parseString()
                skipWhitespace()
                guard peek(UInt8(ascii: ":")) else { throw failure("unexpected \(describeNext()); expected ':'") }
                index += 1
                skipWhitespace()
                members.append(Member(key: key, value: try parseValue()))
                skipWhitespace()
                if peek(UInt8(ascii: ",")) {
                    index += 1
                    skipWhitespace()
                    if peek(UInt8(ascii: "}")) { throw failure("a trailing comma before '}' is not JSON") }
                    continue
                }
                if peek(UInt8(ascii: "}")) {
                    index += 1
                    return .object(members)
                }
                throw failure("unexpected \(describeNext()); expected ',' or '}'")
            }
        }

        private mutating func parseArray() throws -> OrderedJSON {
            try enter()
            defer { depth -= 1 }
            index += 1
            var items: [OrderedJSON] = []
            skipWhitespace()
            if peek(UInt8(ascii: "]")) {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue())
                skipWhitespace()
                if peek(UInt8(ascii: ",")) {
                    index += 1
                    skipWhitespace()
                    if peek(UInt8(ascii: "]")) { throw failure("a trailing comma before ']' is not JSON") }
                    continue
                }
                if peek(UInt8(ascii: "]")) {
                    index += 1
                    return .array(items)
                }
                throw failure("unexpected \(describeNext()); expected ',' or ']'")
            }
        }

        private mutating func parseString() throws -> String {
            let start = index
            index += 1  // the opening quote
            var scalars = String.UnicodeScalarView()
            var runStart = index
            func flushRun() throws {
                guard runStart < index else { return }
                guard let run = String(validating: bytes[runStart..<index], as: UTF8.self) else {
                    throw failure("the string is not valid UTF-8", at: runStart)
                }
                scalars.append(contentsOf: run.unicodeScalars)
            }
            while true {
                guard index < bytes.count else { throw failure("the string is not closed", at: start) }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    try flushRun()
                    index += 1
                    return String(scalars)
                }
                if byte < 0x20 {
                    throw failure("a control character (such as a line break) inside a string must be escaped")
                }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                try flushRun()
                let escapeStart = index
                index += 1
                guard index < bytes.count else { throw failure("the string is not closed", at: start) }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hexQuad(escapeStart)
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by `\u` and a low one.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw failure("an unpaired surrogate \\u escape", at: escapeStart) }
                        index += 2
                        let low = try hexQuad(escapeStart)
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw failure("an unpaired surrogate \\u escape", at: escapeStart)
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else {
                        throw failure("an unpaired surrogate \\u escape", at: escapeStart)
                    }
                    scalars.append(scalar)
                default:
                    throw failure("'\\\(Character(Unicode.Scalar(escaped)))' is not a JSON escape", at: escapeStart)
                }
                runStart = index
            }
        }

        private mutating func hexQuad(_ escapeStart: Int) throws -> UInt32 {
            guard index + 4 <= bytes.count,
                let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
                bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
            else { throw failure("\\u must be followed by four hexadecimal digits", at: escapeStart) }
            index += 4
            return code
        }

        private mutating func parseNumber() throws -> OrderedJSON {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    index += 1
                }
                return index - from
            }
            if peek(UInt8(ascii: "-")) { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0 else { throw failure("a number needs digits", at: start) }
            if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") {
                throw failure("a number must not start with 0 (leading zeros are not JSON)", at: start)
            }
            if peek(UInt8(ascii: ".")) {
                index += 1
                guard digits() > 0 else { throw failure("a number needs digits after '.'", at: start) }
            }
            if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
                index += 1
                if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
                guard digits() > 0 else { throw failure("a number needs digits in its exponent", at: start) }
            }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        private mutating func literal(_ word: String, _ value: OrderedJSON) throws -> OrderedJSON {
            let expected = Array(word.utf8)
            guard bytes[index...].starts(with: expected) else {
                throw failure("unexpected \(describeNext()); expected a value (strings need double quotes)")
            }
            index += expected.count
            return value
        }

        private mutating func enter() throws {
            depth += 1
            guard depth <= OrderedJSON.maxDepth else {
                throw failure("nested deeper than \(OrderedJSON.maxDepth) levels")
            }
        }

        private mutating func skipWhitespace() {
            while index < bytes.count,
                bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09
            {
                index += 1
            }
        }

        private func peek(_ byte: UInt8) -> Bool {
            index < bytes.count && bytes[index] == byte
        }

        /// The next character for a message: `'x'`, or "end of file".
        private func describeNext() -> String {
            guard index < bytes.count else { return "end of file" }
            let rest = bytes[index..<min(bytes.count, index + 4)]
            let character = String(decoding: rest, as: UTF8.self).first.map(String.init) ?? "?"
            if character == "'" { return "\"'\"" }
            return "'\(character)'"
        }

        private func failure(_ reason: String, at offset: Int? = nil) -> ParseError {
            let offset = min(offset ?? index, bytes.count)
            var line = 1
            var lineStart = 0
            for position in 0..<offset where bytes[position] == 0x0A {
                line += 1
                lineStart = position + 1
            }
            let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).count + 1
            return ParseError(line: line, column: column, reason: reason)
        }
    }
}
