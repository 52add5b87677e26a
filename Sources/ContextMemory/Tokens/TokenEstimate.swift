/// The token count the index stores for a section: the fast Claude estimate (see `ClaudeTokenEstimator`).
public enum TokenEstimate {
    public static func count(_ text: String) -> Int {
        ClaudeTokenEstimator().count(text)
    }
}
