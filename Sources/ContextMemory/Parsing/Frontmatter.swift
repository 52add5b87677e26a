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

    /// What one frontmatter block may cost. Frontmatter is untrusted input: a 300-byte YAML alias
    /// bomb (`a: &a [x,x,...]`, then levels of `b: &b [*a,*a,...]`) expands to billions of values,
    /// and deep nesting recurses in the YAML parser. Real frontmatter (Claude Code's agent, skill
    /// and rule files, ctxmem's `context:` block) is a few hundred bytes and a few dozen values.
    public struct Limits: Sendable, Equatable {
        /// Bytes of YAML between the delimiters.
        public var maxBytes = 64 * 1024
        /// Values after aliases are expanded (every scalar, list and mapping counts one).
        public var maxValues = 10_000
        /// Lists and mappings inside one another.
        public var maxDepth = 32

        public init() {}
        public static let `default` = Limits()
    }

    /// Why a block was refused: over one of the ``Limits``.
    enum LimitExceeded: Error {
        case values, depth
    }

    /// Splits `lines` into frontmatter and body. A `---` first line without a closing delimiter is
    /// not frontmatter (GitHub and Claude Code render it as a rule), so nothing is lost; when the
    /// next line reads as a YAML key, the missing delimiter is reported as a problem.
    /// A block over ``Limits`` is reported and left out; the body is indexed all the same.
    static func extract(lines: [Substring], limits: Limits = .default) -> Frontmatter {
        guard let first = lines.first, first.trimmingTrailingWhitespace() == "---" else { return .none }
        var closing: Int?
        for index in 1..<lines.count {
            let line = lines[index].trimmingTrailingWhitespace()
            if line == "---" || line == "..." {
                closing = index
                break
            }
        }
        guard let closing else {
            if lines.count > 1, lines[1].wholeMatch(of: #/[A-Za-z_][A-Za-z0-9_-]*\s*:(\s.*)?/#) != nil {
                return Frontmatter(
                    values: nil, lineCount: 0,
                    problem: (
                        1,
                        "frontmatter opened on line 1 is never closed "
                            + "(no `---` line after it): the file is read as Markdown, its first line as a rule; add the closing `---`"
                    ))
            }
            return .none
        }
        let lineCount = closing + 1
        let bytes = lines[1..<closing].reduce(0) { $0 + $1.utf8.count + 1 }
        guard bytes <= limits.maxBytes else {
            return Frontmatter(
                values: nil, lineCount: lineCount,
                problem: (
                    2,
                    "frontmatter is \(bytes) bytes; the limit is "
                        + "\(limits.maxBytes): it is left out and the rest of the file is indexed"
                ))
        }
        let yaml = lines[1..<closing].joined(separator: "\n")
        // libyaml and Yams recurse once per level of `[`/`{`: refuse deep flow nesting before parsing.
        guard Self.flowDepth(yaml) <= limits.maxDepth else {
            return Self.overLimit(.depth, limits: limits, lineCount: lineCount)
        }
        // Yams hashes every key while composing, aliases expanded, before any budget can count:
        // a 390-byte bomb used as a key took 14 s. Keys never need aliases in frontmatter.
        guard !Self.mayUseAliasAsKey(yaml) else {
            return Frontmatter(
                values: nil, lineCount: lineCount,
                problem: (
                    2,
                    "frontmatter uses a YAML alias (`*name`) in a key, "
                        + "which ctxmem does not expand: it is left out and the rest of the file is indexed"
                ))
        }
        do {
            guard let node = try Yams.compose(yaml: yaml) else {
                return Frontmatter(values: [:], lineCount: lineCount, problem: nil)
            }
            guard node.mapping != nil else {
                return Frontmatter(
                    values: nil, lineCount: lineCount,
                    problem: (2, "frontmatter must be a mapping of keys to values"))
            }
            var budget = limits.maxValues
            let value = try JSONValue(yaml: node, budget: &budget, depth: limits.maxDepth)
            guard case .object(let object) = value else {
                return Frontmatter(values: nil, lineCount: lineCount, problem: (2, "frontmatter must be a mapping"))
            }
            return Frontmatter(values: object, lineCount: lineCount, problem: nil)
        } catch let error as LimitExceeded {
            return Self.overLimit(error, limits: limits, lineCount: lineCount)
        } catch let error as YamlError {
            var line = 2
            switch error {
            case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
                line = mark.line + 1
            default: break
            }
            let detail = YAMLErrorText.describe(error)
                .replacingOccurrences(of: #"^line \d+: "#, with: "", options: .regularExpression)
            return Frontmatter(
                values: lenient(lines[1..<closing]), lineCount: lineCount,
                problem: (
                    line,
                    "invalid YAML frontmatter (\(detail)); read leniently as 'key: value' lines, as Claude Code does"
                ))
        } catch {
            return Frontmatter(values: nil, lineCount: lineCount, problem: (2, "invalid YAML frontmatter: \(error)"))
        }
    }

    private static func overLimit(_ limit: LimitExceeded, limits: Limits, lineCount: Int) -> Frontmatter {
        let what =
            switch limit {
            case .values: "expands to more than \(limits.maxValues) values (YAML aliases repeat what they name)"
            case .depth: "nests lists and mappings more than \(limits.maxDepth) levels deep"
            }
        return Frontmatter(
            values: nil, lineCount: lineCount,
            problem: (2, "frontmatter \(what): it is left out and the rest of the file is indexed"))
    }

    /// Whether an alias may stand in a mapping key: an alias followed on its line by a `:` that
    /// ends a key (`*a: x`, `{*a: 1}`, `[*a]: x`), or any alias when explicit keys (`? `) are
    /// used. Conservative: a `: ` in a comment after an alias also counts.
    static func mayUseAliasAsKey(_ yaml: String) -> Bool {
        var explicitKeys = false
        var aliases = false
        for line in yaml.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let bytes = Array(line)
            let lead =
                bytes.firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "-") }
                ?? bytes.count
            if lead < bytes.count, bytes[lead] == UInt8(ascii: "?") || bytes[lead] == UInt8(ascii: ":"),
                lead + 1 == bytes.count || bytes[lead + 1] == UInt8(ascii: " ") || bytes[lead + 1] == UInt8(ascii: "\t")
            {
                explicitKeys = true
            }
            var quote: UInt8?
            var aliasOnLine = false
            for index in bytes.indices {
                let byte = bytes[index]
                if let open = quote {
                    if byte == open { quote = nil }
                    continue
                }
                let previous = index == 0 ? UInt8(ascii: " ") : bytes[index - 1]
                let startsToken = [
                    UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","),
                ].contains(previous)
                if startsToken && (byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")) {
                    quote = byte
                } else if startsToken && byte == UInt8(ascii: "*") {
                    aliasOnLine = true
                    aliases = true
                } else if aliasOnLine && byte == UInt8(ascii: ":") {
                    let next = index + 1 < bytes.count ? bytes[index + 1] : UInt8(ascii: " ")
                    if [
                        UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: ","), UInt8(ascii: "]"),
                        UInt8(ascii: "}"),
                    ].contains(next) {
                        return true
                    }
                }
            }
        }
        return explicitKeys && aliases
    }

    /// The deepest nesting of `[` and `{` outside quotes: an upper bound of what a flow collection
    /// makes the parser recurse (a `#` comment or a bracket in a plain scalar only overestimates).
    static func flowDepth(_ yaml: String) -> Int {
        var depth = 0
        var deepest = 0
        var quote: UInt8?
        for byte in yaml.utf8 {
            if let open = quote {
                if byte == open { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            case UInt8(ascii: "\n"): quote = nil
            default: break
            }
        }
        return deepest
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

extension JSONValue {
    /// Converts a composed YAML node, expanding aliases, within a budget of values and a depth.
    /// - Throws: ``Frontmatter/LimitExceeded`` when the node is larger or deeper than allowed.
    init(yaml node: Node, budget: inout Int, depth: Int) throws {
        budget -= 1
        guard budget >= 0 else { throw Frontmatter.LimitExceeded.values }
        switch node {
        case .scalar(let scalar):
            self = Self(scalar: scalar)
        case .mapping(let mapping):
            guard depth > 0 else { throw Frontmatter.LimitExceeded.depth }
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                object[key.string ?? "\(key)"] = try JSONValue(yaml: value, budget: &budget, depth: depth - 1)
            }
            self = .object(object)
        case .sequence(let sequence):
            guard depth > 0 else { throw Frontmatter.LimitExceeded.depth }
            var items: [JSONValue] = []
            items.reserveCapacity(min(sequence.count, max(0, budget)))
            for item in sequence { items.append(try JSONValue(yaml: item, budget: &budget, depth: depth - 1)) }
            self = .array(items)
        case .alias(let alias):
            self = .string("*\(alias.anchor)")
        }
    }

    /// A scalar as YAML 1.2's core schema reads it (as Claude Code's JavaScript YAML parser
    /// does): `1:30` is a string, not YAML 1.1's sexagesimal 90 (whose conversion in Yams also
    /// traps on overflow: `1:1:1:1:1:1:1:1:1:1:1:1` crashed the indexer).
    private init(scalar: Node.Scalar) {
        let text = scalar.string
        if scalar.style == .plain, !text.contains(":") {
            if let bool = Bool.construct(from: scalar) {
                self = .bool(bool)
                return
            }
            if let int = Int.construct(from: scalar) {
                self = .number(Double(int))
                return
            }
            // Infinity and NaN have no JSON form: kept as the text written (`.inf`, `1e400`).
            if let double = Double.construct(from: scalar), double.isFinite, !text.isEmpty,
                text.first.map({ $0.isNumber || $0 == "-" || $0 == "+" || $0 == "." }) == true
            {
                self = .number(double)
                return
            }
            if NSNull.construct(from: scalar) != nil {
                self = .null
                return
            }
        }
        self = .string(text)
    }
}
