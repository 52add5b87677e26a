import Foundation
import GRDB
import Logging
import Testing

@testable import ContextMemory

/// A git repository in a temporary folder, its commits dated by the test, with the memory root in
/// a subfolder. Git runs with no system or global configuration of the machine's.
final class GitRepositoryFixture: Sendable {
    /// Whether git can run here; the tests that need it are skipped otherwise.
    static let available: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "--version"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    let repository: FixtureTree
    /// The memory root, `repository/memory-root`.
    let root: URL

    init() throws {
        repository = try FixtureTree(copying: TestPaths.fixtures.appendingPathComponent("project"))
        // The fixture becomes the memory root, one folder down from the repository's top.
        let top = repository.root
        let moved = top.appendingPathComponent("memory-root")
        let staging = top.deletingLastPathComponent().appendingPathComponent("staging-\(UUID().uuidString)")
        try FileManager.default.moveItem(at: top, to: staging)
        try FileManager.default.createDirectory(at: top, withIntermediateDirectories: false)
        try FileManager.default.moveItem(at: staging, to: moved)
        root = moved
        try git("init", "-q")
    }

    func write(_ path: String, _ text: String) throws {
        try repository.write(path, text)
    }

    /// Runs git in the repository's top folder and returns its output; throws with git's error
    /// output when it fails.
    @discardableResult
    func git(_ arguments: String..., date: Int64? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "git", "-C", repository.root.path, "-c", "user.name=Test", "-c", "user.email=test@example.com",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main",
            ] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        if let date {
            environment["GIT_AUTHOR_DATE"] = "@\(date) +0000"
            environment["GIT_COMMITTER_DATE"] = "@\(date) +0000"
        }
        process.environment = environment
        let errors = Pipe()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GitFailure(
                description: "git \(arguments.joined(separator: " ")): " + String(decoding: message, as: UTF8.self))
        }
        return String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Commits everything staged by `paths` (relative to the repository's top) at `date`.
    func commit(_ paths: [String], date: Int64, message: String) throws {
        for path in paths { try git("add", "--", path) }
        try git("commit", "-q", "-m", message, date: date)
    }

    struct GitFailure: Error, CustomStringConvertible {
        var description: String
    }
}

@Suite("Commit times: recency from git")
struct CommitTimeTests {
    static let first: Int64 = 1_700_000_000
    static let second: Int64 = 1_710_000_000
    static let third: Int64 = 1_720_000_000

    /// Each document's stored commit time, by path.
    static func committed(_ service: MemoryService) throws -> [String: Int64?] {
        try SQLiteWriter(path: service.databasePath).storedFiles().mapValues(\.committed)
    }

    @Test(
        "the index stores each file's last commit time, relative to a root below the repository's top; nil untracked",
        .enabled(if: GitRepositoryFixture.available, "git is not installed: commit times cannot be tested"))
    func lastCommitTimes() async throws {
        let fixture = try GitRepositoryFixture()
        // A name git quotes without -z (memory: everything under project_management/ is).
        try fixture.write("memory-root/project_management/naïve \"name\".md", "# Odd\n\nAn unusual name.\n")
        try fixture.write("outside.md", "# Outside the root\n")
        try fixture.commit(["memory-root", "outside.md"], date: Self.first, message: "first")
        try fixture.write("memory-root/docs/overview.md", "# Overview\n\nChanged in the second commit.\n")
        try fixture.write("outside.md", "# Outside the root, changed\n")
        try fixture.commit(["memory-root/docs/overview.md", "outside.md"], date: Self.second, message: "second")
        // Untracked: a memory file by its name, never committed.
        try fixture.write("memory-root/CLAUDE.local.md", "# Local\n\nNot committed.\n")

        let service = MemoryService(root: fixture.root)
        _ = try await service.index()
        var times = try Self.committed(service)
        #expect(times["CLAUDE.md"] == Self.first)
        #expect(times["docs/overview.md"] == Self.second)
        #expect(times["project_management/naïve \"name\".md"] == Self.first)
        #expect(times["CLAUDE.local.md"] == .some(nil))
        #expect(times.count > 10)
        #expect(times.filter { $0.value == nil }.keys.sorted() == ["CLAUDE.local.md"])

        // Readers see them: sections and documents.
        let reader = try SQLiteReader(path: service.databasePath)
        #expect(try reader.sections(inPaths: ["docs/overview.md"]).map(\.committed).allSatisfy { $0 == Self.second })
        #expect(try reader.document(path: "CLAUDE.md")?.committed == Self.first)
        #expect(try reader.document(path: "CLAUDE.local.md")?.committed == nil)

        // Nothing changed: the same generation.
        let before = try await service.index()
        let unchanged = try await service.index()
        #expect(unchanged.generation == before.generation)

        // HEAD moves and no file changes on disk: the times follow, and the generation moves.
        try fixture.commit(["memory-root/CLAUDE.local.md"], date: Self.third, message: "third")
        let moved = try await service.index()
        #expect(moved.generation == unchanged.generation + 1)
        #expect(moved.changed == 0 && moved.added == 0)
        times = try Self.committed(service)
        #expect(times["CLAUDE.local.md"] == Self.third)
        #expect(times["docs/overview.md"] == Self.second)

        // A new untracked file under an unchanged HEAD: nil, the others keep theirs.
        try fixture.write("memory-root/.claude/rules/new.md", "# New rule\n")
        _ = try await service.index()
        times = try Self.committed(service)
        #expect(times[".claude/rules/new.md"] == .some(nil))
        #expect(times["CLAUDE.md"] == Self.first)

        // A rebuild reads the same times again.
        _ = try await service.index(rebuild: true)
        #expect(try Self.committed(service) == times)
    }

