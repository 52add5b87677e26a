import Foundation
import Yams

/// A JSON value, for frontmatter kept in the index and shown in JSON output.
public enum JSONValue: Sendable, Equatable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Converts a composed YAML node, expanding aliases, within a budget of values and a depth.
    /// - Throws: ``Frontmatter/LimitExceeded`` when the node is larger or deeper than allowed.
    init(yaml node: Node, budget: inout Int, depth: Int) throws {
        budget -= 1
        guard budget >= 0 else { throw Frontmatter.LimitExceeded.values }
        switch node {
        case let .scalar(scalar):
            self = Self(scalar: scalar)
        case let .mapping(mapping):
            guard depth > 0 else { throw Frontmatter.LimitExceeded.depth }
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = try JSONValue(yaml: value, budget: &budget, depth: depth - 1)
            }
            self = .object(object)
        case let .sequence(sequence):
            guard depth > 0 else { throw Frontmatter.LimitExceeded.depth }
            var items: [JSONValue] = []
            items.reserveCapacity(min(sequence.count, max(0, budget)))
            for item in sequence { items.append(try JSONValue(yaml: item, budget: &budget, depth: depth - 1)) }
            self = .array(items)
        case let .alias(alias):
            self = .string("*\(alias.anchor)")
        }
    }

    /// A scalar as YAML 1.2's core schema reads it (as Claude Code's JavaScript YAML parser
    /// does): `1:30` is a string, not YAML 1.1's sexagesimal 90 (whose conversion in Yams also
    /// traps on overflow: `1:1:1:1:1:1:1:1:1:1:1:1` crashed the indexer).
    private init(scalar: Node.Scalar) {
        let text = scalar.string
        if scalar.style == .plain, !text.contains(":") {
            if let bool = Bool.construct(from: scalar) { self = .bool(bool); return }
            if let int = Int.construct(from: scalar) { self = .number(Double(int)); return }
            // Infinity and NaN have no JSON form: kept as the text written (`.inf`, `1e400`).
            if let double = Double.construct(from: scalar), double.isFinite, !text.isEmpty,
               text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true {
                self = .number(double); return
            }
            if NSNull.construct(from: scalar) != nil { self = .null; return }
        }
        self = .string(text)
    }

    /// The value as a whole number within `range`, or nil: a number with a fraction, out of range,
    /// infinite or NaN is never converted (`Int(1e30)` traps).
    public func wholeNumber(in range: ClosedRange<Int>) -> Int? {
        // 2^63 itself is out of Int's range, though `Double(Int.max)` rounds up to it.
        guard case let .number(value) = self, value.isFinite, value == value.rounded(),
              value >= -0x1p63, value < 0x1p63 else { return nil }
        let whole = Int(value)
        return range.contains(whole) ? whole : nil
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(value) = self { return value }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int(value)) } else { try container.encode(value) }
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}
