import Foundation
import Testing

@testable import ContextMemory

/// What users get, held still while the code inside changes: every agent's pack in each format,
/// search results as JSON and the audit as JSON, on memory/ and on the three reference corpora,
/// byte for byte (pack ids included). The files are kept as FNV-1a hashes, one per output, so the
/// repository stays small; `CTXMEM_RECORD=1` writes new hashes (and fails once, for a review) and
/// leaves every output in a temporary folder to diff against a run of the old code.
///
/// Packs read file modification times (recency), so every file of a copied tree gets one time
/// first. The temporary root is written as `/golden-root` before hashing. The corpora live in
/// `../shared/corpora`, beside the clone on development machines and in CI; a clone elsewhere (the
/// README's quick start on a fresh machine) checks memory/ only, and under CI a missing corpus fails.
@Suite("Golden outputs", .serialized)  // one corpus at a time: four cold indexes at once starve the rest of the suite
struct GoldenOutputTests {
    static let queries = [
        "VPC peering", "rollback", "agent", "ADR-0005 OR crd:sync", "test plan", "deploy -archive",
        "kubelet", "API review", "hook", "token budget", "運用手順", "\"release notes\"",
    ]
    static let task = "add the VPC peering API and review its rollout"
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    struct Corpus: Sendable, CustomStringConvertible {
        var name: String
        var source: URL
        var include: [String]
        /// Formats each agent is packed in (the corpora's 30 agents in one format keep the suite quick).
        var agentFormats: [PackFormat]
        var description: String { name }
    }

    static let corpora: [Corpus] = allCorpora.filter { FileManager.default.fileExists(atPath: $0.source.path) }

    static let allCorpora: [Corpus] = {
        let shared = FixtureTree.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
        return [
            Corpus(
                name: "memory", source: FixtureTree.repositoryRoot.appendingPathComponent("memory"), include: [],
                agentFormats: PackFormat.allCases),
            Corpus(
                name: "microsoft__amplifier", source: shared.appendingPathComponent("microsoft__amplifier"),
                include: ["**/*.md"], agentFormats: [.markdown]),
            Corpus(
                name: "kubernetes__community", source: shared.appendingPathComponent("kubernetes__community"),
                include: ["**/*.md"], agentFormats: [.markdown]),
            Corpus(
                name: "affaan-m__everything-claude-code",
                source: shared.appendingPathComponent("affaan-m__everything-claude-code"),
                include: ["**/*.md"], agentFormats: [.markdown]),
        ]
    }()

    /// Every output of one corpus, by name.
    static func outputs(of corpus: Corpus) async throws -> [String: String] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let root = work.appendingPathComponent("root")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: corpus.source, to: root)
        try? FileManager.default.removeItem(at: root.appendingPathComponent(".ctxmem"))
        try setModificationTimes(under: root)
        let service = MemoryService(root: root, databasePath: work.appendingPathComponent("index.sqlite").path)
        _ = try await service.index(include: corpus.include)

        var outputs: [String: String] = [:]
        let agents = try await service.agents().map(\.profile.name).sorted()
        for agent in agents {
            for format in corpus.agentFormats {
                outputs["pack \(agent) \(format.rawValue)"] = try packText(
                    service, PackRequest(agent: agent, task: task, format: format))
            }
        }
        for format in PackFormat.allCases {
            outputs["pack generic \(format.rawValue)"] = try packText(
                service, PackRequest(task: task, budget: 60_000, format: format))
        }
        for query in queries {
            outputs["search \(query)"] = await SearchResultsJSON.encode(
                query: query, hits: try service.search(query, options: SearchOptions(limit: 20)))
        }
        var report = try await service.audit(AuditOptions(refreshIndex: false, useGit: false))
        report.root = "/golden-root"
        outputs["audit json"] = try AuditRenderer.render(report, as: .json)
        let rootPath = FileTreeWalker.realPath(root.path) ?? root.path
        return outputs.mapValues {
            $0.replacingOccurrences(of: rootPath, with: "/golden-root").replacingOccurrences(
                of: root.path, with: "/golden-root")
        }
    }

    /// A pack, or the error a user would see for it (an agent whose essentials exceed its budget).
    static func packText(_ service: MemoryService, _ request: PackRequest) throws -> String {
        do { return try service.pack(request).text } catch let error as PackError { return "error: \(error)" }
    }

    static func setModificationTimes(under root: URL) throws {
        let fixed = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in walker {
            try? FileManager.default.setAttributes([.modificationDate: fixed], ofItemAtPath: url.path)
        }
    }

    @Test(
        "the reference corpora are beside the clone in CI",
        .enabled(if: ProcessInfo.processInfo.environment["CI"] == "true"))
    func corporaPresent() {
        #expect(
            Self.corpora.map(\.name) == Self.allCorpora.map(\.name),
            "missing: \(Self.allCorpora.filter { !FileManager.default.fileExists(atPath: $0.source.path) }.map(\.source.path))"
        )
    }

    @Test("every output is what it was", arguments: corpora)
    func unchanged(corpus: Corpus) async throws {
        let outputs = try await Self.outputs(of: corpus)
        let hashes = outputs.mapValues { ContentHash($0).hex }
        let file = Self.golden.appendingPathComponent("\(corpus.name).json")
        if ProcessInfo.processInfo.environment["CTXMEM_RECORD"] == "1" {
            let dump = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-golden-\(corpus.name)")
            try? FileManager.default.removeItem(at: dump)
            try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
            for (name, text) in outputs {
                try Data(text.utf8).write(
                    to: dump.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_") + ".txt"))
            }
            try FileManager.default.createDirectory(at: Self.golden, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (encoder.encode(hashes) + Data("\n".utf8)).write(to: file)
            Issue.record("recorded \(file.path) (outputs in \(dump.path)); review and run again without CTXMEM_RECORD")
            return
        }
        let expected = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: file))
        #expect(
            Set(hashes.keys) == Set(expected.keys),
            "outputs added or gone: \(Set(hashes.keys).symmetricDifference(expected.keys).sorted())")
        let changed = hashes.keys.sorted().filter { expected[$0] != nil && expected[$0] != hashes[$0] }
        #expect(
            changed.isEmpty,
            "\(changed.count) outputs changed, e.g. \(changed.prefix(5)); CTXMEM_RECORD=1 writes them out to compare")
    }
}
