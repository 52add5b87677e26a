import Foundation
import Testing

/// `ctxmem hook` as Claude Code runs it: the hook input on stdin, exit 0 whatever happens.
@Suite("ctxmem hook end to end")
struct HookCLITests {
    typealias Tree = CLITests.Tree

    /// Runs `ctxmem hook` on `tree` with `input` on stdin.
    static func hook(_ tree: Tree, _ input: Data, _ extra: [String] = []) throws -> CLITests.Run {
        let file = tree.root.appendingPathComponent(".hook-input-\(UUID().uuidString)")
        try input.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try CLITests.run(["hook", "--root", tree.root.path] + extra, input: file)
    }

    static let start = Data(
        #"{"hook_event_name": "SubagentStart", "session_id": "c1", "agent_type": "backend-manager", "agent_id": "a"}"#
            .utf8)

    @Test("every bad input exits 0 with one line on stderr and nothing on stdout")
    func badInputs() throws {
        let tree = try Tree()
        let cases: [(Data, String)] = [
            (Self.start, "no pack for backend-manager"),  // not indexed yet
            (Data(), "no input"),
            (Data("{\"hook_event_name\": ".utf8), "not Claude Code hook JSON"),
            (Data(repeating: 0x20, count: (1 << 20) + 10), "over 1048576 bytes"),
        ]
        for (input, message) in cases {
            let run = try Self.hook(tree, input)
            #expect(run.status == 0, "\(message)")
            #expect(run.stdout.isEmpty, "\(message)")
            #expect(run.stderr.contains(message), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        _ = try CLITests.run(["index", "--root", tree.root.path, "--quiet"])
        let unknown = try Self.hook(
            tree, Data(#"{"hook_event_name": "SubagentStart", "agent_type": "nobody"}"#.utf8))
        #expect(unknown.status == 0 && unknown.stdout.isEmpty && unknown.stderr.contains("no agent named 'nobody'"))
    }

    @Test("an index another run holds the writer lock of still answers: readers never wait for it")
    func lockedIndex() throws {
        let tree = try Tree()
        _ = try CLITests.run(["index", "--root", tree.root.path, "--quiet"])
        // Hold the writer lock as a running `ctxmem index` would (flock on <index>.lock).
        let lockPath = tree.root.appendingPathComponent(".ctxmem/index.sqlite.lock").path
        let descriptor = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        let run = try Self.hook(tree, Self.start)
        #expect(run.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let specific = object?["hookSpecificOutput"] as? [String: Any]
        #expect(specific?["hookEventName"] as? String == "SubagentStart")
        #expect((specific?["additionalContext"] as? String)?.utf16.count ?? .max <= 10_000)
        let text = try Self.hook(tree, Self.start, ["--text"])
        #expect(text.stdout.hasPrefix("# Project memory for the backend-manager agent"))
    }
}
