import ContextMemory
import Foundation
import Testing

/// The built `ctxmem` binary, run on a copy of the fixture tree, as a user runs it.
@Suite("ctxmem end to end")
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        // .build/<triple>/debug/ctxmemPackageTests.xctest -> .build/<triple>/debug/ctxmem
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("ctxmem").path),
            directory.path != "/"
        {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("ctxmem")
    }

    /// - Parameter input: a file for stdin (read to its end, then EOF); none by default.
    static func run(_ arguments: [String], environment: [String: String] = [:], input: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let input { process.standardInput = try FileHandle(forReadingFrom: input) }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// A fixture copy (Tests/Support).
    typealias Tree = FixtureTree

    @Test("index, then search, then stats, as the README shows")
    func indexSearchStats() throws {
        let tree = try Tree()
        let index = try Self.run(["index", "--root", tree.root.path])
        #expect(index.status == 0, "\(index.stderr)")
        #expect(index.stdout.contains("Indexed 16 documents"))
        #expect(index.stderr.isEmpty, "no progress or logs when stderr is not a terminal: \(index.stderr)")

        let search = try Self.run(["search", "--root", tree.root.path, "VPC peering"])
        #expect(search.status == 0)
        #expect(search.stdout.contains("docs/overview.md:11-14"))
        #expect(search.stdout.contains("Architecture overview › VPC peering"))
        #expect(search.stdout.contains("«VPC»"), "highlights without colour when not on a terminal")
        #expect(!search.stdout.contains("\u{1B}["))

        let stats = try Self.run(["stats", "--root", tree.root.path])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("Documents:   16"))

        let again = try Self.run(["index", "--root", tree.root.path, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect(report?["unchanged"] as? Int == 16)
        #expect(report?["added"] as? Int == 0)
    }

    @Test("files added by --include stay indexed on later runs without it, --rebuild included")
    func includeRemembered() throws {
        let tree = try Tree()
        func documents() throws -> Int? {
            let stats = try Self.run(["stats", "--root", tree.root.path, "--json"])
            return (try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])?["documents"]
                as? Int
        }
        #expect(try Self.run(["index", "--root", tree.root.path, "--quiet", "--include", "unrelated/**"]).status == 0)
        let included = try documents()
        #expect(included == 17)  // the 16 memory files and unrelated/ignored.md
        #expect(try Self.run(["index", "--root", tree.root.path, "--quiet"]).status == 0)
        #expect(try documents() == included)
        #expect(try Self.run(["index", "--root", tree.root.path, "--quiet", "--rebuild"]).status == 0)
        #expect(try documents() == included)
    }

    @Test("--quiet prints nothing; no results is not an error")
    func quietAndEmpty() throws {
        let tree = try Tree()
        let index = try Self.run(["index", "--root", tree.root.path, "--quiet"])
        #expect(index.status == 0 && index.stdout.isEmpty && index.stderr.isEmpty)
        let none = try Self.run(["search", "--root", tree.root.path, "xylophone"])
        #expect(none.status == 0)
        #expect(none.stdout.contains("No sections match"))
    }

    @Test("malformed queries and bad options exit 2 with a message; a missing index exits 1")
    func exitCodes() throws {
        let tree = try Tree()
        let missing = try Self.run(["search", "--root", tree.root.path, "fabric"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("run `ctxmem index` first"))

        _ = try Self.run(["index", "--root", tree.root.path, "--quiet"])
        let malformed = try Self.run(["search", "--root", tree.root.path, "\"unclosed"])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("malformed query: the quote at character 1 is not closed"))

        let badTier = try Self.run(["search", "--root", tree.root.path, "--tier", "urgent", "fabric"])
        #expect(badTier.status == 2)
        #expect(
            badTier.stderr.contains(
                "The value 'urgent' is invalid for '--tier <tier>'. Please provide one of 'essential', 'detailed' or 'operational'."
            ),
            "\(badTier.stderr)")

        let badKind = try Self.run(["search", "--root", tree.root.path, "--kind", "wiki", "fabric"])
        #expect(badKind.status == 2)
        #expect(badKind.stderr.contains("The value 'wiki' is invalid for '--kind <kind>'"))
        #expect(
            DocumentKind.allCases.allSatisfy { badKind.stderr.contains("  - \($0.rawValue)\n") }, "\(badKind.stderr)")

        let badTiersTier = try Self.run(["tiers", "--root", tree.root.path, "--tier", "urgent"])
        #expect(badTiersTier.status == 2)
        #expect(badTiersTier.stderr.contains("Please provide one of 'essential', 'detailed' or 'operational'."))

        let tier = try Self.run([
            "search", "--root", tree.root.path, "--tier", "detailed", "--kind", "referenced", "--json", "VPC",
        ])
        #expect(tier.status == 0, "\(tier.stderr)")
        let results =
            try #require(try JSONSerialization.jsonObject(with: Data(tier.stdout.utf8)) as? [String: Any])["results"]
            as? [[String: Any]]
        #expect(results?.isEmpty == false)
        #expect(
            results?.allSatisfy { $0["tier"] as? String == "detailed" && $0["kind"] as? String == "referenced" } == true
        )

        let badLimit = try Self.run(["search", "--root", tree.root.path, "--limit", "0", "fabric"])
        #expect(badLimit.status == 2)

        let missingRoot = tree.root.appendingPathComponent("no/such/folder")
        let badRoot = try Self.run(["index", "--root", missingRoot.path])
        #expect(badRoot.status == 1)
        #expect(badRoot.stderr.contains("cannot use \(missingRoot.path) as the memory root"))
        #expect(!FileManager.default.fileExists(atPath: missingRoot.path), "nothing is created for a missing root")
    }

    @Test("--json output is valid against Schemas/search-results.schema.json")
    func jsonSchema() throws {
        let tree = try Tree()
        _ = try Self.run(["index", "--root", tree.root.path, "--quiet"])
        let search = try Self.run(["search", "--root", tree.root.path, "--json", "fabric OR ファブリック"])
        #expect(search.status == 0)
        let output = tree.root.appendingPathComponent("results.json")
        try Data(search.stdout.utf8).write(to: output)
        let schema = TestPaths.schemas.appendingPathComponent("search-results.schema.json")
        try SchemaValidator.validate(instance: output, schema: schema)
        let object = try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any]
        #expect((object?["results"] as? [Any])?.count ?? 0 >= 2)
    }

    @Test("--help teaches the query syntax")
    func help() throws {
        let help = try Self.run(["search", "--help"])
        #expect(help.status == 0)
        for fragment in ["\"quoted phrase\"", "a OR b", "-word", "prefix*", "ADR-0005", "--json"] {
            #expect(help.stdout.contains(fragment), "help lacks \(fragment)")
        }
    }

    @Test(
        "--help lists the values of every enum option, from the core's own cases",
        arguments: [
            (["search"], "--tier", Tier.allCases.map(\.rawValue)),
            (["search"], "--kind", DocumentKind.allCases.map(\.rawValue)),
            (["tiers"], "--tier", Tier.allCases.map(\.rawValue)),
            (["pack"], "--format", PackFormat.allCases.map(\.rawValue)),
            (["audit"], "--format", AuditFormat.allCases.map(\.rawValue)),
            (["audit"], "--fail-on", AuditThreshold.allCases.map(\.rawValue)),
        ])
    func enumHelp(command: [String], option: String, values: [String]) throws {
        let help = try Self.run(command + ["--help"])
        #expect(help.status == 0)
        // The option's entry, its wrapped lines joined: "  --tier <tier>  Only sections ... (values: a, b, c)".
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("  \(option) <") })
        let entry = ([lines[start]] + lines[(start + 1)...].prefix { $0.hasPrefix("      ") })
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(entry.contains("(values: \(values.joined(separator: ", "))"), "\(entry)")
    }

    @Test("ctxmem help COMMAND and COMMAND --help print the help and exit 0")
    func helpExits0() throws {
        for arguments in [["help", "pack"], ["pack", "--help"], ["audit", "-h"], ["--help"]] {
            let help = try Self.run(arguments)
            #expect(help.status == 0, "\(arguments)")
            #expect(help.stdout.contains("USAGE: ctxmem"), "\(arguments)")
            #expect(help.stderr.isEmpty, "\(arguments): \(help.stderr)")
        }
    }

    @Test("tokens: an unreadable file exits 1 after counting the others; an unusable --tokenizer exits 2")
    func tokensExitCodes() throws {
        let tree = try Tree()
        let claude = tree.root.appendingPathComponent("CLAUDE.md").path
        let missing = tree.root.appendingPathComponent("none.md").path
        let partial = try Self.run(["tokens", missing, claude, tree.root.path])
        #expect(partial.status == 1)
        #expect(
            partial.stderr
                == "ctxmem: error: \(missing): no such file\nctxmem: error: \(tree.root.path): is a directory\n")
        #expect(partial.stdout.contains("\t\(claude)\n") && partial.stdout.contains("TOTAL (3 files)"))

        let tokenizer = try Self.run(["tokens", "--tokenizer", missing, claude])
        #expect(tokenizer.status == 2)
        #expect(tokenizer.stderr == "ctxmem: error: \(missing): cannot read the tokenizer: no such file\n")
        #expect(tokenizer.stdout.isEmpty)
    }
}
