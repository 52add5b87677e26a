import Foundation
import Synchronization
import Testing

@testable import ContextMemory

/// One writer at a time, cold builds renamed into place whole, damage found and repaired.
@Suite("The index file: one writer, atomic rebuilds, damage")
struct IndexFileSafetyTests {
    @Test("two rebuilds at once run one after the other and leave an intact index")
    func concurrentRebuilds() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let (one, two) = (tree.service, tree.service)  // two services, as two processes would have
        async let first = one.index(rebuild: true)
        async let second = two.index(rebuild: true)
        let reports = try await [first, second]
        #expect(reports.allSatisfy { $0.documents == reports[0].documents && $0.documents > 0 })
        #expect(try tree.service.checkIntegrity() == [])
        await #expect(try !tree.service.search("fabric").isEmpty)
    }

    @Test("two first-time index runs at once: both succeed, one index")
    func concurrentFirstRuns() async throws {
        let tree = try FixtureTree()
        let (one, two) = (tree.service, tree.service)
        async let first = one.index()
        async let second = two.index()
        let reports = try await [first, second]
        #expect(reports.map(\.documents).allSatisfy { $0 == reports[0].documents })
        #expect(reports.map(\.added).sorted() == [0, reports[0].added + reports[1].added])  // the second found it done
        #expect(try tree.service.checkIntegrity() == [])
    }

    @Test("a writer that waits too long gives up with a clear error")
    func lockTimeout() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        do {
            let held = try await WriterLock.acquire(for: tree.service.databasePath, timeout: .seconds(1)) { _ in }
            let told = Mutex<String??>(nil)
            do {
                _ = try await tree.service.index(
                    lockTimeout: .milliseconds(300), waiting: { holder in told.withLock { $0 = holder } })
                Issue.record("expected the lock to be busy")
            } catch let error as IndexError {
                #expect(error == .locked(path: tree.service.databasePath))
                #expect("\(error)".contains("try again"))
            }
            #expect(told.withLock { $0 } == .some(String(getpid())))
            withExtendedLifetime(held) {}
        }
        // Released with its holder: the next run goes through.
        _ = try await tree.service.index()
    }

    @Test("a cold build killed half-way leaves no index, or the old one; its leftover is cleared")
    func killedBuild() async throws {
        let tree = try FixtureTree()
        let path = tree.service.databasePath
        // What a `kill -9` during a first index leaves: a partial file beside the index, no index.
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: path + ".building"))
        #expect(throws: IndexError.missing(path: path)) { _ = try tree.service.search("fabric") }
        _ = try await tree.service.index()
        #expect(!FileManager.default.fileExists(atPath: path + ".building"))
        let generation = try tree.service.statistics().generation
        // The same during a rebuild: the index in place is untouched and still served.
        try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: path + ".building"))
        #expect(try tree.service.statistics().generation == generation)
        await #expect(try !tree.service.search("fabric").isEmpty)
    }

    @Test("readers keep the old file until the rename, then see the new one")
    func readersAcrossRebuild() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let reader = try SQLiteReader(path: tree.service.databasePath)
        #expect(try reader.statistics().documents > 0)
        try tree.write("project_management/new.md", "# New\n\nwombat\n")
        _ = try await tree.service.index(rebuild: true)
        #expect(try reader.statistics().documents > 0)  // the old file, still readable
        await #expect(try tree.service.search("wombat").map(\.path) == ["project_management/new.md"])
        #expect(try tree.service.checkIntegrity() == [])
    }

    @Test("an empty or truncated file is damage, not another version", arguments: [0, 1000, 4097])
    func truncated(size: Int) async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let path = tree.service.databasePath
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(size)
        try SQLiteConnection.remove(at: path)
        try bytes.write(to: URL(fileURLWithPath: path))
        do {
            _ = try await tree.service.search("fabric")
            Issue.record("expected damage")
        } catch let IndexError.corrupt(_, detail) {
            #expect(
                size == 0 ? detail == "the file is empty" : detail.contains("pages") || detail.contains("SQLite"),
                "\(detail)")
        }
        let report = try await tree.service.index()
        #expect(report.replacedDamagedIndex != nil)
        await #expect(try !tree.service.search("fabric").isEmpty)
    }

    @Test("doctor reads every page: damage in the middle of the file is found")
    func doctor() async throws {
        let tree = try FixtureTree()
        for index in 0..<200 {
            try tree.write(
                "project_management/bulk/\(index).md",
                "# Topic \(index)\n\n" + String(repeating: "lorem ipsum dolor \(index) ", count: 80))
        }
        _ = try await tree.service.index()
        #expect(try tree.service.checkIntegrity() == [])
        let path = tree.service.databasePath
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2 / 4096 * 4096)
        var random = SplitMix64(seed: 7)
        try handle.write(contentsOf: Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: random.next()) }))
        try handle.close()
        #expect(try !tree.service.checkIntegrity().isEmpty)
        _ = try await tree.service.index(rebuild: true)
        #expect(try tree.service.checkIntegrity() == [])
    }
}

@Suite("An index whose rows were changed by something else")
struct CraftedIndexTests {
    /// Changes the index with Python's sqlite3, as another program (or a committed, crafted
    /// `.ctxmem/index.sqlite`) would.
    static func alter(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // The full-text trigger needs ctxmem's tokenizer, which Python does not have: drop it first.
        process.arguments = [
            "python3", "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                + "c.execute('PRAGMA ignore_check_constraints = ON'); c.execute('DROP TRIGGER IF EXISTS sections_fts_update'); "
                + "c.execute(sys.argv[2]); c.commit()", path, sql,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test(
        "a value of the wrong type or an unknown name is damage, never a trap or a guess",
        arguments: [
            "UPDATE sections SET start_line = 'x'",
            "UPDATE sections SET tier = 'urgent'",
            "UPDATE sections SET end_line = 'y'",
            "UPDATE documents SET kind = 'nonsense'",
        ])
    func wrongValues(sql: String) async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        try Self.alter(tree.service.databasePath, sql)
        let fresh = tree.service  // a new service: no cached packing state
        do {
            _ = try await fresh.search("fabric")
            _ = try await fresh.pack(PackRequest(task: "fabric", budget: 20_000))
            Issue.record("expected damage to be reported for \(sql)")
        } catch let IndexError.corrupt(_, detail) {
            #expect(detail.contains("cannot be read") || detail.contains("unknown"), "\(detail)")
        }
        _ = try await tree.service.index(rebuild: true)
        await #expect(try !tree.service.search("fabric").isEmpty)
    }
}