    @Test(
        "HEAD read from the repository's files is git's: a loose ref, packed-refs, detached, a worktree; none without a commit",
        .enabled(if: GitRepositoryFixture.available, "git is not installed: commit times cannot be tested"))
    func headFromFiles() throws {
        let fixture = try GitRepositoryFixture()
        let root = fixture.root.path
        #expect(GitHistory.headFiles(of: root) == .unknown)  // a branch without a commit: git decides
        #expect(GitHistory(folder: root, logger: Logger(label: "test")) == nil)
        try fixture.commit(["memory-root"], date: Self.first, message: "first")
        let first = try fixture.git("rev-parse", "HEAD")
        #expect(GitHistory.headFiles(of: root) == .commit(first))
        try fixture.git("pack-refs", "--all")
        #expect(GitHistory.headFiles(of: root) == .commit(first))
        try fixture.write("memory-root/docs/overview.md", "# Overview\n\nChanged.\n")
        try fixture.commit(["memory-root"], date: Self.second, message: "second")
        let second = try fixture.git("rev-parse", "HEAD")
        #expect(GitHistory.headFiles(of: root) == .commit(second))
        #expect(GitHistory(folder: root, logger: Logger(label: "test"))?.head == second)
        try fixture.git("checkout", "-q", "--detach", first)
        #expect(GitHistory.headFiles(of: root) == .commit(first))
        try fixture.git("checkout", "-q", "main")

        let worktree = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-worktree-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: worktree) }
        try fixture.git("worktree", "add", "-q", "--detach", worktree.path, first)
        #expect(GitHistory.headFiles(of: worktree.appendingPathComponent("memory-root").path) == .commit(first))
        try fixture.git("-C", worktree.path, "checkout", "-q", "-b", "other")
        #expect(GitHistory.headFiles(of: worktree.appendingPathComponent("memory-root").path) == .commit(first))
    }

    @Test(
        "a shallow clone gives no commit times (its oldest commit would date every file)",
        .enabled(if: GitRepositoryFixture.available, "git is not installed: commit times cannot be tested"))
    func shallowClone() async throws {
        let fixture = try GitRepositoryFixture()
        try fixture.commit(["memory-root"], date: Self.first, message: "first")
        try fixture.write("memory-root/docs/overview.md", "# Overview\n\nChanged.\n")
        try fixture.commit(["memory-root"], date: Self.second, message: "second")
        let clone = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-shallow-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: clone) }
        try fixture.git("clone", "-q", "--depth", "1", "file://" + fixture.repository.root.path, clone.path)

        let root = clone.appendingPathComponent("memory-root")
        #expect(GitHistory.headFiles(of: root.path) == .shallow)
        #expect(GitHistory(folder: root.path, logger: Logger(label: "test")) == nil)
        let service = MemoryService(root: root)
        let report = try await service.index()
        #expect(report.documents > 0)
        #expect(try Self.committed(service).values.allSatisfy { $0 == nil })
    }

    @Test("outside a git repository: no commit times, and indexing succeeds")
    func withoutGit() async throws {
        let tree = try FixtureTree()
        try #require(
            GitHistory(folder: tree.root.path, logger: Logger(label: "test")) == nil,
            "the temporary folder \(tree.root.path) is inside a git work tree")
        let report = try await tree.service.index()
        #expect(report.documents > 10)
        let times = try Self.committed(tree.service)
        #expect(times.count == report.documents + report.skipped)
        #expect(times.values.allSatisfy { $0 == nil })
        #expect(try tree.readStore().sections(tier: .essential).allSatisfy { $0.committed == nil })
    }

    @Test(
        "git log output split anywhere: the same paths and times",
        arguments: [1, 2, 3, 7, 64, 10_000])
    func logParserChunks(size: Int) {
        let output = Array(
            "\u{1}1720000000\0\nCLAUDE.md\0docs/a b.md\0\u{1}1710000000\0\n\nstarts with a newline\0CLAUDE.md\0".utf8)
        var parser = GitHistory.LogParser()
        var seen: [String] = []
        for start in stride(from: 0, to: output.count, by: size) {
            parser.feed(Array(output[start..<min(start + size, output.count)])) { seen.append("\($0)@\($1)") }
        }
        #expect(
            seen == [
                "CLAUDE.md@1720000000", "docs/a b.md@1720000000", "\nstarts with a newline@1710000000",
                "CLAUDE.md@1710000000",
            ])
    }

    @Test("two copies of memory/ with different modification times and no git give byte-identical packs")
    func packsIndependentOfModificationTimes() async throws {
        let copies = [try FixtureTree(repositoryFolder: "memory"), try FixtureTree(repositoryFolder: "memory")]
        for (index, copy) in copies.enumerated() {
            // Opposite orders: the first copy's files get newer down the sorted list, the second's older.
            let files = try FileManager.default.subpathsOfDirectory(atPath: copy.root.path).sorted()
            for (position, file) in files.enumerated() {
                let offset = Double(index == 0 ? position : files.count - position) * 86_400
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: 1_600_000_000 + offset)],
                    ofItemAtPath: copy.url(file).path)
            }
            _ = try await copy.service.index()
        }
        for request in [
            PackRequest(agent: "backend-manager", task: "add the VPC peering API", budget: 40_000),
            PackRequest(agent: "qa-manager", task: "the sync worker is stuck on exit 3, recover it", budget: 40_000),
            PackRequest(agent: "gitops-manager", task: "rotate the staging certificates", budget: 40_000),
        ] {
            let packs = try await [copies[0].service.pack(request), copies[1].service.pack(request)]
            #expect(packs[0].text == packs[1].text, "\(request.agent ?? ""): \(request.task ?? "")")
            #expect(packs[0].manifest.packId == packs[1].manifest.packId)
        }
    }
}
