/// The `@import` graph of a memory tree: each file's imports, in the order written. A repeated
/// import is an edge of its own, so a cycle it closes is reported where each copy is written.
///
/// Indexing, packing and the audit ask it the same three questions: how many hops each file is
/// from those Claude Code loads at launch (breadth first, as Claude Code expands imports), what a
/// set of files pulls in within the depth limit, and which imports close a cycle. Answering them
/// in one place keeps the three from drifting apart, and gives a cycle one message everywhere.
struct ImportGraph: Sendable, Equatable {
    /// Imported paths by importer; a file without imports may be absent.
    private(set) var imports: [String: [String]]

    init(imports: [String: [String]]) {
        self.imports = imports
    }

    /// The graph of the files reachable from `roots`, asking `imports` once for each: a tree of
    /// thousands of files, few of which import anything, gets its graph without a pass over all.
    init(reachableFrom roots: [String], imports: (String) -> [String]) {
        var graph: [String: [String]] = [:]
        var seen = Set(roots)
        var queue = roots
        var index = 0
        while index < queue.count {
            let path = queue[index]
            index += 1
            let targets = imports(path)
            if !targets.isEmpty { graph[path] = targets }
            for target in targets where seen.insert(target).inserted { queue.append(target) }
        }
        self.imports = graph
    }

    func imports(of path: String) -> [String] {
        imports[path] ?? []
    }

    /// The graph with only the imports whose target `isKept` (a file that exists, say).
    func filter(_ isKept: (String) -> Bool) -> ImportGraph {
        ImportGraph(imports: imports.mapValues { $0.filter(isKept) })
    }

    // MARK: - Depths and closure

    /// Hops from the nearest of `roots` (0 for the roots themselves), breadth first; files more
    /// than `limit` hops away are left out. No limit by default: the index records depths past
    /// Claude Code's so that the audit can report the imports it never follows.
    func depths(from roots: [String], limit: Int = .max) -> [String: Int] {
        breadthFirst(from: roots, limit: limit).mapValues(\.depth)
    }

    /// The files `seeds` import within `limit` hops, each with the seed that reached it first:
    /// seeds are expanded in sorted order, so a file two seeds import is credited to the first.
    /// Seeds themselves are never in the result, even when another seed imports them.
    func closure(from seeds: Set<String>, limit: Int) -> [String: String] {
        var reached: [String: String] = [:]
        for (path, reach) in breadthFirst(from: seeds.sorted(), limit: limit) where reach.depth > 0 {
            reached[path] = reach.origin
        }
        return reached
    }

    /// Every file within `limit` hops of `roots`, with its depth and the root it was reached from.
    /// Level by level, each level's files in the order they were reached and their imports in the
    /// order written: a file's depth is its shortest distance, and ties go to the earlier root.
    private func breadthFirst(from roots: [String], limit: Int) -> [String: (depth: Int, origin: String)] {
        var reached: [String: (depth: Int, origin: String)] = [:]
        var queue: [String] = []
        for root in roots where reached[root] == nil {
            reached[root] = (0, root)
            queue.append(root)
        }
        var index = 0
        while index < queue.count {
            let path = queue[index]
            index += 1
            guard let (depth, origin) = reached[path], depth < limit else { continue }
            for target in imports[path] ?? [] where reached[target] == nil {
                reached[target] = (depth + 1, origin)
                queue.append(target)
            }
        }
        return reached
    }

    // MARK: - Cycles

    /// An import that leads back to a file already on the chain being expanded.
    struct Cycle: Sendable, Equatable {
        /// The file whose import closes the cycle: where the finding is reported.
        var importer: String
        /// The closing import's position in `imports(of: importer)`, so that a caller finds the
        /// line it is written on.
        var importIndex: Int
        /// From the file imported again back to it: `[a, b, a]`.
        var files: [String]

        /// The one wording of an import cycle, for `ctxmem index` and `ctxmem audit` alike.
        var message: String {
            "import cycle: \(files.joined(separator: " -> ")); "
                + "Claude Code loads each file once, so the cycle only hides the order"
        }
    }

    /// Every import among `files` (both ends in it) whose target is on the current chain when it
    /// is followed, depth first from each file in sorted order, in the order a recursive search
    /// would report them.
    ///
    /// With an explicit stack: an import chain is as long as its files say (a CLAUDE.md can import
    /// n0, n0 import n1, ... tens of thousands deep), and one level of recursion per file
    /// overflowed the thread's stack at about 35,000.
    func cycles(among files: Set<String>) -> [Cycle] {
        var found: [Cycle] = []
        var done: Set<String> = []
        var onPath: [String: Int] = [:]  // position in `path`
        var path: [String] = []
        // Each file on the path with its imports and the next one to follow.
        var frames: [(targets: [String], next: Int)] = []

        func enter(_ file: String) {
            onPath[file] = path.count
            path.append(file)
            frames.append((imports[file] ?? [], 0))
        }
        for start in files.sorted() where !done.contains(start) {
            enter(start)
            while let top = frames.indices.last {
                let index = frames[top].next
                guard index < frames[top].targets.count else {
                    let file = path.removeLast()
                    onPath[file] = nil
                    done.insert(file)
                    frames.removeLast()
                    continue
                }
                frames[top].next += 1
                let target = frames[top].targets[index]
                guard files.contains(target) else { continue }
                if let position = onPath[target] {
                    let chain = Array(path[position...]) + [target]
                    found.append(Cycle(importer: path[top], importIndex: index, files: chain))
                } else if !done.contains(target) {
                    enter(target)
                }
            }
        }
        return found
    }
}
