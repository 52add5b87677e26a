import Foundation
@testable import ContextMemory

/// A fixture tree copied to a fresh temporary folder, removed when the test ends.
final class FixtureTree {
    let root: URL

    init(_ name: String = "project") throws {
        let source = TestPaths.fixtures.appendingPathComponent(name)
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: root)
    }

    /// A copy of a folder of the repository, such as the example `memory/`.
    init(repositoryFolder name: String) throws {
        let source = FixtureTree.repositoryRoot.appendingPathComponent(name)
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: root)
    }

    static let repositoryRoot = TestPaths.repository

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    var service: MemoryService { MemoryService(root: root) }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    func write(_ path: String, _ text: String) throws {
        let url = url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func writeBytes(_ path: String, _ bytes: [UInt8]) throws {
        let url = url(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func append(_ path: String, _ text: String) throws {
        let existing = try String(contentsOf: url(path), encoding: .utf8)
        try write(path, existing + text)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(at: url(path))
    }

    func symlink(_ path: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url(path).path, withDestinationPath: destination)
    }

    /// A reading store of the index of its own (its own row lengths, unlike the service's readers).
    func readStore() throws -> SQLiteReader {
        try SQLiteReader(path: service.databasePath)
    }

    /// What the index holds of each file, by path.
    func storedFiles() throws -> [String: StoredFile] {
        try SQLiteWriter(path: service.databasePath).storedFiles()
    }

    /// Paths of the indexed documents.
    func indexedPaths() throws -> Set<String> {
        Set(try storedFiles().filter { !$0.value.isSkipped }.keys)
    }
}
