import ContextMemory
import Foundation

extension Bench {
    /// Token counting on one core, in memory (TokenBench.swift).
    func measureTokens() throws {
        let root: URL
        var temporary: URL?
        if let dir {
            root = URL(fileURLWithPath: dir)
        } else {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ctxmem-bench-\(UUID().uuidString)")
            temporary = root
            var generator = SyntheticCorpus(files: files, megabytes: mb)
            try generator.write(to: root)
        }
        defer { temporary.map { try? FileManager.default.removeItem(at: $0) } }
        let bench = TokenBench(
            texts: TokenBench.markdownFiles(under: root), tokenizer: URL(fileURLWithPath: tokenizer), runs: runs)
        let result = try bench.run(
            corpus: dir.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "synthetic \(files) files")
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(result.table)
        }
    }
}

/// `ctxmem-bench --tokens`: throughput of the estimator and of the exact BPE on one core, long single
/// lines (the quadratic trap of naive BPE), and the estimator's accuracy against the exact count.
struct TokenBench {
    var texts: [(path: String, text: String)]
    var tokenizer: URL
    var runs: Int

    /// Every Markdown file under `root`, sorted by path (the deterministic pack order).
    static func markdownFiles(under root: URL) -> [(path: String, text: String)] {
        var texts: [(path: String, text: String)] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "md", let data = try? Data(contentsOf: url) else { continue }
            texts.append((String(url.path.dropFirst(root.path.count + 1)), String(decoding: data, as: UTF8.self)))
        }
        return texts.sorted { $0.path < $1.path }
    }

    struct Result: Codable {
        var corpus = ""
        var files = 0
        var megabytes = 0.0
        var tokenizerLoadSeconds = 0.0
        var estimatorMBPerSecond = 0.0
        var exactColdMBPerSecond = 0.0
        var exactWarmMBPerSecond = 0.0
        var singleLine: [SingleLine] = []
        var exactTokens = 0
        var estimatedTokens = 0
        var perFileMeanRatio = 0.0
        var perFileP1Ratio = 0.0
        var perFileP99Ratio = 0.0
        var perFileP99AbsoluteError = 0.0
        var packs = 0
        var packErrors: [Double] = []
    }

    struct SingleLine: Codable {
        var name: String
        var estimatorSeconds: Double
        var exactSeconds: Double
        var exactTokens: Int
    }

    func run(corpus: String) throws -> Result {
        var result = Result(corpus: corpus, files: texts.count)
        let bytes = texts.reduce(0) { $0 + $1.text.utf8.count }
        result.megabytes = Double(bytes) / 1_048_576
        let clock = ContinuousClock()

        var loads: [Double] = []
        var tokenizers: [BPETokenizer] = []
        for _ in 0..<max(1, runs) {
            let start = clock.now
            tokenizers.append(try BPETokenizer(contentsOf: tokenizer))
            loads.append(seconds(clock.now - start))
        }
        result.tokenizerLoadSeconds = median(loads)

        let estimator = ClaudeTokenEstimator()
        result.estimatorMBPerSecond =
            result.megabytes
            / median(
                (0..<max(1, runs)).map { _ in
                    time(clock) { texts.reduce(0) { $0 + estimator.count($1.text) } }
                })
        // Cold: a fresh tokenizer (empty piece cache) each run; warm: the same one again.
        result.exactColdMBPerSecond =
            result.megabytes
            / median(
                tokenizers.map { exact in
                    time(clock) { texts.reduce(0) { $0 + exact.count($1.text) } }
                })
        let warm = tokenizers[0]
        result.exactWarmMBPerSecond =
            result.megabytes
            / median(
                (0..<max(1, runs)).map { _ in
                    time(clock) { texts.reduce(0) { $0 + warm.count($1.text) } }
                })

        for (name, line) in Self.singleLines(from: texts) {
            var exactTokens = 0
            let exactSeconds = median(
                (0..<max(1, runs)).map { _ in
                    time(clock) {
                        exactTokens = warm.count(line)
                        return exactTokens
                    }
                })
            let estimatorSeconds = median((0..<max(1, runs)).map { _ in time(clock) { estimator.count(line) } })
            result.singleLine.append(
                SingleLine(
                    name: name, estimatorSeconds: estimatorSeconds,
                    exactSeconds: exactSeconds, exactTokens: exactTokens))
        }

        // Accuracy: per file, then on packs of >= 150k exact tokens of files concatenated in path order.
        var ratios: [Double] = []
        var pack = ""
        var packTokens = 0
        for (_, text) in texts {
            let exact = warm.count(text)
            let estimate = estimator.count(text)
            result.exactTokens += exact
            result.estimatedTokens += estimate
            if exact > 0 { ratios.append(Double(estimate) / Double(exact)) }
            pack += text + "\n\n"
            packTokens += exact
            if packTokens >= 150_000 {
                result.packErrors.append(Double(estimator.count(pack)) / Double(warm.count(pack)) - 1)
                pack = ""
                packTokens = 0
            }
        }
        ratios.sort()
        result.perFileMeanRatio = ratios.reduce(0, +) / Double(max(1, ratios.count))
        result.perFileP1Ratio = percentile(ratios, 0.01)
        result.perFileP99Ratio = percentile(ratios, 0.99)
        result.perFileP99AbsoluteError = percentile(ratios.map { abs($0 - 1) }.sorted(), 0.99)
        result.packs = result.packErrors.count
        return result
    }

    /// 1 MB lines: one letter, one symbol, random letters (no cache help), and the corpus without whitespace.
    static func singleLines(from texts: [(path: String, text: String)]) -> [(String, String)] {
        let size = 1_048_576
        var random = SplitMix64(seed: 42)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let randomLetters = String((0..<size).map { _ in letters[Int(random.next() % 26)] })
        var mixed = ""
        for (_, text) in texts where mixed.utf8.count < size {
            mixed += text.unicodeScalars.filter { !$0.properties.isWhitespace }.map(String.init).joined()
        }
        var scalars = mixed.unicodeScalars.prefix(size)
        while String(String.UnicodeScalarView(scalars)).utf8.count > size { scalars = scalars.dropLast(1024) }
        return [
            ("1 MB of 'a'", String(repeating: "a", count: size)),
            ("1 MB of '='", String(repeating: "=", count: size)),
            ("1 MB of random a-z", randomLetters),
            ("1 MB of corpus text without whitespace", String(String.UnicodeScalarView(scalars))),
        ]
    }

    private func time(_ clock: ContinuousClock, _ body: () -> Int) -> Double {
        let start = clock.now
        let value = body()
        let elapsed = seconds(clock.now - start)
        withExtendedLifetime(value) {}
        return elapsed
    }

    private func seconds(_ duration: Duration) -> Double { duration.milliseconds / 1000 }
}

