public import Foundation

/// A copy of a fixture tree, or of a folder of the repository such as the example `memory/`, in a
/// fresh temporary folder that is removed with the object. Tests write into the copy, never into
/// the original.
public final class FixtureTree: Sendable {
    public let root: URL

    /// A copy of `Tests/ContextMemoryTests/Fixtures/<name>`.
    public convenience init(_ name: String = "project") throws {
        try self.init(copying: TestPaths.fixtures.appendingPathComponent(name))
    }

    /// A copy of a folder of the repository, such as the example `memory/`.
    public convenience init(repositoryFolder name: String) throws {
        try self.init(copying: TestPaths.repository.appendingPathComponent(name))
    }

    public init(copying source: URL) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: root)
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    public func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    public func write(_ path: String, _ text: String) throws {
        try writeBytes(path, Array(text.utf8))
    }

    public func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
        let url = url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    public func append(_ path: String, _ text: String) throws {
        let existing = try String(contentsOf: url(path), encoding: .utf8)
        try write(path, existing + text)
    }

    public func remove(_ path: String) throws {
        try FileManager.default.removeItem(at: url(path))
    }

    public func symlink(_ path: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url(path).path, withDestinationPath: destination)
    }
}
