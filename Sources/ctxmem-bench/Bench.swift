import ArgumentParser
import ContextMemory
import Foundation

/// `swift run -c release ctxmem-bench`: index and search benchmarks on a generated corpus or on any
/// folder (copied to a temporary folder first, so the source is never written).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctxmem-bench",
        abstract: "Measure cold index, re-index, single-file change, search latency and peak RSS.",
        discussion: """
            Without --dir, generates a deterministic synthetic memory tree (--files files, about --mb MB of \
            Markdown, under project_management/ with a CLAUDE.md hierarchy) and measures on it.

            Examples:
              swift run -c release ctxmem-bench                           # 10,000 files, 50 MB
              swift run -c release ctxmem-bench --files 1000 --mb 5
              swift run -c release ctxmem-bench --dir ../shared/corpora/kubernetes__community --include '**/*.md'
              swift run -c release ctxmem-bench --audit --commits 1000     # audit of 50 MB with git history
              swift run -c release ctxmem-bench --usage --mb 1024          # ctxmem usage over 1 GB of transcripts
              swift run -c release ctxmem-bench --usage --mb 1024 --generate /tmp/t   # write them only
              swift run -c release ctxmem-bench --usage --dir /tmp/t       # measure a project folder of transcripts
              swift run -c release ctxmem-bench --relevance Bench/relevance-cases.json \\
                --policy documentWeight=0.3,mostRelevantFirst=10            # recall with other packing tuning

            Report every figure with the machine and date: shared machines are noisy, so each figure is the \
            median of --runs runs (search: of every query repeated --repeats times).
            """
    )

    @Option(help: ArgumentHelp("Measure on a copy of this folder instead of a synthetic corpus.", valueName: "dir"))
    var dir: String?

    @Option(
        help: ArgumentHelp(
            "Also index files matching this glob (repeatable), as `ctxmem index --include`.", valueName: "glob"))
    var include: [String] = []

    @Option(help: "Synthetic corpus: number of files.")
    var files = 10_000

    @Option(help: "Synthetic corpus: approximate size in MB.")
    var mb = 50.0

    @Option(help: "Runs of each index measurement (the median is reported).")
    var runs = 3

    @Option(help: "Times each search query is repeated.")
    var repeats = 20

    @Flag(
        help:
            "After each cold index, time a bare FTS5 ingest of the same sections (the ceiling) and report cold index speed as a share of it."
    )
    var ceiling = false

    @Option(
        help: ArgumentHelp(
            "Report precision and recall of the secret rules on this labelled set (Bench/secrets-labelled.json); with --dir, also the scan's cost on its files.",
            valueName: "file"))
    var secrets: String?

    @Option(
        help: ArgumentHelp(
            "Run this many seeded random inputs through each parser of untrusted text (Markdown with frontmatter, HTML/XML, search queries, secrets), seeded from --dir's files (default memory/).",
            valueName: "n"))
    var fuzz: Int?

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Flag(help: "Also print each query's median latency and hit count.")
    var verbose = false

    @Flag(help: "Only measure the parser: parse every Markdown file of --dir on one core, in memory.")
    var parseOnly = false

    @Option(
        help: ArgumentHelp(
            "Write the synthetic corpus to this folder and stop (to measure it again later with --dir).",
            valueName: "dir"))
    var generate: String?

    @Option(
        help: ArgumentHelp(
            "Queries to time: general (for real corpora) or synthetic (for a generated corpus); default: by corpus.",
            valueName: "set"))
    var querySet: String?

    @Flag(
        help:
            "Only measure token counting (estimator, exact BPE, 1 MB lines, accuracy) on the Markdown of --dir or the synthetic corpus."
    )
    var tokens = false

    @Option(help: ArgumentHelp("The tokenizer.json of --tokens.", valueName: "file"))
    var tokenizer = "Tokenizers/claude2-tokenizer.json"

    @Flag(
        help:
            "Only measure the audit, from a warm index, over a git history of --commits commits (made unless --dir already has one)."
    )
    var audit = false

    @Flag(
        help:
            "Only measure `ctxmem usage` over --mb MB of synthetic Claude Code transcripts (or the project folder --dir); with --generate, write them there and stop."
    )
    var usage = false

    @Option(help: "With --usage: the sizes of tool results (typical: most bytes in large results; small: 1-8 KB each).")
    var usageMix = UsageBench.Mix.typical

    @Flag(help: "With --usage: drop the transcripts from the page cache before each run (read from disk).")
    var cold = false

    @Option(help: "Commits of the history --audit makes.")
    var commits = 1000

    @Option(
        help: ArgumentHelp(
            "Report pack recall of the labelled cases in this file (Bench/relevance-cases.json) at 10k, 20k, 50k and 200k tokens, in replace and supplement mode, per corpus.",
            valueName: "file"))
    var relevance: String?

    @Option(
        help: ArgumentHelp(
            "Pack with these packing policy fields changed (docs/packing.md, \"Tuning\"): for --relevance and the pack "
                + "timings. Fields: \(PackingPolicy.fieldNames.joined(separator: ", ")).",
            valueName: "name=value[,name=value]"), transform: { try PackingPolicy.default.overriding($0) })
    var policy = PackingPolicy.default

    func run() async throws {
        if usage {
            try measureUsage()
            return
        }
        if let fuzz {
            try runFuzz(count: fuzz)
            return
        }
        if let secrets {
            print(try SecretBench.labelled(URL(fileURLWithPath: secrets)))
            if let dir {
                let cost = SecretBench.scanCost(URL(fileURLWithPath: dir))
                print(
                    "  scanning \(dir): \(String(format: "%.1f", cost.megabytes)) MB in \(String(format: "%.3f", cost.seconds)) s on one core "
                        + "(\(String(format: "%.0f", cost.megabytes / max(cost.seconds, 1e-9))) MB/s, median of 5), \(cost.findings) findings"
                )
            }
            return
        }
        if let relevance {
            try await measureRelevance(URL(fileURLWithPath: relevance))
            return
        }
        if tokens {
            try measureTokens()
            return
        }
        if parseOnly, let dir {
            try measureParser(URL(fileURLWithPath: dir))
            return
        }
        if let generate {
            var generator = SyntheticCorpus(files: files, megabytes: mb)
            try generator.write(to: URL(fileURLWithPath: generate))
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let root = work.appendingPathComponent("root")
        let queries: [String]
        let corpusName: String
        if let dir {
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: dir), to: root)
            try? FileManager.default.removeItem(at: root.appendingPathComponent(".ctxmem"))
            queries = querySet == "synthetic" ? SyntheticCorpus(files: files, megabytes: mb).queries : Queries.general
            corpusName = URL(fileURLWithPath: dir).lastPathComponent
        } else {
            var generator = SyntheticCorpus(files: files, megabytes: mb)
            try generator.write(to: root)
            queries = generator.queries
            corpusName = "synthetic \(files) files"
        }
        let database = work.appendingPathComponent("index.sqlite").path
        let service = MemoryService(root: root, databasePath: database)
        if audit {
            try await measureAudit(root: root, service: service, corpusName: corpusName)
            return
        }
        var result = BenchResult(corpus: corpusName)

        // Cold index: from an empty index each run.
        // Timed around the whole call: the new file's sync and rename count too.
        var coldSeconds: [Double] = []
        var ceilingSeconds: [Double] = []
        var report: IndexReport?
        for _ in 0..<max(1, runs) {
            let clock = ContinuousClock()
            var run: IndexReport?
            let elapsed = try await clock.measure { run = try await service.index(rebuild: true, include: include) }
            coldSeconds.append(elapsed.seconds)
            report = run
            if ceiling {
                ceilingSeconds.append(
                    try FTS5IngestCeiling.measure(indexAt: database, scratchPath: database + ".ceiling").seconds)
            }
        }
        guard let report else { throw ValidationError("no index run") }
        result.documents = report.documents
        result.markdownMB = Double(report.bytesParsed) / 1_048_576
        result.sections = try service.statistics().sections
        result.coldIndexSeconds = median(coldSeconds)
        result.coldIndexMBPerSecond = result.markdownMB / result.coldIndexSeconds
        if ceiling {
            // Pairs from the same runs: each cold index against the ingest that followed it.
            let ratios = zip(ceilingSeconds, coldSeconds).map { $0 / $1 }
            result.ceilingSeconds = median(ceilingSeconds)
            result.coldIndexOfCeiling = median(ratios)
        }

        // No change: nothing is read.
        var noChange: [Double] = []
        for _ in 0..<max(3, runs) {
            noChange.append(try await service.index(include: include).seconds)
        }
        result.noChangeSeconds = median(noChange)

        // One file changed: a file of median size (the typical edit), then the largest file.
        let (typical, largest) = try editTargets(service: service)
        result.oneChangeSeconds = try await timeEdits(of: typical, root: root, service: service)
        result.largestChangeSeconds = try await timeEdits(of: largest, root: root, service: service)
        result.typicalFileKB = Double(fileSize(root, typical)) / 1024
        result.largestFileKB = Double(fileSize(root, largest)) / 1024

        // Search latency, in process, on a warm connection.
        var latencies: [Double] = []
        var hits = 0
        for query in queries {
            _ = try Self.searchNow(service, query, limit: 10)  // warm-up
        }
        let clock = ContinuousClock()
        var perQuery: [String: [Double]] = [:]
        for _ in 0..<repeats {
            for query in queries {
                let start = clock.now
                hits += try Self.searchNow(service, query, limit: 10).count
                let elapsed = (clock.now - start).milliseconds
                latencies.append(elapsed)
                perQuery[query, default: []].append(elapsed)
            }
        }
        if verbose {
            for query in queries {
                let count = try Self.searchNow(service, query, limit: 1000).count
                print(
                    String(
                        format: "  %8.3f ms median  %5d%@ hits  %@", median(perQuery[query] ?? []), count,
                        count == 1000 ? "+" : " ", query))
            }
        }
        latencies.sort()
        result.searchQueries = queries.count
        result.searchSamples = latencies.count
        result.searchP50Milliseconds = percentile(latencies, 0.50)
        result.searchP99Milliseconds = percentile(latencies, 0.99)
        result.meanHitsPerQuery = Double(hits) / Double(max(1, latencies.count))
        try timePacks(service: service, tasks: Array(queries.prefix(4)), result: &result)
        result.peakRSSMB = peakRSSMegabytes()
        result.indexMB = Double(try service.statistics().indexBytes) / 1_048_576

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.table)
        }
    }

    /// Parser throughput on one core, without I/O or the database, for profiling.
    private func runFuzz(count: Int) throws {
        let folder = URL(fileURLWithPath: dir ?? "memory")
        var seeds: [[UInt8]] = []
        if let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where ["md", "html", "xml", "json", "txt"].contains(url.pathExtension) {
                if let data = try? Data(contentsOf: url), data.count < 200_000 { seeds.append(Array(data)) }
            }
        }
        var bench = FuzzBench(seeds: seeds, count: count, random: SplitMix64(seed: 0xF022))
        let results = bench.run { name, done in FileHandle.standardError.write(Data("\(name): \(done)\n".utf8)) }
        print("fuzz: \(seeds.count) seed files from \(folder.path), seed 0xF022")
        for result in results {
            print("  \(result.parser): \(result.inputs) inputs, 0 crashes, \(String(format: "%.1f", result.seconds)) s")
        }
    }

    private func measureParser(_ root: URL) throws {
        var texts: [(String, String)] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "md", let data = try? Data(contentsOf: url) else { continue }
            texts.append((String(url.path.dropFirst(root.path.count + 1)), String(decoding: data, as: UTF8.self)))
        }
        let bytes = texts.reduce(0) { $0 + $1.1.utf8.count }
        let clock = ContinuousClock()
        var seconds: [Double] = []
        var sections = 0
        for _ in 0..<max(1, runs) {
            let start = clock.now
            for (path, text) in texts {
                sections += DocumentParser.parse(text: text, path: path, rootPath: root.path).sections.count
            }
            seconds.append((clock.now - start).milliseconds / 1000)
        }
        let mb = Double(bytes) / 1_048_576
        print(
            String(
                format: "parsed %d files, %.1f MB: median %.3f s = %.1f MB/s on one core (%d sections)",
                texts.count, mb, median(seconds), mb / median(seconds), sections / max(1, runs)))
    }

    /// A search on the calling thread: the latency the command line sees (an async context would
    /// pick the servers' entry point, which adds a hop to the reader's thread).
    static func searchNow(_ service: MemoryService, _ query: String, limit: Int) throws -> [SearchHit] {
        try service.search(query, options: SearchOptions(limit: limit))
    }

    /// The indexed Markdown files of median and of largest size.
    private func editTargets(service: MemoryService) throws -> (typical: String, largest: String) {
        let files = try service.storage.reader().documents(kind: nil).map(\.path).filter { $0.hasSuffix(".md") }
            .map { path in
                let size =
                    (try? FileManager.default.attributesOfItem(atPath: service.root.appendingPathComponent(path).path))?[
                        .size]
                return (path: path, size: (size as? Int) ?? 0)
            }
            .sorted { ($0.size, $0.path) < ($1.size, $1.path) }
        guard let largest = files.last else { throw ValidationError("the corpus has no indexed Markdown") }
        return (files[files.count / 2].path, largest.path)
    }

    /// Median time to re-index after appending a line to `path`.
    private func timeEdits(of path: String, root: URL, service: MemoryService) async throws -> Double {
        var seconds: [Double] = []
        for round in 0..<max(3, runs) {
            let handle = try FileHandle(forWritingTo: root.appendingPathComponent(path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("\nEdited in benchmark round \(round): zebrafish.\n".utf8))
            try handle.close()
            let changed = try await service.index(include: include)
            guard changed.changed == 1 else {
                throw ValidationError("expected one changed file, got \(changed.changed)")
            }
            seconds.append(changed.seconds)
        }
        return median(seconds)
    }

    private func fileSize(_ root: URL, _ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(path).path))?[.size] as? Int)
            ?? 0
    }
}

