/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast generator that gives the same numbers
/// for the same seed on every machine and every run.
///
/// Nothing in the library draws random numbers. It lives in the core because two places need the
/// same seeded sequence and can only share code through it: `ctxmem-bench` builds its synthetic
/// corpora and fuzz inputs from it (same arguments, same bytes, so runs compare), and the tests
/// use it for property-style and fuzz cases that must see the same inputs every run. Not for
/// anything that must be unpredictable.
///
/// ```swift
/// var random = SplitMix64(seed: 42)
/// let pick = ["a", "b", "c"].randomElement(using: &random)
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
