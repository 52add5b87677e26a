public import Foundation

/// Exact token counts of a byte-level BPE tokenizer given as an HF `tokenizers` tokenizer.json, such as
/// the Claude-2 tokenizer in the repository's `Tokenizers/` folder.
///
/// The count is the number of ids HF `tokenizers` returns for `encode(text)` with no special tokens
/// added (no post-processor): added tokens such as `<EOT>` are split out of the raw text first, each
/// remaining part is normalised, pre-tokenized and merged by BPE. Supported in tokenizer.json:
///
/// - `model`: `BPE` with `vocab` and `merges` (as `"a b"` strings or `["a", "b"]` arrays), optional
///   `unk_token`, `fuse_unk` and `ignore_merges`; no dropout, no subword prefix or suffix, no byte fallback.
/// - `added_tokens` with their `normalized`, `lstrip`, `rstrip` and `single_word` flags.
/// - `normalizer`: null, `NFC`, `NFD`, `NFKC`, `NFKD` or a `Sequence` of them.
/// - `pre_tokenizer`: `ByteLevel` (with or without `add_prefix_space` and `use_regex`), `Split` with
///   the GPT-2 pattern and `Isolated` behaviour, or a `Sequence` of them; it must contain a `ByteLevel`.
///
/// `truncation`, `padding`, `post_processor` and `decoder` do not change a count and are ignored.
/// Counting is thread-safe; pieces up to 24 bytes share a bounded cache.
///
/// ```swift
/// let claude = try BPETokenizer(contentsOf: URL(fileURLWithPath: "Tokenizers/claude2-tokenizer.json"))
/// claude.count("Hello, world")  // 3
/// ```
public final class BPETokenizer: TokenCounter {
    public let identifier: String

    private let addedTokens: AddedTokenMatcher
    private let normalizedAddedTokens: AddedTokenMatcher
    private let normalizers: [UnicodeNormalizer]
    private let preTokenizer: [PreTokenizerStep]
    private let merges: MergeTable
    /// The token id of each byte's symbol, or -1 when the vocabulary lacks it.
    private let byteIds: [Int32]
    private let unknownId: Int32?
    private let fusesUnknown: Bool
    /// The vocabulary by bytes, kept only for `ignore_merges` (a piece that is a token is one token).
    private let vocabularyBytes: [[UInt8]: Int]?
    private let cache = PieceCountCache()

