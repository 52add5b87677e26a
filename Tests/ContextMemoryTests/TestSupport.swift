import Foundation
/// Where the tests' files are: computed once from this file's path, not again in every suite.
enum TestPaths {
    /// Tests/ContextMemoryTests.
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = tests.appendingPathComponent("Fixtures")
    /// The repository's root (Package.swift's folder).
    static let repository = tests.deletingLastPathComponent().deletingLastPathComponent()
    static let schemas = repository.appendingPathComponent("Schemas")
}
