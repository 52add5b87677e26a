import Foundation
import Testing

@testable import ContextMemory

@Suite("Bad input: a finding or a clear error, and nothing else lost")
struct BadInputTests {
    private func findings(_ tree: FixtureTree, rule: RuleID) throws -> [Finding] {
        try tree.service.findings().filter { $0.rule == rule }
    }

    @Test("invalid UTF-8 is decoded with replacement and recorded with its line")
    func invalidUTF8() async throws {
        let tree = try FixtureTree()
        try tree.writeBytes(
            "project_management/latin1.md",
            Array("# Caf\u{E9}\n\nline two\n".utf8.prefix(5)) + [0xE9] + Array("\n\nzanzibar here\n".utf8))
        _ = try await tree.service.index()
        let recorded = try findings(tree, rule: RuleID.invalidUTF8)
        #expect(recorded.map(\.path) == ["project_management/latin1.md"])
        #expect(recorded.first?.line == 1)
        await #expect(try tree.service.search("zanzibar").map(\.path) == ["project_management/latin1.md"])
    }

    @Test("binary files are skipped and recorded")
    func binary() async throws {
        let tree = try FixtureTree()
        try tree.writeBytes("project_management/diagram.md", [0x89, 0x50, 0x4E, 0x47, 0x00, 0x00, 0x01])
        let report = try await tree.service.index()
        #expect(report.skipped == 1)
        #expect(try findings(tree, rule: RuleID.binaryFile).map(\.path) == ["project_management/diagram.md"])
        #expect(try !tree.indexedPaths().contains("project_management/diagram.md"))
        // Still skipped, and still recorded, when nothing changed.
        let again = try await tree.service.index()
        #expect(again.skipped == 1 && again.unchanged == report.added + report.unchanged)
        #expect(try findings(tree, rule: RuleID.binaryFile).count == 1)
    }

    @Test("files over the size limit are skipped without being read")
    func tooLarge() async throws {
        let tree = try FixtureTree()
        try tree.write(".ctxmem.yaml", "max_file_size: 1000\n")
        try tree.write("project_management/big.md", "# Big\n\n" + String(repeating: "word ", count: 400))
        _ = try await tree.service.index()
        let recorded = try findings(tree, rule: RuleID.fileTooLarge)
        #expect(recorded.map(\.path) == ["project_management/big.md"])
        #expect(recorded.first?.message.contains("max_file_size") == true)
        #expect(try tree.indexedPaths().contains("CLAUDE.md"))
    }

    @Test("malformed frontmatter is recorded and the file still indexed")
    func malformedFrontmatter() async throws {
        let tree = try FixtureTree()
        try tree.write("project_management/bad.md", "---\ntitle: [unclosed\nowner: x\n---\n# Heading\n\nmarmalade\n")
        _ = try await tree.service.index()
        let recorded = try findings(tree, rule: RuleID.invalidFrontmatter)
        #expect(recorded.map(\.path) == ["project_management/bad.md"])
        let hit = try await #require(try tree.service.search("marmalade").first)
        #expect(hit.startLine == 5)
    }

    @Test("broken symlinks, loops and links out of the root are recorded, never followed")
    func symlinks() async throws {
        let tree = try FixtureTree()
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data("# Secret\n\nexfiltrate\n".utf8).write(to: outside.appendingPathComponent("secret.md"))

        try tree.symlink("project_management/broken.md", to: "nowhere.md")
        try tree.symlink("project_management/loop", to: "..")
        try tree.symlink("project_management/outside", to: outside.path)
        try tree.symlink("project_management/outside.md", to: outside.appendingPathComponent("secret.md").path)
        try tree.symlink("project_management/alias.md", to: "archive/old.md")
        _ = try await tree.service.index()

        let all = try tree.service.findings()
        #expect(all.contains { $0.rule == RuleID.brokenSymlink && $0.path == "project_management/broken.md" })
        #expect(all.contains { $0.rule == RuleID.symlinkLoop && $0.path == "project_management/loop" })
        #expect(all.contains { $0.rule == RuleID.symlinkOutsideRoot && $0.path == "project_management/outside" })
        #expect(all.contains { $0.rule == RuleID.symlinkOutsideRoot && $0.path == "project_management/outside.md" })
        await #expect(try tree.service.search("exfiltrate").isEmpty)
        // A symlink to a file inside the root is indexed under its own path.
        #expect(try tree.indexedPaths().contains("project_management/alias.md"))
    }