extension TokenBench.Result {
    var table: String {
        func f(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
        let within = packErrors.filter { abs($0) <= 0.03 }.count
        let lines = singleLine.map {
            "  \($0.name): estimator \(f($0.estimatorSeconds * 1000, 1)) ms, exact \(f($0.exactSeconds * 1000, 1)) ms (\($0.exactTokens) tokens)"
        }.joined(separator: "\n")
        return """
            corpus:                 \(corpus): \(files) files, \(f(megabytes, 1)) MB
            tokenizer load:         \(f(tokenizerLoadSeconds * 1000, 0)) ms
            estimator:              \(f(estimatorMBPerSecond, 1)) MB/s on one core   (target >= 50 MB/s)
            exact BPE:              \(f(exactColdMBPerSecond, 1)) MB/s cold cache, \(f(exactWarmMBPerSecond, 1)) MB/s warm   (target >= 10 MB/s)
            single 1 MB lines:
            \(lines)
            tokens:                 exact \(exactTokens), estimated \(estimatedTokens) (\(f(Double(estimatedTokens) / Double(max(1, exactTokens)), 3)))
            per file est/exact:     mean \(f(perFileMeanRatio, 3)), p1 \(f(perFileP1Ratio, 3)), p99 \(f(perFileP99Ratio, 3)); p99 of |est/exact - 1| \(f(perFileP99AbsoluteError, 3))   (target <= 0.15)
            150k-token packs:       \(packs) packs, error min \(f((packErrors.min() ?? 0) * 100, 1))%, max \(f((packErrors.max() ?? 0) * 100, 1))%, \(within) within 3%   (target: all within 3%)
            """
    }
}
