/// Counts tokens of text the way one model's tokenizer would (exactly or as an estimate).
public protocol TokenCounter: Sendable {
    /// Stable identity, stored in the index and shown in pack manifests, e.g. "estimate-v2" or
    /// "bpe:claude2-tokenizer.json:c241737d" (file name + first 8 hex of the file's sha256 or of our ContentHash).
    var identifier: String { get }
    func count(_ text: String) -> Int
}
