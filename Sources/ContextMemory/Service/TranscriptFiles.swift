import Foundation

/// The memory files a Claude Code session worked on, read from its transcript (JSON lines; each
/// assistant message's `tool_use` blocks carry their input, where file tools name `file_path` or
/// `notebook_path`). Streamed line by line; lines that are not JSON, or not of that shape, are skipped.
enum TranscriptFiles {
    /// Paths under `root`, relative to it, that the session's tools touched.
    static func paths(in transcript: URL, relativeTo root: URL) throws -> Set<String> {
        let handle = try FileHandle(forReadingFrom: transcript)
        defer { try? handle.close() }
        let rootPath = root.standardizedFileURL.path + "/"
        var found: Set<String> = []
        var pending = Data()
        let marker = Data("\"tool_use\"".utf8)
        func take(_ line: Data) {
            guard line.range(of: marker) != nil,
                let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                let message = object["message"] as? [String: Any],
                let content = message["content"] as? [[String: Any]]
            else { return }
            for block in content where block["type"] as? String == "tool_use" {
                guard let input = block["input"] as? [String: Any] else { continue }
                for key in ["file_path", "notebook_path", "path"] {
                    guard let value = input[key] as? String else { continue }
                    let url = value.hasPrefix("/") ? URL(fileURLWithPath: value) : root.appendingPathComponent(value)
                    let absolute = url.standardizedFileURL.path
                    if absolute.hasPrefix(rootPath) { found.insert(String(absolute.dropFirst(rootPath.count))) }
                }
            }
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 0x0A) {
                take(pending[pending.startIndex..<newline])
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { take(pending) }
        return found
    }
}
