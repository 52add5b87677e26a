import Foundation
/// SplitMix64: a small seeded generator, so property-style tests see the same inputs every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Where the tests' files are: computed once from this file's path, not again in every suite.
enum TestPaths {
    /// Tests/ContextMemoryTests.
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = tests.appendingPathComponent("Fixtures")
    /// The repository's root (Package.swift's folder).
    static let repository = tests.deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = repository.appendingPathComponent("Schemas")
}
