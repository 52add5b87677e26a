import ContextMemory
import Foundation

/// A deterministic memory tree of a given size: a CLAUDE.md hierarchy with imports, agent
/// definitions and a project_management tree of Markdown with headings, lists, code, links,
/// identifiers and some Japanese text. Same arguments, same bytes.
struct SyntheticCorpus {
    let files: Int
    let megabytes: Double
    private var random = SplitMix64(seed: 0x5EED)
    private let vocabulary: [String]

    init(files: Int, megabytes: Double) {
        self.files = max(10, files)
        self.megabytes = megabytes
        var generator = SplitMix64(seed: 7)
        let syllables = [
            "ka", "to", "ri", "mon", "sel", "var", "dex", "qu", "pal", "zen", "lor", "tri", "vin", "os", "ex",
            "gra", "pho", "nix", "ul", "bre",
        ]
        let technical = [
            "fabric", "vpc", "peering", "switch", "controller", "gitops", "reconcile", "manifest", "rollback",
            "deploy", "migration", "serializer", "endpoint", "latency", "incident", "runbook", "cluster",
            "namespace", "webhook", "schema", "index", "cache", "token", "budget", "agent", "review",
            "release", "the", "and", "a", "to", "of", "in", "for", "with", "is", "on", "that", "by",
        ]
        var words = technical
        while words.count < 3000 {
            let count = 2 + Int(generator.next() % 3)
            words.append((0..<count).map { _ in syllables[Int(generator.next() % UInt64(syllables.count))] }.joined())
        }
        vocabulary = words
    }

    /// Queries that match this corpus: frequent and rare words, phrases, operators, identifiers, CJK.
    var queries: [String] {
        [
            "fabric", "vpc peering", "\"vpc peering\"", "rollback OR migration", "controller -webhook", "recon*",
            "ADR-0042", "crd:sync", "netbox_hedgehog/models.py", "VPC_peering", "運用手順", "ファブリック",
            vocabulary[100], vocabulary[500], "\(vocabulary[900]) \(vocabulary[901])", vocabulary[2999],
            "incident runbook", "latency budget", "schema*", "deploy cluster namespace",
        ]
    }

    mutating func write(to root: URL) throws {
        let manager = FileManager.default
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let bytesPerFile = Int(megabytes * 1_048_576) / files
        let areas = max(1, files / 200)
        try write(
            root, "CLAUDE.md",
            """
            # Synthetic project

            Root memory of a generated corpus.

            @docs/architecture.md
            - Agents: @AGENTS.md

            See [the project index](project_management/README.md).
            """)
        try write(root, "AGENTS.md", "# Agents\n\nConventions for every agent.\n")
        try write(root, "docs/architecture.md", "# Architecture\n\n" + paragraph(words: 200) + "\n\n@deep/details.md\n")
        try write(root, "docs/deep/details.md", "# Details\n\n" + paragraph(words: 200) + "\n")
        for name in ["backend-manager", "qa-manager", "gitops-manager", "uiux-manager"] {
            try write(
                root, ".claude/agents/\(name).md",
                """
                ---
                name: \(name)
                description: Manages \(name.split(separator: "-")[0]) work for the orchestrator.
                ---
                You are the \(name). \(paragraph(words: 120))
                """)
        }
        var index = "# Project management\n\n"
        for number in 0..<(files - 8) {
            let area = number % areas
            let path = "project_management/area-\(area)/topic-\(number).md"
            if number < 200 { index += "- [Topic \(number)](area-\(area)/topic-\(number).md)\n" }
            try write(root, path, document(number: number, area: area, areas: areas, targetBytes: bytesPerFile))
        }
        try write(root, "project_management/README.md", index)
    }

    private mutating func document(number: Int, area: Int, areas: Int, targetBytes: Int) -> String {
        var text = "# Topic \(number): \(word()) \(word())\n\n"
        var section = 0
        while text.utf8.count < targetBytes {
            section += 1
            let level = section % 3 == 0 ? "###" : "##"
            text += "\(level) \(word().capitalized) \(word()) \(section)\n\n"
            text += paragraph(words: 60 + Int(random.next() % 80)) + "\n\n"
            switch random.next() % 8 {
            case 0:
                text += "- \(paragraph(words: 12))\n- \(paragraph(words: 10))\n  - nested \(paragraph(words: 8))\n\n"
            case 1:
                text +=
                    "```bash\nkubectl apply -f manifests/\(word()).yaml\npython manage.py crd:sync --fabric \(word())\n```\n\n"
            case 2:
                let other = Int(random.next() % UInt64(max(1, files - 8)))
                text +=
                    "See [topic \(other)](../area-\(other % areas)/topic-\(other).md#\(word())) and ADR-\(String(format: "%04d", Int(random.next() % 100))).\n\n"
            case 3:
                text +=
                    "The model lives in `netbox_hedgehog/models.py`; VPC_peering rows are reconciled by crd:sync.\n\n"
            case 4:
                text += "東京データセンターのファブリック運用手順を確認してください。\n\n"
            default:
                break
            }
        }
        return text
    }

    private mutating func word() -> String {
        // Zipf-like: low ranks far more often.
        let u = Double(random.next() % 1_000_000) / 1_000_000
        let rank = Int(pow(Double(vocabulary.count), u)) - 1
        return vocabulary[max(0, min(vocabulary.count - 1, rank))]
    }

    private mutating func paragraph(words: Int) -> String {
        var result: [String] = []
        result.reserveCapacity(words)
        for index in 0..<words {
            var next = word()
            if index % 14 == 13 { next += "." }
            result.append(next)
        }
        return result.joined(separator: " ") + "."
    }

    private func write(_ root: URL, _ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}
