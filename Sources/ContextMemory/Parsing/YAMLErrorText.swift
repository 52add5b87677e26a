import Yams

/// Turns Yams errors into one-line messages with a line number.
enum YAMLErrorText {
    static func describe(_ error: any Error) -> String {
        if let yaml = error as? YamlError {
            switch yaml {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _):
                let prefix = context.map { "\($0.text) " } ?? ""
                return "line \(mark.line): \(prefix)\(problem)"
            case let .composer(context, problem, mark, _):
                let prefix = context.map { "\($0.text) " } ?? ""
                return "line \(mark.line): \(prefix)\(problem)"
            default:
                return "\(yaml)"
            }
        }
        if let decoding = error as? DecodingError {
            switch decoding {
            case let .typeMismatch(type, context):
                return "\(codingPath(context.codingPath)): expected \(type)"
            case let .valueNotFound(type, context):
                return "\(codingPath(context.codingPath)): missing \(type)"
            case let .keyNotFound(key, context):
                return "\(codingPath(context.codingPath + [key])): required"
            case let .dataCorrupted(context):
                return "\(codingPath(context.codingPath)): \(context.debugDescription)"
            @unknown default:
                return "\(decoding)"
            }
        }
        return "\(error)"
    }

    private static func codingPath(_ path: [any CodingKey]) -> String {
        guard !path.isEmpty else { return "top level" }
        return path.reduce(into: "") { text, key in
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
    }
}
