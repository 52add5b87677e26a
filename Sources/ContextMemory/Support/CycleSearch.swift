/// Finds the edges that close a cycle in a directed graph of paths, such as the import graph.
///
/// Depth-first, in the order given, with an explicit stack: an import chain is as long as its
/// files say (a CLAUDE.md can import n0, n0 import n1, ... tens of thousands deep), and one level
/// of recursion per file overflowed the thread's stack at about 35,000.
enum CycleSearch {
    /// Every edge whose target is on the current path when it is followed, with that path from
    /// the target back to it (`[a, b, a]`), in the order a recursive search would report them.
    static func cycles<Label>(
        from starts: [String], edges: (String) -> [(target: String, label: Label)]
    ) -> [(label: Label, cycle: [String])] {
        var found: [(label: Label, cycle: [String])] = []
        var done: Set<String> = []
        var onPath: [String: Int] = [:]  // position in `path`
        var path: [String] = []
        var frames: [(edges: [(target: String, label: Label)], next: Int)] = []

        func enter(_ node: String) {
            onPath[node] = path.count
            path.append(node)
            frames.append((edges(node), 0))
        }
        for start in starts where !done.contains(start) && onPath[start] == nil {
            enter(start)
            while let top = frames.indices.last {
                guard frames[top].next < frames[top].edges.count else {
                    let node = path.removeLast()
                    onPath[node] = nil
                    done.insert(node)
                    frames.removeLast()
                    continue
                }
                let edge = frames[top].edges[frames[top].next]
                frames[top].next += 1
                if let position = onPath[edge.target] {
                    found.append((edge.label, Array(path[position...]) + [edge.target]))
                } else if !done.contains(edge.target) {
                    enter(edge.target)
                }
            }
        }
        return found
    }
}
