import ArgumentParser
import ContextMemory
import Foundation

// Pack timing (part of every corpus run) and the relevance report (`--relevance FILE`).
extension Bench {
    /// Median and worst time of a 200k-token pack, generic and for the first agent, over `tasks`.
    func timePacks(service: MemoryService, tasks: [String], result: inout BenchResult) throws {
        let agent = try service.agents().first?.profile.name
        let requests = tasks.flatMap { task in
            [PackRequest(task: task, budget: 200_000)]
                + (agent.map { [PackRequest(agent: $0, task: task, budget: 200_000)] } ?? [])
        }
        let clock = ContinuousClock()
        // A builder per pack, as `service.pack` makes one: its set-up is part of a pack's time.
        for request in requests { _ = try service.packBuilder(policy: policy).build(request) }  // warm-up
        var times: [Double] = []
        var tokens: [Double] = []
        for _ in 0..<max(3, runs) {
            for request in requests {
                let start = clock.now
                let pack = try service.packBuilder(policy: policy).build(request)
                times.append((clock.now - start).milliseconds)
                tokens.append(Double(pack.manifest.tokens))
            }
        }
        times.sort()
        result.packSamples = times.count
        result.packP50Milliseconds = percentile(times, 0.5)
        result.packMaxMilliseconds = times.last ?? 0
        result.packMedianTokens = median(tokens)
    }

