import ContextMemory
import Foundation

/// `ctxmem-bench --secrets Bench/secrets-labelled.json [--dir D]`: precision and recall of the
/// secret rules on a labelled set (each line a real-shaped fake with its rule, or a near miss with
/// none), and what scanning costs beside a cold index of D's Markdown.
struct SecretBench {
    struct Case: Decodable {
        var text: String
        var rule: String?
    }

    static func labelled(_ file: URL) throws -> String {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: file))
        let scanner = SecretScanner()
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0
        var wrongRule = 0
        var misses: [String] = []
        for item in cases {
            let found = scanner.scan(item.text)
            switch (item.rule, found.first?.rule.rawValue) {
            case (let expected?, let got?):
                truePositives += 1
                if expected != got {
                    wrongRule += 1
                    misses.append("rule \(got) for \(expected): \(item.text.prefix(60))")
                }
            case (_?, nil):
                falseNegatives += 1
                misses.append("missed: \(item.text.prefix(60))")
            case (nil, _?):
                falsePositives += 1
                misses.append("false positive: \(item.text.prefix(60))")
            case (nil, nil): break
            }
        }
        let positives = cases.filter { $0.rule != nil }
        let kinds = Set(positives.compactMap(\.rule)).count
        let precision = Double(truePositives) / Double(max(1, truePositives + falsePositives))
        let recall = Double(truePositives) / Double(max(1, truePositives + falseNegatives))
        return """
            secrets: \(positives.count) real-shaped fakes of \(kinds) kinds, \(cases.count - positives.count) near misses
              precision \(String(format: "%.3f", precision)), recall \(String(format: "%.3f", recall)) (\(wrongRule) found under another rule)
            """ + misses.map { "\n  \($0)" }.joined()
    }

    /// Seconds to scan every text file under `root` on one core, and the megabytes scanned.
    static func scanCost(_ root: URL) -> (seconds: Double, megabytes: Double, findings: Int) {
        var texts: [String] = []
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) {
            for case let url as URL in walker
            where ["md", "txt", "json", "html", "xml", "yaml", "yml"].contains(url.pathExtension) {
                if let data = try? Data(contentsOf: url) { texts.append(String(decoding: data, as: UTF8.self)) }
            }
        }
        let scanner = SecretScanner()
        var findings = 0
        var runs: [Double] = []
        for _ in 0..<5 {
            let clock = ContinuousClock()
            findings = 0
            let elapsed = clock.measure { for text in texts { findings += scanner.scan(text).count } }
            runs.append(elapsed.seconds)
        }
        return (median(runs), Double(texts.reduce(0) { $0 + $1.utf8.count }) / 1_048_576, findings)
    }
}
