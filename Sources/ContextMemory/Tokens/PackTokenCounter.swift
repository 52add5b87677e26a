import Foundation

/// The counter a pack's budget is enforced with: a base counter (the estimator or an exact BPE),
/// times a per-model factor, plus a safety margin, rounded up.
///
/// The offline Claude tokenizer is exact only for Claude 2-era models; newer models are reported to
/// produce up to about 1.35 times as many tokens for the same text, so a pack for such a model sets
/// `token_factor` (or `--token-factor`). The margin covers the base counter's own error: the
/// estimator's default margin is measured against the exact BPE (docs/tokens.md); an exact BPE
/// needs none.
public struct PackTokenCounter: Sendable {
    public let base: any TokenCounter
    public let modelFactor: Double
    public let safetyMargin: Double

    /// The estimator's margin: above its worst per-pack error on the fixture and real corpora.
    public static let estimatorMargin = 0.05

    public init(base: any TokenCounter, modelFactor: Double = 1.0, safetyMargin: Double? = nil) {
        self.base = base
        self.modelFactor = modelFactor
        let margin = safetyMargin ?? (base.identifier.hasPrefix("bpe:") ? 0 : Self.estimatorMargin)
        self.safetyMargin = margin
        identifier =
            "\(base.identifier) x\(String(format: "%.2f", modelFactor)) +\(String(format: "%g", (margin * 1000).rounded() / 10))%"
    }

    public func count(_ text: String) -> Int {
        scaled(base.count(text))
    }

    /// What ``count(_:)`` returns for a text the base counter counted `raw` tokens in (the index
    /// stores those counts, so packs need not count section bodies again).
    public func scaled(_ raw: Int) -> Int {
        guard modelFactor != 1 || safetyMargin != 0 else { return raw }
        return Int((Double(raw) * modelFactor * (1 + safetyMargin)).rounded(.up))
    }

    /// `estimate-v2 x1.00 +5%`: what a manifest states the budget was measured with.
    public let identifier: String
}
