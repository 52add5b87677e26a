/// A JSON value, for frontmatter kept in the index and shown in JSON output.
public enum JSONValue: Sendable, Equatable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as a whole number within `range`, or nil: a number with a fraction, out of range,
    /// infinite or NaN is never converted (`Int(1e30)` traps).
    public func wholeNumber(in range: ClosedRange<Int>) -> Int? {
        // 2^63 itself is out of Int's range, though `Double(Int.max)` rounds up to it.
        guard case .number(let value) = self, value.isFinite, value == value.rounded(),
            value >= -0x1p63, value < 0x1p63
        else { return nil }
        let whole = Int(value)
        return range.contains(whole) ? whole : nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// A finite number, or nil.
    public var numberValue: Double? {
        if case .number(let value) = self, value.isFinite { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 {
                try container.encode(Int(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
