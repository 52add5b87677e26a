import Foundation

/// Scans lines for `@imports` by Claude Code's rule: `(?:^|\s)@((?:[^\s\\]|\\ )+)`, skipping
/// code spans and the lines of code and HTML blocks; the path must start with `./`, `~/`, `/` or
/// one of `[A-Za-z0-9._-]`.
enum ImportScanner {
    static func scan(lines: [Substring], skip: IndexSet, firstLine: Int, resolver: ReferenceResolver) -> [Reference] {
        var references: [Reference] = []
        var codeSpanFence = 0  // length of an open multi-line code span's backtick run
        var lineNumber = firstLine
        while lineNumber <= lines.count {
            defer { lineNumber += 1 }
            let line = lines[lineNumber - 1]
            if skip.contains(lineNumber) || line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                codeSpanFence = 0  // code spans end with their paragraph
                continue
            }
            guard codeSpanFence > 0 || line.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "`") })
            else { continue }
            let scalars = Array(line.unicodeScalars)
            var i = 0
            while i < scalars.count {
                let c = scalars[i]
                if c == "`" {
                    var run = 0
                    while i < scalars.count, scalars[i] == "`" {
                        run += 1
                        i += 1
                    }
                    if codeSpanFence == 0 {
                        // Opens a span only if a closing run of the same length follows in this paragraph.
                        if closes(run: run, after: i, in: scalars, lines: lines, from: lineNumber, skip: skip) {
                            codeSpanFence = run
                        }
                    } else if run == codeSpanFence {
                        codeSpanFence = 0
                    }
                    continue
                }
                if codeSpanFence > 0 {
                    i += 1
                    continue
                }
                if c == "\\" {
                    i += 2
                    continue
                }
                if c == "@", i == 0 || scalars[i - 1].properties.isWhitespace {
                    var j = i + 1
                    var written = String.UnicodeScalarView()
                    while j < scalars.count {
                        if scalars[j] == "\\", j + 1 < scalars.count, scalars[j + 1] == " " {
                            written.append("\\")
                            written.append(" ")
                            j += 2
                            continue
                        }
                        if scalars[j].properties.isWhitespace || scalars[j] == "\\" { break }
                        written.append(scalars[j])
                        j += 1
                    }
                    let target = String(written)
                    if isImportPath(target) {
                        let resolved = resolver.resolveImport(target)
                        references.append(
                            Reference(
                                kind: .import, target: target, resolvedPath: resolved.path,
                                fragment: resolved.fragment, status: resolved.status,
                                line: lineNumber, column: i + 1))
                    }
                    i = j
                    continue
                }
                i += 1
            }
        }
        return references
    }

    /// Claude Code's validity test, applied to the path without its fragment.
    static func isImportPath(_ written: String) -> Bool {
        var path = written
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        guard !path.isEmpty else { return false }
        if path.hasPrefix("./") || path.hasPrefix("~/") { return true }
        if path.hasPrefix("/") { return path != "/" }
        guard let first = path.unicodeScalars.first, first.isASCII else { return false }
        return first.properties.isAlphabetic || ("0"..."9").contains(first) || first == "." || first == "_"
            || first == "-"
    }

    private static func closes(
        run: Int, after index: Int, in scalars: [Unicode.Scalar], lines: [Substring],
        from lineNumber: Int, skip: IndexSet
    ) -> Bool {
        if hasRun(run, in: scalars[index...]) { return true }
        var next = lineNumber + 1
        while next <= lines.count, !skip.contains(next) {
            let line = lines[next - 1]
            if line.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return false }
            if hasRun(run, in: Array(line.unicodeScalars)[...]) { return true }
            next += 1
        }
        return false
    }

    private static func hasRun(_ length: Int, in scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        var i = scalars.startIndex
        while i < scalars.endIndex {
            guard scalars[i] == "`" else {
                i += 1
                continue
            }
            var run = 0
            while i < scalars.endIndex, scalars[i] == "`" {
                run += 1
                i += 1
            }
            if run == length { return true }
        }
        return false
    }
}
