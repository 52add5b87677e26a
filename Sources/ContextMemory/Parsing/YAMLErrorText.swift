import Yams

/// Turns Yams errors into one-line messages with a line number.
enum YAMLErrorText {
    static func describe(_ error: any Error) -> String {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
                let prefix = context.map { "\($0.text) " } ?? ""
                return "line \(mark.line): \(prefix)\(problem)"
            case .composer(let context, let problem, let mark, _):
                let prefix = context.map { "\($0.text) " } ?? ""
                return "line \(mark.line): \(prefix)\(problem)"
            default:
                return "\(yaml)"
            }
        }
        if let decoding = error as? DecodingError {
            switch decoding {
            case .typeMismatch(let type, let context):
                return "\(codingPath(context.codingPath)): expected \(type)"
            case .valueNotFound(let type, let context):
                return "\(codingPath(context.codingPath)): missing \(type)"
            case .keyNotFound(let key, let context):
                return "\(codingPath(context.codingPath + [key])): required"
            case .dataCorrupted(let context):
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
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
    }
}
