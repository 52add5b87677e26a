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

    /// Recall of the labelled must-have sections at 20k, 50k and 200k budgets, and the share of
    /// each pack's tokens spent on them, packed with `--policy`.
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
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: file)).cases
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-relevance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        var services: [String: MemoryService] = [:]
        let budgets = [20_000, 50_000, 200_000]
        var found = [Int](repeating: 0, count: budgets.count)
        var share = [Double](repeating: 0, count: budgets.count)
        var expectedTotal = 0
        var lines: [String] = []
        for item in cases {
            let key = item.root + "|" + item.include.joined(separator: ",")
            let service: MemoryService
            if let cached = services[key] {
                service = cached
            } else {
                let root = work.appendingPathComponent("root-\(services.count)")
                try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: URL(fileURLWithPath: item.root), to: root)
                try? FileManager.default.removeItem(at: root.appendingPathComponent(".ctxmem"))
                try Self.copyModificationDates(from: URL(fileURLWithPath: item.root), to: root)
                service = MemoryService(
                    root: root, databasePath: work.appendingPathComponent("index-\(services.count).sqlite").path)
                _ = try await service.index(include: item.include)
                services[key] = service
            }
            expectedTotal += item.expected.count
            var row = item.id.padding(toLength: 48, withPad: " ", startingAt: 0)
            for (index, budget) in budgets.enumerated() {
                let request = PackRequest(
                    agent: item.agent, task: item.task, budget: budget, format: .markdown, trimEssentials: true)
                let pack = try service.packBuilder(policy: policy).build(request)
                let included = pack.explanation.filter { $0.outcome == .included || $0.outcome == .trimmed }
                let byHandle = Dictionary(included.map { ($0.handle, $0) }, uniquingKeysWith: { a, _ in a })
                let hits = item.expected.filter { byHandle[$0] != nil }
                found[index] += hits.count
                let hitTokens = hits.reduce(0) { $0 + (byHandle[$1]?.tokens ?? 0) }
                share[index] += Double(hitTokens) / Double(max(1, pack.manifest.tokens))
                row += String(format: "  %2d/%-2d", hits.count, item.expected.count)
                if verbose, budget == 50_000 {
                    for missing in item.expected where byHandle[missing] == nil {
                        let decision = pack.explanation.first { $0.handle == missing }
                        lines.append(
                            "    missing at 50k: \(missing)  "
                                + (decision.map {
                                    "\($0.outcome.rawValue), score \($0.score), \($0.tokens) tokens: \($0.reason)"
                                } ?? "never a candidate"))
                    }
                }
            }
            lines.insert(
                row,
                at: lines.count
                    - (lines.last?.hasPrefix("    ") == true
                        ? lines.reversed().prefix { $0.hasPrefix("    ") }.count : 0))
        }
        if policy != .default { print("packing policy: \(policy.differences())") }
        print("case".padding(toLength: 48, withPad: " ", startingAt: 0) + "    20k    50k   200k")
        print(lines.joined(separator: "\n"))
        for (index, budget) in budgets.enumerated() {
            print(
                String(
                    format:
                        "budget %6d: recall %5.1f%% (%d of %d labelled sections), mean share of pack tokens on them %4.1f%%",
                    budget, 100 * Double(found[index]) / Double(max(1, expectedTotal)), found[index], expectedTotal,
                    100 * share[index] / Double(max(1, cases.count))))
        }
    }

    /// Packs weigh recency, so the copy keeps its source's file dates (a copy made now would give
    /// every file nearly the same date, in copying order, and the figures would vary from run to run).
    static func copyModificationDates(from source: URL, to copy: URL) throws {
        let manager = FileManager.default
        guard let paths = manager.enumerator(atPath: source.path) else { return }
        for case let path as String in paths {
            guard
                let date = try? manager.attributesOfItem(atPath: source.appendingPathComponent(path).path)[
                    .modificationDate]
            else { continue }
            try? manager.setAttributes([.modificationDate: date], ofItemAtPath: copy.appendingPathComponent(path).path)
        }
    }
}
