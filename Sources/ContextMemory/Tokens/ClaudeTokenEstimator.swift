// PLACEHOLDER until the tokens branch lands (replaced by the calibrated estimator).
public struct ClaudeTokenEstimator: TokenCounter {
    public init() {}
    public var identifier: String { "estimate-v0" }
    public func count(_ text: String) -> Int { TokenEstimate.count(text) }
}
