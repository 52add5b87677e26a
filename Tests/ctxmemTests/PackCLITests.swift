import Foundation
import Testing

/// `ctxmem pack`, `read`, `agents` and `tiers` through the built binary, as a user runs them.
@Suite("ctxmem pack end to end")
struct PackCLITests {
    typealias Tree = CLITests.Tree

    static func indexed() throws -> Tree {
        let tree = try Tree()
        let index = try CLITests.run(["index", "--root", tree.root.path, "--quiet"])
        #expect(index.status == 0, "\(index.stderr)")
        return tree
    }

    @Test(
        "a JSON pack validates against Schemas/context-pack.schema.json and respects --budget; --out writes the same pack"
    )
    func jsonPack() throws {
        let tree = try Self.indexed()
        let pack = try CLITests.run([
            "pack", "--root", tree.root.path, "--agent", "backend-manager",
            "--task", "add the VPC peering API", "--budget", "3000", "--format", "json",
        ])
        #expect(pack.status == 0, "\(pack.stderr)")
        let output = tree.root.appendingPathComponent("pack.json")
        try Data(pack.stdout.utf8).write(to: output)
        let schema = TestPaths.schemas.appendingPathComponent("context-pack.schema.json")
        try SchemaValidator.validate(instance: output, schema: schema)
        let object = try JSONSerialization.jsonObject(with: Data(pack.stdout.utf8)) as? [String: Any]
        let manifest = try #require(object?["manifest"] as? [String: Any])
        #expect((manifest["tokens"] as? Int ?? .max) <= 3000)
        #expect(manifest["agent"] as? String == "backend-manager")

        let file = tree.root.appendingPathComponent("out.json").path
        let written = try CLITests.run([
            "pack", "--root", tree.root.path, "--agent", "backend-manager",
            "--task", "add the VPC peering API", "--budget", "3000", "--format", "json", "--out", file,
        ])
        #expect(written.status == 0)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == pack.stdout, "identical on rerun")
        #expect(written.stderr.contains("wrote \(file)"))
    }

    @Test("usage errors exit 2 with a message that says what to do")
    func usageErrors() throws {
        let tree = try Self.indexed()
        let unknown = try CLITests.run(["pack", "--root", tree.root.path, "--agent", "backend-manger"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("Did you mean 'backend-manager'"))
        // Only pinned sections over the budget refuse a pack: here a long section its author marked essential.
        try tree.append(
            "CLAUDE.md",
            "\n<!-- ctxmem: tier=essential -->\n## Always\n\n" + String(repeating: "Keep the fabric safe. ", count: 300)
        )
        _ = try CLITests.run(["index", "--root", tree.root.path, "--quiet"])
        let tight = try CLITests.run(["pack", "--root", tree.root.path, "--mode", "replace", "--budget", "600"])
        #expect(tight.status == 2)
        #expect(tight.stderr.contains("pinned essentials alone need"))
        let format = try CLITests.run(["pack", "--root", tree.root.path, "--format", "yaml"])
        #expect(format.status == 2, "a usage error, where ArgumentParser would exit 64")
        #expect(
            format.stderr.hasPrefix(
                "Error: The value 'yaml' is invalid for '--format <format>'. Please provide one of 'markdown', 'xml' or 'json'.\n"
            ),
            "\(format.stderr)")
        #expect(format.stdout.isEmpty)
        let budget = try CLITests.run(["pack", "--root", tree.root.path, "--budget", "10"])
        #expect(budget.status == 2)
        let handle = try CLITests.run(["read", "--root", tree.root.path, "memory://../../etc/passwd"])
        #expect(handle.status == 2)
        #expect(handle.stderr.contains("leaves the memory root"))
        let missing = try CLITests.run(["read", "--root", tree.root.path, "memory://CLAUDE.md#no-such-heading"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("ctxmem: error: nothing in the index at memory://CLAUDE.md#no-such-heading"))
    }

    @Test(
        "runtime errors exit 1 with the same message: a pack that cannot be written, a --tokenizer that cannot be read")
    func runtimeErrors() throws {
        let tree = try Self.indexed()
        let out = tree.root.appendingPathComponent("no/such/folder/pack.md").path
        let unwritable = try CLITests.run(["pack", "--root", tree.root.path, "--budget", "4000", "--out", out])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.hasPrefix("ctxmem: error: cannot write \(out): "), "\(unwritable.stderr)")
        let tokenizer = tree.root.appendingPathComponent("none.json").path
        let unreadable = try CLITests.run([
            "pack", "--root", tree.root.path, "--budget", "4000", "--tokenizer", tokenizer,
        ])
        #expect(unreadable.status == 1)
        #expect(unreadable.stderr == "ctxmem: error: \(tokenizer): cannot read the tokenizer: no such file\n")
        let pack = try CLITests.run(["pack", "--root", tree.root.path, "--budget", "4000", "--format", "xml"])
        #expect(pack.status == 0)
        #expect(pack.stdout.hasPrefix("<"), "--format xml reaches the packer: \(pack.stdout.prefix(80))")
    }

    @Test("--explain reports every candidate on stderr; read prints what a handle names")
    func explainAndRead() throws {
        let tree = try Self.indexed()
        let pack = try CLITests.run([
            "pack", "--root", tree.root.path, "--task", "VPC peering", "--budget", "4000", "--explain", "--mode",
            "replace",
        ])
        #expect(pack.status == 0)
        #expect(pack.stderr.contains("outcome") && pack.stderr.contains("included   essential"))
        #expect(pack.stderr.contains("mode replace; coordination overhead"))
        let read = try CLITests.run(["read", "--root", tree.root.path, "memory://CLAUDE.md#non-negotiable-rules"])
        #expect(read.status == 0)
        #expect(read.stdout.hasPrefix("## Non-negotiable rules"))
    }

    @Test("agents and tiers list what packs are made from")
    func agentsAndTiers() throws {
        let tree = try Self.indexed()
        let agents = try CLITests.run(["agents", "--root", tree.root.path])
        #expect(agents.status == 0)
        #expect(agents.stdout.contains("backend-manager") && agents.stdout.contains("40000"))
        let tiers = try CLITests.run(["tiers", "--root", tree.root.path, "project_management/runbooks"])
        #expect(tiers.status == 0)
        #expect(tiers.stdout.contains("operational") && tiers.stdout.contains("under runbooks/"))
        let json = try CLITests.run(["tiers", "--root", tree.root.path, "--json", "--tier", "essential"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.isEmpty == false && rows?.allSatisfy { $0["tier"] as? String == "essential" } == true)
    }
}
