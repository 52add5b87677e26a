import Foundation

/// A step of the pre-tokenizer, as far as it changes a count.
enum PreTokenizerStep: Sendable, Equatable {
    /// Split by the GPT-2 pattern (ByteLevel with `use_regex`, or Split with that pattern).
    case splitGPT2
    /// ByteLevel `add_prefix_space`: a space before each part that does not start with one.
    case prefixSpace
}

/// What `BPETokenizer` needs from a tokenizer.json, checked field by field.
struct TokenizerConfiguration {
    /// The pattern of GPT-2's ByteLevel pre-tokenizer, the only one ctxmem splits by.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    var addedTokens: [(token: AddedToken, normalized: Bool)] = []
    var normalizers: [NormalizationForm] = []
    var preTokenizer: [PreTokenizerStep] = []
    var merges: [(left: UInt32, right: UInt32, merged: UInt32)] = []
    var byteIds = [Int32](repeating: -1, count: 256)
    var unknownId: Int32?
    var fusesUnknown = false
    var ignoresMerges = false
    var vocabularyBytes: [[UInt8]: Int] = [:]

    private let path: String

    init(json: Data, path: String) throws {
        self.path = path
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw TokenizerError.malformed(path: path, detail: "not JSON (\(error))")
        }
        guard let root = object as? [String: Any] else {
            throw TokenizerError.malformed(path: path, detail: "the top level is not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.malformed(path: path, detail: "no \"model\" object")
        }
        normalizers = try Self.normalizers(root["normalizer"], field: "normalizer", path: path)
        preTokenizer = try Self.preTokenizer(root["pre_tokenizer"], field: "pre_tokenizer", path: path)
        guard Self.hasByteLevel(root["pre_tokenizer"]) else {
            throw unsupported("pre_tokenizer has no ByteLevel step; ctxmem needs a byte-level BPE")
        }
        try readModel(model)
        try readAddedTokens(root["added_tokens"])
    }

    private func unsupported(_ detail: String) -> TokenizerError { .unsupported(path: path, detail: detail) }
    private func malformed(_ detail: String) -> TokenizerError { .malformed(path: path, detail: detail) }

    // MARK: model

    private mutating func readModel(_ model: [String: Any]) throws {
        let type = model["type"] as? String ?? "BPE"  // files written before `type` existed are BPE
        guard type == "BPE" else {
            throw unsupported("model.type \(type) is not supported; ctxmem needs a byte-level BPE")
        }
        if let dropout = model["dropout"] as? Double, dropout > 0 {
            throw unsupported("model.dropout \(dropout) is not supported: dropout makes counts random")
        }
        for field in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[field] as? String, !affix.isEmpty {
                throw unsupported("model.\(field) \"\(affix)\" is not supported by a byte-level BPE")
            }
        }
        if model["byte_fallback"] as? Bool == true {
            throw unsupported(
                "model.byte_fallback true is not supported (it belongs to SentencePiece-style BPE, not byte-level)")
        }
        guard let vocabulary = model["vocab"] as? [String: Any] else {
            throw malformed("model.vocab is missing or not an object")
        }
        var ids: [String: UInt32] = [:]
        ids.reserveCapacity(vocabulary.count)
        for (token, value) in vocabulary {
            guard let id = value as? Int, id >= 0, id <= Int(Int32.max) else {
                throw malformed("model.vocab[\"\(token)\"] is not a token id")
            }
            ids[token] = UInt32(id)
        }
        let unicodeOfByte = Self.byteLevelAlphabet()
        for byte in 0..<256 {
            if let id = ids[String(Character(unicodeOfByte[byte]))] { byteIds[byte] = Int32(id) }
        }
        guard byteIds.contains(where: { $0 >= 0 }) else {
            throw unsupported(
                "model.vocab has none of the 256 byte-level symbols (Ġ for a space, ...); ctxmem needs a byte-level BPE"
            )
        }
        if let unknown = model["unk_token"] as? String {
            guard let id = ids[unknown] else { throw malformed("model.unk_token \"\(unknown)\" is not in model.vocab") }
            unknownId = Int32(id)
        }
        fusesUnknown = model["fuse_unk"] as? Bool ?? false
        ignoresMerges = model["ignore_merges"] as? Bool ?? false
        if ignoresMerges {
            var byteOfUnicode: [Unicode.Scalar: UInt8] = [:]
            for (byte, scalar) in unicodeOfByte.enumerated() { byteOfUnicode[scalar] = UInt8(byte) }
            for (token, id) in ids {
                let bytes = token.unicodeScalars.compactMap { byteOfUnicode[$0] }
                if bytes.count == token.unicodeScalars.count { vocabularyBytes[bytes] = Int(id) }
            }
        }

        guard let rawMerges = model["merges"] as? [Any] else {
            throw malformed("model.merges is missing or not an array")
        }
        merges.reserveCapacity(rawMerges.count)
        for (rank, entry) in rawMerges.enumerated() {
            let pair: [String]
            if let line = entry as? String {
                pair = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let parts = entry as? [Any] {
                pair = parts.compactMap { $0 as? String }
            } else {
                pair = []
            }
            guard pair.count == 2 else {
                throw malformed("model.merges[\(rank)] is not a pair (\"a b\" or [\"a\", \"b\"])")
            }
            guard let left = ids[pair[0]], let right = ids[pair[1]], let merged = ids[pair[0] + pair[1]] else {
                throw malformed("model.merges[\(rank)] \"\(pair[0]) \(pair[1])\" uses a token missing from model.vocab")
            }
            merges.append((left, right, merged))
        }
    }

    /// GPT-2's `bytes_to_unicode`: printable Latin-1 bytes stand for themselves, the others for U+0100 on.
    static func byteLevelAlphabet() -> [Unicode.Scalar] {
        var next: UInt32 = 256
        return (0..<256).map { byte in
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable { return Unicode.Scalar(UInt8(byte)) }
            defer { next += 1 }
            return Unicode.Scalar(next)!
        }
    }

    // MARK: added tokens

    private mutating func readAddedTokens(_ value: Any?) throws {
        guard let value, !(value is NSNull) else { return }
        guard let list = value as? [Any] else { throw malformed("added_tokens is not an array") }
        for (index, entry) in list.enumerated() {
            guard let token = entry as? [String: Any], let content = token["content"] as? String else {
                throw malformed("added_tokens[\(index)] has no \"content\"")
            }
            let special = token["special"] as? Bool ?? false
            addedTokens.append(
                (
                    AddedToken(
                        content: Array(content.utf8),
                        singleWord: token["single_word"] as? Bool ?? false,
                        leftStrip: token["lstrip"] as? Bool ?? false,
                        rightStrip: token["rstrip"] as? Bool ?? false),
                    token["normalized"] as? Bool ?? !special
                ))
        }
    }

    // MARK: normalizer

    private static func normalizers(_ value: Any?, field: String, path: String) throws -> [NormalizationForm] {
        guard let value, !(value is NSNull) else { return [] }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.malformed(path: path, detail: "\(field) is not an object with a \"type\"")
        }
        if let form = NormalizationForm(rawValue: type) { return [form] }
        guard type == "Sequence" else {
            throw TokenizerError.unsupported(
                path: path, detail: "\(field).type \(type) is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)"
            )
        }
        guard let list = object["normalizers"] as? [Any] else {
            throw TokenizerError.malformed(path: path, detail: "\(field).normalizers is missing or not an array")
        }
        return try list.enumerated().flatMap { index, item in
            try normalizers(item, field: "\(field).normalizers[\(index)]", path: path)
        }
    }

    // MARK: pre-tokenizer

    private static func preTokenizer(_ value: Any?, field: String, path: String) throws -> [PreTokenizerStep] {
        guard let value, !(value is NSNull) else { return [] }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.malformed(path: path, detail: "\(field) is not an object with a \"type\"")
        }
        switch type {
        case "ByteLevel":
            var steps: [PreTokenizerStep] = []
            if object["add_prefix_space"] as? Bool ?? true { steps.append(.prefixSpace) }
            if object["use_regex"] as? Bool ?? true { steps.append(.splitGPT2) }
            return steps
        case "Split":
            let pattern = object["pattern"] as? [String: Any]
            guard let regex = pattern?["Regex"] as? String, regex == gpt2Pattern else {
                throw TokenizerError.unsupported(
                    path: path,
                    detail: "\(field).pattern is not supported: ctxmem splits only by the GPT-2 pattern \(gpt2Pattern)")
            }
            let behavior = object["behavior"] as? String ?? "Isolated"
            guard behavior == "Isolated" else {
                throw TokenizerError.unsupported(
                    path: path, detail: "\(field).behavior \(behavior) is not supported (only Isolated)")
            }
            guard object["invert"] as? Bool != true else {
                throw TokenizerError.unsupported(path: path, detail: "\(field).invert true is not supported")
            }
            return [.splitGPT2]
        case "Sequence":
            guard let list = object["pretokenizers"] as? [Any] else {
                throw TokenizerError.malformed(path: path, detail: "\(field).pretokenizers is missing or not an array")
            }
            return try list.enumerated().flatMap { index, item in
                try preTokenizer(item, field: "\(field).pretokenizers[\(index)]", path: path)
            }
        default:
            throw TokenizerError.unsupported(
                path: path,
                detail:
                    "\(field).type \(type) is not supported (supported: ByteLevel, Split with the GPT-2 pattern, Sequence); ctxmem needs a byte-level BPE"
            )
        }
    }

    private static func hasByteLevel(_ value: Any?) -> Bool {
        guard let object = value as? [String: Any] else { return false }
        if object["type"] as? String == "ByteLevel" { return true }
        return (object["pretokenizers"] as? [Any])?.contains(where: hasByteLevel) ?? false
    }
}