    /// Loads a tokenizer.json.
    ///
    /// - Throws: `TokenizerError.unreadable` when the file cannot be read, `.malformed` when it is not a
    ///   tokenizer.json, `.unsupported` (naming the field) when it is not a byte-level BPE ctxmem can count.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try BoundedRead.contents(of: url, limit: 256 * 1024 * 1024)
        } catch let error as BoundedRead.Failure {
            throw TokenizerError.unreadable(path: url.relativePath, reason: "\(error)")
        } catch {
            throw TokenizerError.unreadable(path: url.relativePath, reason: Self.reason(error))
        }
        let hash = String(ContentHash(data).hex.prefix(8))
        try self.init(json: data, path: url.relativePath, identifier: "bpe:\(url.lastPathComponent):\(hash)")
    }

    /// Loads a tokenizer.json from memory; `path` only names it in errors.
    ///
    /// - Throws: `TokenizerError.malformed` or `.unsupported`.
    public init(json: Data, path: String, identifier: String) throws {
        let configuration = try TokenizerConfiguration(json: json, path: path)
        self.identifier = identifier
        addedTokens = AddedTokenMatcher(configuration.addedTokens.filter { !$0.normalized }.map(\.token))
        normalizers = configuration.normalizers.map(UnicodeNormalizer.init(form:))
        normalizedAddedTokens = AddedTokenMatcher(
            configuration.addedTokens.filter(\.normalized).map { added in
                var token = added.token
                token.content = Self.normalize(
                    token.content, with: configuration.normalizers.map(UnicodeNormalizer.init(form:)))
                return token
            })
        preTokenizer = configuration.preTokenizer
        merges = MergeTable(configuration.merges)
        byteIds = configuration.byteIds
        unknownId = configuration.unknownId
        fusesUnknown = configuration.fusesUnknown
        vocabularyBytes = configuration.ignoresMerges ? configuration.vocabularyBytes : nil
    }

    public func count(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { count(utf8: $0) }
    }

    /// The count of valid UTF-8 bytes.
    public func count(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        ScalarClassifier.basicPlane.withUnsafeBufferPointer { classes in
            var context = CountContext(classes: classes)
            guard !addedTokens.isEmpty else { return countSegment(bytes, &context) }
            var total = 0
            for split in addedTokens.split(bytes) {
                total += split.isToken ? 1 : countSegment(UnsafeBufferPointer(rebasing: bytes[split.range]), &context)
            }
            return total
        }
    }

    /// Buffers reused across the pieces of one call.
    private struct CountContext {
        let classes: UnsafeBufferPointer<UInt8>
        var normalized: [UInt8] = []
        var spare: [UInt8] = []
        var scalars: [UInt32] = []
        var scratch = MergeScratch()
    }

    /// A part of the text between added tokens: normalise, split out normalised added tokens, pre-tokenize.
    private func countSegment(_ segment: UnsafeBufferPointer<UInt8>, _ context: inout CountContext) -> Int {
        guard !normalizers.isEmpty else { return countNormalized(segment, &context) }
        context.normalized.removeAll(keepingCapacity: true)
        normalizers[0].normalize(segment, into: &context.normalized, scratch: &context.scalars)
        for normalizer in normalizers.dropFirst() {
            swap(&context.normalized, &context.spare)
            context.normalized.removeAll(keepingCapacity: true)
            context.spare.withUnsafeBufferPointer {
                normalizer.normalize($0, into: &context.normalized, scratch: &context.scalars)
            }
        }
        let normalized = context.normalized
        return normalized.withUnsafeBufferPointer { countNormalized($0, &context) }
    }

    private func countNormalized(_ text: UnsafeBufferPointer<UInt8>, _ context: inout CountContext) -> Int {
        guard !normalizedAddedTokens.isEmpty else { return countPreTokenized(text, &context) }
        var total = 0
        for split in normalizedAddedTokens.split(text) {
            total += split.isToken ? 1 : countPreTokenized(UnsafeBufferPointer(rebasing: text[split.range]), &context)
        }
        return total
    }

    private func countPreTokenized(_ text: UnsafeBufferPointer<UInt8>, _ context: inout CountContext) -> Int {
        guard !text.isEmpty else { return 0 }
        if preTokenizer == [.splitGPT2] {  // the usual configuration: no copy
            var splitter = GPT2Splitter(text, classes: context.classes)
            var total = 0
            while let piece = splitter.next() {
                total += countPiece(UnsafeBufferPointer(rebasing: text[piece.start..<piece.end]), &context.scratch)
            }
            return total
        }
        var pieces = [Array(text)]
        for step in preTokenizer {
            switch step {
            case .prefixSpace:
                pieces = pieces.map { $0.first == nil || $0.first == 0x20 ? $0 : [0x20] + $0 }
            case .splitGPT2:
                pieces = pieces.flatMap { piece in
                    piece.withUnsafeBufferPointer { bytes in
                        var splitter = GPT2Splitter(bytes, classes: context.classes)
                        var parts: [[UInt8]] = []
                        while let part = splitter.next() { parts.append(Array(bytes[part.start..<part.end])) }
                        return parts
                    }
                }
            }
        }
        return pieces.reduce(0) { total, piece in
            total + piece.withUnsafeBufferPointer { countPiece($0, &context.scratch) }
        }
    }

    /// BPE of one pre-tokenized piece, through the cache when it is short.
    private func countPiece(_ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout MergeScratch) -> Int {
        if piece.count == 1, byteIds[Int(piece[0])] >= 0 { return 1 }
        guard piece.count <= PieceCountCache.maximumKeyLength else { return merge(piece, &scratch) }
        let hash = PieceCountCache.hash(piece)
        if let cached = cache.count(for: piece, hash: hash) { return cached }
        let count = merge(piece, &scratch)
        cache.store(count, for: piece, hash: hash)
        return count
    }

    private func merge(_ piece: UnsafeBufferPointer<UInt8>, _ scratch: inout MergeScratch) -> Int {
        if let vocabularyBytes, vocabularyBytes[Array(piece)] != nil { return 1 }
        scratch.ids.removeAll(keepingCapacity: true)
        var previousWasUnknown = false
        for byte in piece {
            let id = byteIds[Int(byte)]
            if id >= 0 {
                scratch.ids.append(UInt32(id))
                previousWasUnknown = false
            } else if let unknownId {  // HF: the unknown token, consecutive ones fused when `fuse_unk`
                if !(fusesUnknown && previousWasUnknown) { scratch.ids.append(UInt32(unknownId)) }
                previousWasUnknown = true
            }  // else dropped, as HF does without an unknown token
        }
        return merges.mergedCount(of: &scratch)
    }

    private static func normalize(_ bytes: [UInt8], with normalizers: [UnicodeNormalizer]) -> [UInt8] {
        var current = bytes
        var scalars: [UInt32] = []
        for normalizer in normalizers {
            var output: [UInt8] = []
            current.withUnsafeBufferPointer { normalizer.normalize($0, into: &output, scratch: &scalars) }
            current = output
        }
        return current
    }

    private static func reason(_ error: any Error) -> String {
        let cocoa = error as NSError
        if let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        if cocoa.domain == NSCocoaErrorDomain, cocoa.code == NSFileReadNoSuchFileError { return "no such file" }
        return "\(error)"
    }
}