struct BenchResult: Codable {
    var corpus: String
    var documents = 0
    var sections = 0
    var markdownMB = 0.0
    var indexMB = 0.0
    var coldIndexSeconds = 0.0
    var coldIndexMBPerSecond = 0.0
    /// With --ceiling: a bare FTS5 ingest of the same sections, and the cold index's speed as a share of it.
    var ceilingSeconds: Double?
    var coldIndexOfCeiling: Double?
    var noChangeSeconds = 0.0
    var oneChangeSeconds = 0.0
    var largestChangeSeconds = 0.0
    var typicalFileKB = 0.0
    var largestFileKB = 0.0
    var searchQueries = 0
    var searchSamples = 0
    var searchP50Milliseconds = 0.0
    var searchP99Milliseconds = 0.0
    var meanHitsPerQuery = 0.0
    var packSamples = 0
    var packP50Milliseconds = 0.0
    var packMaxMilliseconds = 0.0
    var packMedianTokens = 0.0
    var peakRSSMB = 0.0

    var table: String {
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        return """
            corpus:                \(corpus)
            documents / sections:  \(documents) / \(sections)
            Markdown parsed:       \(f(markdownMB, 1)) MB (index file \(f(indexMB, 1)) MB)
            cold index:            \(f(coldIndexSeconds)) s  = \(f(coldIndexMBPerSecond, 1)) MB/s   (target >= 10 MB/s)
            \(coldIndexOfCeiling.map { "FTS5 ingest ceiling:   \(f(ceilingSeconds ?? 0)) s; cold index at \(f($0)) of it (target >= 0.80)\n" } ?? "")no-change re-index:    \(f(noChangeSeconds * 1000, 1)) ms                 (target <= 1 s at 10,000 files)
            one file changed:      \(f(oneChangeSeconds * 1000, 1)) ms (median-size file, \(f(typicalFileKB, 1)) KB)   (target <= 100 ms)
            largest file changed:  \(f(largestChangeSeconds * 1000, 1)) ms (\(f(largestFileKB, 1)) KB)
            search p50 / p99:      \(f(searchP50Milliseconds, 3)) / \(f(searchP99Milliseconds, 3)) ms   (targets <= 5 / <= 50 ms; \(searchQueries) queries x \(searchSamples / max(1, searchQueries)), \(f(meanHitsPerQuery, 1)) hits each)
            200k pack p50 / max:   \(f(packP50Milliseconds, 1)) / \(f(packMaxMilliseconds, 1)) ms   (target <= 200 ms at 50 MB; \(packSamples) packs, median \(f(packMedianTokens, 0)) tokens)
            peak RSS:              \(f(peakRSSMB, 1)) MB               (target <= 300 MB)
            """
    }
}

extension Bench {
    func measureUsage() throws {
        if let dir {
            print(try UsageBench.measure(folder: URL(fileURLWithPath: dir), runs: runs, cold: cold))
            return
        }
        if let generate {
            let bytes = try UsageBench.generate(into: URL(fileURLWithPath: generate), megabytes: mb, mix: usageMix)
            print("wrote \(String(format: "%.1f", Double(bytes) / 1_048_576)) MB of transcripts to \(generate)")
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let folder = work.appendingPathComponent("projects/-bench-project")
        _ = try UsageBench.generate(into: folder, megabytes: mb, mix: usageMix)
        print(try UsageBench.measure(folder: folder, runs: runs, cold: cold))
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

extension Duration {
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}

/// A fixed query set for real corpora: common words, phrases, operators, identifiers.
enum Queries {
    static let general = [
        "agent", "test", "review", "\"pull request\"", "security", "install*", "config OR configuration",
        "error -warning", "kubernetes", "release", "documentation", "api", "hook*", "workflow", "design",
        "TDD", "CLAUDE.md", "sig-node", "memory", "performance", "\"code review\"", "deprecated", "token*",
        "meeting OR agenda", "typescript", "python", "database migration", "approve*", "license", "contributor",
    ]
}
