extension PackBuilder {
    /// Where a document goes in a pack: best tier, importer before imported, Claude Code's loading
    /// order of root files, shallower paths, then the path.
    struct OrderKey: Comparable {
        var tier: Tier
        var importDepth: Int
        var launch: Int
        var depth: Int
        var path: String

        init(_ record: SectionRecord, tier: Tier) {
            self.tier = tier
            importDepth = record.importDepth ?? 99
            launch = PackBuilder.launchOrder(record)
            depth = record.path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) }
            path = record.path
        }

        static func < (a: OrderKey, b: OrderKey) -> Bool {
            (a.tier, a.importDepth, a.launch, a.depth, a.path) < (b.tier, b.importDepth, b.launch, b.depth, b.path)
        }
    }

    /// Claude Code's loading order of the root memory files: project, then local, then rules.
    static func launchOrder(_ record: SectionRecord) -> Int {
        switch record.path {
        case "CLAUDE.md": 0
        case ".claude/CLAUDE.md": 1
        case "CLAUDE.local.md": 2
        default: record.kind == .rule ? 3 : 4
        }
    }
}
