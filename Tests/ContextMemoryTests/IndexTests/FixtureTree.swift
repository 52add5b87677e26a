import Foundation

@testable import ContextMemory

/// What the core's tests read of a fixture copy's index (the copy itself: Tests/Support).
extension FixtureTree {
    static var repositoryRoot: URL { TestPaths.repository }

    var service: MemoryService { MemoryService(root: root) }

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
