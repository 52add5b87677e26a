/// Why a tokenizer.json cannot be used. Each message names the file and the field.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be read.
    case unreadable(path: String, reason: String)
    /// The file is not a tokenizer.json: not JSON, or a required field is missing or of the wrong type.
    case malformed(path: String, detail: String)
    /// A valid tokenizer.json that ctxmem cannot count exactly, e.g. a WordPiece model or a Lowercase normalizer.
    case unsupported(path: String, detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "\(path): cannot read the tokenizer: \(reason)"
        case .malformed(let path, let detail): "\(path): not a usable tokenizer.json: \(detail)"
        case .unsupported(let path, let detail): "\(path): \(detail)"
        }
    }
}
