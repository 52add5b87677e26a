/// A unified diff of two texts by lines (`diff -u`'s format, three lines of context), for
/// `ctxmem init --dry-run`. Lines are matched by a longest common subsequence; past
/// ``maxCells`` line pairs (files far larger than any settings file) the whole old text is
/// shown removed and the new one added.
///
///     UnifiedDiff.render(old: "a\nb\n", new: "a\nc\n", path: "x.json")
///     // --- x.json
///     // +++ x.json (after ctxmem init)
///     // @@ -1,2 +1,2 @@
///     //  a
///     // -b
///     // +c
enum UnifiedDiff {
    static let context = 3
    static let maxCells = 4_000_000

    private enum Edit: Equatable {
        case same(String)
        case removed(String)
        case added(String)

        var isChange: Bool {
            if case .same = self { return false }
            return true
        }
    }

    /// - Parameter old: nil for a file that does not exist yet (`--- /dev/null`).
    static func render(old: String?, new: String, path: String) -> String {
        let edits = diff(lines(old ?? ""), lines(new))
        var output = ["--- \(old == nil ? "/dev/null" : path)", "+++ \(path) (after ctxmem init)"]
        // Each hunk: a run of changes no more than 2 × context unchanged lines apart, with
        // `context` unchanged lines before and after.
        var oldLine = 0  // lines of each side before the next hunk
        var newLine = 0
        var index = 0
        while let first = edits[index...].firstIndex(where: \.isChange) {
            let start = max(index, first - context)
            let skipped = start - index  // unchanged lines between hunks
            oldLine += skipped
            newLine += skipped
            var last = first
            while let next = edits[(last + 1)...].firstIndex(where: \.isChange), next - last <= 2 * context + 1 {
                last = next
            }
            let stop = min(edits.count, last + context + 1)
            let hunk = edits[start..<stop]
            let oldCount = hunk.count { if case .added = $0 { false } else { true } }
            let newCount = hunk.count { if case .removed = $0 { false } else { true } }
            output.append(
                "@@ -\(oldCount == 0 ? oldLine : oldLine + 1),\(oldCount) +\(newCount == 0 ? newLine : newLine + 1),\(newCount) @@"
            )
            for edit in hunk {
                switch edit {
                case .same(let line): output.append(" " + line)
                case .removed(let line): output.append("-" + line)
                case .added(let line): output.append("+" + line)
                }
            }
            oldLine += oldCount
            newLine += newCount
            index = stop
        }
        return output.joined(separator: "\n") + "\n"
    }

    /// Lines without their terminators; a final line break ends the last line, it adds none.
    private static func lines(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if text.hasSuffix("\n") { lines.removeLast() }
        return lines
    }

    private static func diff(_ a: [String], _ b: [String]) -> [Edit] {
        guard a.count * b.count <= maxCells else { return a.map(Edit.removed) + b.map(Edit.added) }
        // common[i][j]: the longest common subsequence of a[i...] and b[j...].
        let width = b.count + 1
        var common = [Int](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                common[i * width + j] =
                    a[i] == b[j]
                    ? common[(i + 1) * width + j + 1] + 1
                    : max(common[(i + 1) * width + j], common[i * width + j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(.same(a[i]))
                i += 1
                j += 1
            } else if i < a.count, j == b.count || common[(i + 1) * width + j] >= common[i * width + j + 1] {
                edits.append(.removed(a[i]))  // removals first, as diff -u shows them
                i += 1
            } else {
                edits.append(.added(b[j]))
                j += 1
            }
        }
        return edits
    }
}
