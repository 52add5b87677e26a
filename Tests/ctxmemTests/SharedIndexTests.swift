import ContextMemory
import Foundation
import Testing

/// Two processes on one index: `ctxmem serve` (or any long-lived service) with readers open, and
/// a `ctxmem audit` or `ctxmem index` run beside it.
@Suite("One index, two processes")
struct SharedIndexTests {
    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    @Test("a run in another process never deletes the WAL under a service's open readers")
    func walSurvivesAnotherProcess() async throws {
        let tree = try FixtureTree(repositoryFolder: "memory")
        let service = MemoryService(root: tree.root, readerConnections: 2)
        _ = try await service.index()
        _ = try await service.agents()  // the readers are open from here on
        let index = tree.root.appendingPathComponent(".ctxmem/index.sqlite").path
        let wal = try #require(Self.inode(index + "-wal"))
        let shm = try #require(Self.inode(index + "-shm"))
        // An index run of this process: it once checked the file through a descriptor of its own,
        // whose close dropped the readers' locks, so the other process's run below, closing last
        // as it believed, checkpointed and deleted the WAL and its index under them.
        try "# Changed\n\nA new section.\n".write(
            to: tree.root.appendingPathComponent("project_management/changed.md"), atomically: true, encoding: .utf8)
        _ = try await service.index()
        let other = try CLITests.run(["audit", "--root", tree.root.path, "--format", "json"])
        #expect(other.status == 0 || other.status == 1, "\(other.stderr)")
        #expect(Self.inode(index + "-wal") == wal && Self.inode(index + "-shm") == shm, "the WAL was replaced")
        try "# Changed again\n\nAnother section.\n".write(
            to: tree.root.appendingPathComponent("project_management/changed.md"), atomically: true, encoding: .utf8)
        _ = try await service.index()
        let agents = try await service.agents()
        #expect(!agents.isEmpty)
        #expect(try await service.search("another section").isEmpty == false)
    }
}
