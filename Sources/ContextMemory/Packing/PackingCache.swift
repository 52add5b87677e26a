import Synchronization

/// What every pack of one index generation reads alike: the agents, the documents addressed to
/// agents, the import edges and the essential sections.
public struct PackingState: Sendable {
    var profiles: [AgentProfile]
    /// Documents whose frontmatter names their agents (`agents: [a, b]` or `agent: a`).
    var audiences: [String: Set<String>]
    /// What every document imports (in the root), for the imports the essentials bring in.
    var imports: ImportGraph
    var essentialSections: [SectionRecord]
    /// The files Claude Code loads at launch by itself, each with why: the root memory files, the
    /// unconditional rules and what they import within the depth limit. A supplementing pack
    /// leaves them out.
    var launchLoaded: [String: String]
    /// Each launch-loaded file's tokens as indexed.
    var launchLoadedTokens: [String: Int]
    /// The cache key of the generation this state was read from; nil when nothing caches it.
    var generation: String?
    /// Sub-agents' reports in the index: the latest of each agent, and what newer ones supersede.
    var handoffs: HandoffLedger

    init(store: any MemoryReader, withBodies: Bool, importDepth: Int) throws {
        profiles = try store.documents(kind: .agent).compactMap {
            AgentProfile.parse(path: $0.path, frontmatter: $0.frontmatter).profile
        }
        audiences = [:]
        for document in try store.documents(withFrontmatterKeys: ["agents", "agent"]) where document.kind != .agent {
            guard let frontmatter = document.frontmatter,
                let value = frontmatter["agents"] ?? frontmatter["agent"]
            else { continue }
            let names = (value.arrayValue ?? [value]).compactMap(\.stringValue)
            if !names.isEmpty { audiences[document.path] = Set(names) }
        }
        var edges: [String: [String]] = [:]
        for edge in try store.referenceEdges(kinds: [.import], fromPaths: nil) {
            edges[edge.from, default: []].append(edge.to)
        }
        imports = ImportGraph(imports: edges)
        essentialSections = try store.sections(tier: .essential, withBody: withBodies)
        var launch: [String: String] = [:]
        for document in try store.documents(kind: .claudeMD) + store.documents(kind: .rule) {
            launch[document.path] = DocumentKind.launchReason(
                path: document.path, kind: document.kind, frontmatter: document.frontmatter)
        }
        for (path, importer) in imports.closure(from: Set(launch.keys), limit: importDepth) where launch[path] == nil {
            launch[path] = "imported by \(importer)"
        }
        launchLoaded = launch
        var tokens: [String: Int] = [:]
        for section in try store.sections(inPaths: launch.keys.sorted(), withBody: false) {
            tokens[section.path, default: 0] += section.tokens
        }
        launchLoadedTokens = tokens
        handoffs = try HandoffLedger(store: store)
    }
}

/// Keeps the ``PackingState`` of the newest index generation between builds: a server's packs
/// then read only what depends on their agent and task (agents' frontmatter alone was a tenth of
/// a pack). Shared by the copies of a ``MemoryService``.
public final class PackingCache: Sendable {
    private let entry = Mutex<(key: String, state: PackingState)?>(nil)
    /// Each agent's role ranking (BM25 of its name, description and keywords) for the newest
    /// generation: the same for every pack of that agent, and a third of a small pack's time.
    private let roleRanks = Mutex<(key: String, ranks: [String: [Int64: Double]])?>(nil)

    public init() {}

    /// The state for index generation `key`, loaded once per generation (two builds that miss at
    /// once may both load it).
    ///
    /// `load` runs outside the lock: it reads the index, and a build holds its connection while it
    /// asks for the state; loading under the lock let one build wait for the lock inside a read
    /// while another, holding the lock, waited for that read's connection (a deadlock seen in
    /// the tests, which share one connection, and possible in a server whose requests share one).
    func state(for key: String, load: () throws -> PackingState) throws -> PackingState {
        if let cached = entry.withLock({ $0 }), cached.key == key { return cached.state }
        var state = try load()
        state.generation = key
        entry.withLock { [state] in $0 = (key, state) }
        return state
    }

    /// The role ranking `query` (the role text and the rank limit) gives in generation `key`,
    /// computed once per generation; `compute` runs outside the lock, as in ``state(for:load:)``.
    func roleRanks(generation key: String, query: String, compute: () throws -> [Int64: Double]) rethrows
        -> [Int64: Double]
    {
        if let cached = roleRanks.withLock({ $0?.key == key ? $0?.ranks[query] : nil }) { return cached }
        let ranks = try compute()
        roleRanks.withLock { entry in
            if entry?.key != key { entry = (key, [:]) }
            entry?.ranks[query] = ranks
        }
        return ranks
    }
}
