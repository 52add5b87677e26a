import Foundation
import Yams

/// YAML frontmatter between a first line `---` and the next `---` or `...` line.
public struct Frontmatter: Sendable {
    /// The parsed mapping, as JSON-compatible values; nil when there is no frontmatter or it is invalid.
    public var values: [String: JSONValue]?
    /// Number of lines the frontmatter block takes, delimiters included (0 when none).
    public var lineCount: Int
    /// Why the frontmatter could not be used, with a line number in the file.
    public var problem: (line: Int, message: String)?

    public static let none = Frontmatter(values: nil, lineCount: 0, problem: nil)

    /// Claude Code still reads agent files whose `description:` holds an unquoted `: ` (invalid
    /// YAML, common in real repositories): take top-level `key: value` lines, and `- item` lines
    /// under an empty key as a list.
    static func lenient(_ lines: ArraySlice<Substring>) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        var listKey: String?
        for line in lines {
            if let match = line.wholeMatch(of: #/([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*)/#) {
                let key = String(match.1)
                var value = String(match.2).trimmingCharacters(in: .whitespaces)
                if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                    value = String(value.dropFirst().dropLast())
                }
                values[key] = .string(value)
                listKey = value.isEmpty ? key : nil
            } else if let key = listKey, let item = line.wholeMatch(of: #/\s*-\s+(.*)/#) {
                let entry = JSONValue.string(String(item.1).trimmingCharacters(in: .whitespaces))
                values[key] = .array((values[key]?.arrayValue ?? []) + [entry])
            }
        }
        return values
    }

    /// Splits `lines` into frontmatter and body. A `---` first line without a closing delimiter is
    /// not frontmatter (GitHub and Claude Code render it as a rule), so nothing is lost.
    static func extract(lines: [Substring]) -> Frontmatter {
        guard let first = lines.first, first.trimmingTrailingWhitespace() == "---" else { return .none }
        var closing: Int?
        for index in 1..<lines.count {
            let line = lines[index].trimmingTrailingWhitespace()
            if line == "---" || line == "..." { closing = index; break }
        }
        guard let closing else { return .none }
        let yaml = lines[1..<closing].joined(separator: "\n")
        let lineCount = closing + 1
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                return Frontmatter(values: [:], lineCount: lineCount, problem: nil)
            }
            guard node.mapping != nil else {
                return Frontmatter(values: nil, lineCount: lineCount,
                                   problem: (2, "frontmatter must be a mapping of keys to values"))
            }
            let value = JSONValue(yaml: node)
            guard case let .object(object) = value else {
                return Frontmatter(values: nil, lineCount: lineCount, problem: (2, "frontmatter must be a mapping"))
            }
            return Frontmatter(values: object, lineCount: lineCount, problem: nil)
        } catch let error as YamlError {
            var line = 2
            switch error {
            case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
                line = mark.line + 1
            default: break
            }
            let detail = YAMLErrorText.describe(error)
                .replacingOccurrences(of: #"^line \d+: "#, with: "", options: .regularExpression)
            return Frontmatter(values: lenient(lines[1..<closing]), lineCount: lineCount,
                               problem: (line, "invalid YAML frontmatter (\(detail)); read leniently as 'key: value' lines, as Claude Code does"))
        } catch {
            return Frontmatter(values: nil, lineCount: lineCount, problem: (2, "invalid YAML frontmatter: \(error)"))
        }
    }
}

/// A JSON value, for frontmatter kept in the index and shown in JSON output.
public enum JSONValue: Sendable, Equatable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(yaml node: Node) {
        switch node {
        case let .scalar(scalar):
            let text = scalar.string
            if scalar.style == .plain {
                if let bool = Bool.construct(from: scalar) { self = .bool(bool); return }
                if let int = Int.construct(from: scalar) { self = .number(Double(int)); return }
                if let double = Double.construct(from: scalar), !text.isEmpty,
                   text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true {
                    self = .number(double); return
                }
                if NSNull.construct(from: scalar) != nil { self = .null; return }
            }
            self = .string(text)
        case let .mapping(mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = JSONValue(yaml: value)
            }
            self = .object(object)
        case let .sequence(sequence):
            self = .array(sequence.map { JSONValue(yaml: $0) })
        case let .alias(alias):
            self = .string("*\(alias.anchor)")
        }
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

extension Substring {
    func trimmingTrailingWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex {
            let previous = index(before: end)
            guard self[previous] == " " || self[previous] == "\t" || self[previous] == "\r" else { break }
            end = previous
        }
        return self[startIndex..<end]
    }
}