    /// Recall of the labelled must-have sections at 10k, 20k, 50k and 200k budgets, in replace and
    /// supplement mode, for all cases and for each corpus, and the share of each pack's tokens spent on
    /// them, packed with `--policy`. In supplement mode a section of a file Claude Code loads itself
    /// counts as present: the agent has it without the pack.
    func measureRelevance(_ file: URL) async throws {
        struct Case: Decodable {
            var id: String
            var root: String
            var include: [String]
            var agent: String?
            var task: String
            var expected: [String]
        }
        struct Cases: Decodable { var cases: [Case] }
        struct Tally {
            var found: [Int]
            var share: [Double]
            var expected = 0
            var cases = 0
        }
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: file)).cases
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-relevance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        var services: [String: MemoryService] = [:]
        let budgets = [10_000, 20_000, 50_000, 200_000]
        let empty = Tally(
            found: .init(repeating: 0, count: budgets.count), share: .init(repeating: 0, count: budgets.count))
        var keys: [String] = []
        for mode in [PackMode.replace, .supplement] {
            var tallies: [String: Tally] = [:]
            var lines: [String] = []
            for item in cases {
                let key = item.root + "|" + item.include.joined(separator: ",")
                if mode == .replace { keys.append(key) }
                let service: MemoryService
                if let cached = services[key] {
                    service = cached
                } else {
                    let root = work.appendingPathComponent("root-\(services.count)")
                    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(at: URL(fileURLWithPath: item.root), to: root)
                    try? FileManager.default.removeItem(at: root.appendingPathComponent(".ctxmem"))
                    service = MemoryService(
                        root: root, databasePath: work.appendingPathComponent("index-\(services.count).sqlite").path)
                    _ = try await service.index(include: item.include)
                    services[key] = service
                }
                let corpus = URL(fileURLWithPath: item.root).lastPathComponent
                var all = tallies["all", default: empty]
                var mine = tallies[corpus, default: empty]
                var row = item.id.padding(toLength: 48, withPad: " ", startingAt: 0)
                for (index, budget) in budgets.enumerated() {
                    let request = PackRequest(
                        agent: item.agent, task: item.task, budget: budget, format: .markdown, trimEssentials: true,
                        mode: mode)
                    let pack = try service.packBuilder(policy: policy).build(request)
                    let included = pack.explanation.filter { $0.outcome == .included || $0.outcome == .trimmed }
                    let byHandle = Dictionary(included.map { ($0.handle, $0) }, uniquingKeysWith: { a, _ in a })
                    let loaded = Set(pack.manifest.loadedByClaudeCode.files)
                    let hits = item.expected.filter { handle in
                        byHandle[handle] != nil || loaded.contains(Self.path(ofHandle: handle))
                    }
                    let hitTokens = hits.reduce(0) { $0 + (byHandle[$1]?.tokens ?? 0) }
                    let share = Double(hitTokens) / Double(max(1, pack.manifest.tokens))
                    all.found[index] += hits.count
                    all.share[index] += share
                    mine.found[index] += hits.count
                    mine.share[index] += share
                    row += String(format: "  %2d/%-2d", hits.count, item.expected.count)
                    if verbose, budget == 20_000 {
                        for missing in item.expected where !hits.contains(missing) {
                            let decision = pack.explanation.first { $0.handle == missing }
                            row +=
                                "\n    missing at 20k: \(missing)  "
                                + (decision.map {
                                    "\($0.outcome.rawValue), score \($0.score), \($0.tokens) tokens: \($0.reason)"
                                } ?? "never a candidate")
                        }
                    }
                }
                all.expected += item.expected.count
                all.cases += 1
                mine.expected += item.expected.count
                mine.cases += 1
                tallies["all"] = all
                tallies[corpus] = mine
                lines.append(row)
            }
            if policy != .default { print("packing policy: \(policy.differences())") }
            print("\nmode \(mode.rawValue)")
            print("case".padding(toLength: 48, withPad: " ", startingAt: 0) + "    10k    20k    50k   200k")
            print(lines.joined(separator: "\n"))
            for name in ["all"] + tallies.keys.filter({ $0 != "all" }).sorted() {
                guard let tally = tallies[name] else { continue }
                let figures = budgets.indices.map { index in
                    String(
                        format: "%@ %5.1f%% (%d/%d, %4.1f%% of tokens)", Self.budgetLabel(budgets[index]),
                        100 * Double(tally.found[index]) / Double(max(1, tally.expected)), tally.found[index],
                        tally.expected, 100 * tally.share[index] / Double(max(1, tally.cases)))
                }
                print("\(mode.rawValue) recall, \(name) (\(tally.cases) cases): " + figures.joined(separator: "; "))
            }
        }
        try measureHookRecall(
            cases.map { ($0.root, $0.agent, $0.task, $0.expected) }, services: services, keys: keys)
    }

    /// Recall of the labelled files among what a hook injects for the case's agent and task (the
    /// task as recorded from the delegation): a file counts when one of its sections is in the text
    /// or named by a handle. Reported per corpus, with the context's length.
    func measureHookRecall(
        _ cases: [(root: String, agent: String?, task: String, expected: [String])],
        services: [String: MemoryService], keys: [String]
    ) throws {
        var found: [String: (hits: Int, total: Int, cases: Int)] = [:]
        var longest = 0
        for (index, item) in cases.enumerated() {
            guard let service = services[keys[index]] else { continue }
            let text = try service.hookContext(agent: item.agent, task: item.task)
            longest = max(longest, text.utf16.count)
            let files = Set(item.expected.map(Self.path(ofHandle:)))
            let hits = files.filter { text.contains("## \($0)\n") || text.contains("memory://\($0)#") }.count
            let corpus = URL(fileURLWithPath: item.root).lastPathComponent
            for name in ["all", corpus] {
                var tally = found[name, default: (0, 0, 0)]
                tally.hits += hits
                tally.total += files.count
                tally.cases += 1
                found[name] = tally
            }
        }
        for name in ["all"] + found.keys.filter({ $0 != "all" }).sorted() {
            guard let tally = found[name] else { continue }
            print(
                String(
                    format: "hook recall of labelled files, %@ (%d cases): %.1f%% (%d/%d)", name, tally.cases,
                    100 * Double(tally.hits) / Double(max(1, tally.total)), tally.hits, tally.total))
        }
        print("hook context: longest \(longest) UTF-16 code units (limit \(MemoryService.hookContextLimit))")
    }

    /// `memory://a/b.md#slug` -> `a/b.md` (percent-decoded).
    static func path(ofHandle handle: String) -> String {
        let rest = handle.dropFirst("memory://".count)
        let path = rest.split(separator: "#", maxSplits: 1).first.map(String.init) ?? String(rest)
        return path.removingPercentEncoding ?? path
    }

    static func budgetLabel(_ budget: Int) -> String { "\(budget / 1000)k" }
}