    @Test("two files symlinked to each other are a symlink-loop, not a broken symlink")
    func fileSymlinkLoop() async throws {
        let tree = try FixtureTree()
        try tree.symlink("project_management/a.md", to: "b.md")
        try tree.symlink("project_management/b.md", to: "a.md")
        try tree.symlink("project_management/self.md", to: "self.md")
        try tree.write("CLAUDE.md", "# Root\n\n@project_management/a.md\n")
        let report = try await tree.service.index()
        let all = try tree.service.findings()
        for path in ["project_management/a.md", "project_management/b.md", "project_management/self.md"] {
            let recorded = all.filter { $0.path == path }
            #expect(recorded.map(\.rule) == [RuleID.symlinkLoop], "\(path): \(recorded)")
            #expect(recorded.first?.message.contains("loops") == true)
        }
        #expect(!all.contains { $0.rule == RuleID.brokenSymlink })
        #expect(report.documents > 0)
    }

    /// Opening a FIFO for reading blocks until something writes to it. Should the indexer ever
    /// open one, this writer releases it after a while, so the test fails instead of hanging.
    private func releaseAfterDelay(_ fifo: String) {
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) {
            let descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
        }
    }

    @Test("a FIFO that an import or a memory rule reaches is recorded, never opened")
    func fifo() async throws {
        let tree = try FixtureTree()
        let imported = tree.url("docs/pipe.md").path
        let managed = tree.url("project_management/pipe.md").path
        let unreached = tree.url("scratch/pipe.md").path
        try FileManager.default.createDirectory(at: tree.url("scratch"), withIntermediateDirectories: true)
        for fifo in [imported, managed, unreached] {
            #expect(mkfifo(fifo, 0o644) == 0, "mkfifo \(fifo): \(String(cString: strerror(errno)))")
            releaseAfterDelay(fifo)
        }
        try tree.write("CLAUDE.md", "# Root\n\nSee @docs/pipe.md for the stream.\n")
        let report = try await tree.service.index()

        let recorded = try findings(tree, rule: RuleID.notRegularFile)
        #expect(recorded.map(\.path).sorted() == ["docs/pipe.md", "project_management/pipe.md"])
        #expect(recorded.allSatisfy { $0.severity == .warning && $0.message.contains("FIFO") })
        #expect(
            try tree.indexedPaths().isDisjoint(with: ["docs/pipe.md", "project_management/pipe.md", "scratch/pipe.md"]))
        #expect(try tree.indexedPaths().contains("CLAUDE.md"))
        #expect(report.skipped == 2)
        // Still recorded when nothing changed, and still never opened.
        let again = try await tree.service.index()
        #expect(again.skipped == 2 && again.changed == 0)
        #expect(try findings(tree, rule: RuleID.notRegularFile).count == 2)
    }

    @Test(
        "UTF-16 files with a byte order mark are decoded and indexed, their lines numbered as written",
        arguments: [true, false])
    func utf16(littleEndian: Bool) async throws {
        let tree = try FixtureTree()
        let text = "# Notes\r\n\r\n## Windows\r\n\r\nThe quokka \u{1F998} uses Notepad.\r\n"
        let units = Array(text.utf16)
        let bytes =
            (littleEndian ? [0xFF, 0xFE] : [0xFE, 0xFF])
            + units.flatMap { unit -> [UInt8] in
                let low = UInt8(unit & 0xFF)
                let high = UInt8(unit >> 8)
                return littleEndian ? [low, high] : [high, low]
            }
        try tree.writeBytes("project_management/notepad.md", bytes)
        _ = try await tree.service.index()
        #expect(try tree.indexedPaths().contains("project_management/notepad.md"))
        #expect(try tree.service.findings().filter { $0.path == "project_management/notepad.md" }.isEmpty)
        let hit = try await #require(try tree.service.search("quokka").first)
        #expect(hit.path == "project_management/notepad.md")
        #expect(hit.headingPath == ["Notes", "Windows"])
        #expect(hit.startLine == 3 && hit.endLine == 5)
        await #expect(try tree.service.read(handle: hit.handle).text.contains("The quokka \u{1F998} uses Notepad."))
    }

    @Test("an unpaired surrogate in UTF-16 is decoded as U+FFFD and recorded with its line")
    func invalidUTF16() async throws {
        let tree = try FixtureTree()
        var units = Array("# Broken\n\nhalf ".utf16)
        units.append(0xD83E)  // a high surrogate without its low half
        units += Array(" wombat\n".utf16)
        try tree.writeBytes(
            "project_management/broken.md", [0xFF, 0xFE] + units.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        _ = try await tree.service.index()
        let recorded = try findings(tree, rule: RuleID.invalidUTF16)
        #expect(recorded.map(\.path) == ["project_management/broken.md"])
        #expect(recorded.first?.line == 3 && recorded.first?.column == 6)
        #expect(recorded.first?.message.contains("UTF-16LE") == true)
        let hit = try await #require(try tree.service.search("wombat").first)
        await #expect(try tree.service.read(handle: hit.handle).text.contains("half \u{FFFD} wombat"))
    }

    @Test("a UTF-8 byte order mark is not text: the first heading is clean")
    func utf8ByteOrderMark() async throws {
        let tree = try FixtureTree()
        try tree.writeBytes("project_management/bom.md", [0xEF, 0xBB, 0xBF] + Array("# Kiwi plan\n\nbody\n".utf8))
        _ = try await tree.service.index()
        let hit = try await #require(try tree.service.search("kiwi").first)
        #expect(hit.headingPath == ["Kiwi plan"])
        #expect(hit.handle == "memory://project_management/bom.md#kiwi-plan")
        #expect(try findings(tree, rule: RuleID.invalidUTF8).isEmpty)
    }

    @Test("imports that leave the root are never read")
    func importOutsideRoot() async throws {
        let tree = try FixtureTree()
        try tree.write("CLAUDE.md", "# Root\n\n@../../../../etc/passwd\n@/etc/hostname\n@~/.claude/CLAUDE.md\n")
        _ = try await tree.service.index()
        #expect(try tree.indexedPaths().allSatisfy { !$0.contains("passwd") && !$0.contains("hostname") })
        await #expect(try tree.service.search("root").contains { $0.path == "CLAUDE.md" })
    }

    @Test("import cycles are recorded once and do not loop")
    func importCycle() async throws {
        let tree = try FixtureTree()
        try tree.write("CLAUDE.md", "# Root\n\n@docs/a.md\n")
        try tree.write("docs/a.md", "# A\n\n@b.md\n")
        try tree.write("docs/b.md", "# B\n\n@a.md\n")
        _ = try await tree.service.index()
        let cycles = try findings(tree, rule: RuleID.importCycle)
        #expect(cycles.count == 1)
        #expect(cycles.first?.message.contains("docs/a.md -> docs/b.md -> docs/a.md") == true)
        // One cycle, one message: the audit words it as the index does.
        let options = AuditOptions(rules: [.importCycle], refreshIndex: false, useGit: false)
        #expect(try await tree.service.audit(options).findings.map(\.message) == cycles.map(\.message))
    }

    @Test("an unreadable root is a clear error")
    func missingRoot() async throws {
        let service = MemoryService(
            root: URL(fileURLWithPath: "/nonexistent/ctxmem-root"),
            databasePath: FileManager.default.temporaryDirectory.appendingPathComponent(
                "ctxmem-\(UUID().uuidString).sqlite"
            ).path)
        await #expect(throws: IndexError.self) { _ = try await service.index() }
    }

    @Test("a damaged index is a clear error for readers, and index rebuilds it by itself")
    func corruptIndex() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let path = tree.service.databasePath
        try SQLiteConnection.remove(at: path)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try await tree.service.search("fabric")
            Issue.record("expected a damaged-index error")
        } catch let error as IndexError {
            guard case .corrupt = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect("\(error)".contains("--rebuild"))
        }
        let report = try await tree.service.index()
        #expect(report.replacedDamagedIndex == "not an SQLite database")
        await #expect(try !tree.service.search("fabric").isEmpty)
    }

    @Test("searching before indexing says how to index")
    func missingIndex() throws {
        let tree = try FixtureTree()
        #expect(throws: IndexError.missing(path: tree.service.databasePath)) { _ = try tree.service.search("x") }
    }

    @Test("a locked index is a clear error, not a hang")
    func lockedIndex() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let store = try SQLiteWriter(path: tree.service.databasePath, busyTimeout: 0.1)
        try store.connection.holdingWriteLock {
            #expect(throws: IndexError.locked(path: tree.service.databasePath)) {
                let blocked = try SQLiteWriter(path: tree.service.databasePath, busyTimeout: 0.1)
                try blocked.apply(IndexChanges())
            }
            // Readers are not blocked by a writer.
            let reader = try SQLiteReader(path: tree.service.databasePath)
            #expect(try reader.statistics().documents > 0)
        }
    }
}
