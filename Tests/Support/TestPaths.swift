public import Foundation

/// Where the tests' files are: computed once from this file's path, for every test target.
public enum TestPaths {
    /// The repository's root (Package.swift's folder).
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Tests/ContextMemoryTests, beside its fixtures.
    public static let coreTests = repository.appendingPathComponent("Tests/ContextMemoryTests")
    /// The fixture trees (`project`, `audit`, ...) and files every test target reads.
    public static let fixtures = coreTests.appendingPathComponent("Fixtures")
    /// The JSON Schemas, Schemas/openapi.yaml and the SQLite schema dump.
    public static let schemas = repository.appendingPathComponent("Schemas")
}
