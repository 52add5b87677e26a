import Foundation
import Yams

/// `.ctxmem.yaml`'s `handoffs`: whether `ctxmem hook` keeps each sub-agent's report when it stops
/// (`SubagentStop`), where, and how much of it. Off by default: the records are files in the
/// project, and a team decides to keep them.
///
/// ```yaml
/// handoffs: true                          # on, with the defaults below
/// handoffs:
///   enabled: true
///   folder: project_management/handoffs   # records go to FOLDER/YYYY-MM-DD/AGENT-SHORTID.md
///   max_report_bytes: 32768               # longer reports are cut (and the audit says so)
///   max_folder_bytes: 2097152             # the audit warns past this (ctxmem handoffs prune)
/// ```
public struct HandoffSettings: Codable, Sendable, Equatable {
    public var enabled: Bool
    /// Relative to the root; never leaves it.
    public var folder: String
    public var maxReportBytes: Int
    public var maxFolderBytes: Int

    public static let defaultFolder = "project_management/handoffs"
    /// About 8,000 tokens: a report is a summary, and a pack should be able to hold a few.
    public static let defaultMaxReportBytes = 32 * 1024
    /// About a month of a busy team's reports at a few kilobytes each.
    public static let defaultMaxFolderBytes = 2 * 1024 * 1024

    public init(
        enabled: Bool = false, folder: String = HandoffSettings.defaultFolder,
        maxReportBytes: Int = HandoffSettings.defaultMaxReportBytes,
        maxFolderBytes: Int = HandoffSettings.defaultMaxFolderBytes
    ) {
        self.enabled = enabled
        self.folder = folder
        self.maxReportBytes = maxReportBytes
        self.maxFolderBytes = maxFolderBytes
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, folder
        case maxReportBytes = "max_report_bytes"
        case maxFolderBytes = "max_folder_bytes"
    }

    /// `true`/`false`, or a mapping (then `enabled` defaults to true: writing the mapping turns it on).
    public init(from decoder: any Decoder) throws {
        if let on = try? decoder.singleValueContainer().decode(Bool.self) {
            self.init(enabled: on)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            enabled: try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true,
            folder: try container.decodeIfPresent(String.self, forKey: .folder) ?? Self.defaultFolder,
            maxReportBytes: try container.decodeIfPresent(Int.self, forKey: .maxReportBytes)
                ?? Self.defaultMaxReportBytes,
            maxFolderBytes: try container.decodeIfPresent(Int.self, forKey: .maxFolderBytes)
                ?? Self.defaultMaxFolderBytes)
    }

    /// The settings `<root>/.ctxmem.yaml` gives, parsing it only when it mentions `handoffs`: search
    /// asks on every query, and a first YAML parse costs a command-line run milliseconds.
    static func load(root: URL) -> HandoffSettings {
        let url = root.appendingPathComponent(Configuration.fileName)
        guard let data = try? BoundedRead.contents(of: url, limit: Configuration.maxFileBytes),
            String(decoding: data, as: UTF8.self).contains("handoffs")
        else { return HandoffSettings() }
        return (try? Configuration.load(root: root).handoffs) ?? HandoffSettings()
    }

    /// The folder without `./` and trailing slashes.
    public var normalizedFolder: String {
        var folder = folder
        while folder.hasPrefix("./") { folder.removeFirst(2) }
        while folder.hasSuffix("/") { folder.removeLast() }
        return folder
    }

    /// Whether `path` (relative to the root) lies in the handoff folder.
    public func contains(_ path: String) -> Bool {
        path.hasPrefix(normalizedFolder + "/")
    }

    /// Checks what decoding cannot: unknown keys, a folder that would leave the root, sizes.
    static func validate(_ node: Node, decoded: HandoffSettings, source: String) throws {
        let line = Configuration.linePrefix(node.mark?.line)
        if let mapping = node.mapping {
            let known = CodingKeys.allCases.map(\.rawValue)
            for key in mapping.keys where !known.contains(key.string ?? "") {
                throw ConfigurationError.invalidValue(
                    source: source,
                    detail: Configuration.linePrefix(key.mark?.line)
                        + "unknown setting 'handoffs.\(key.string ?? "\(key)")' (known: \(known.joined(separator: ", ")))"
                )
            }
        } else if node.scalar == nil {
            throw ConfigurationError.invalidValue(
                source: source, detail: line + "handoffs must be true, false or a mapping (enabled, folder, ...)")
        }
        let folder = decoded.normalizedFolder
        let parts = folder.split(separator: "/", omittingEmptySubsequences: false)
        if folder.isEmpty || folder.hasPrefix("/") || parts.contains("..") || parts.contains("")
            || parts.first == Substring(MemoryFormatsFolder.index)
        {
            throw ConfigurationError.invalidValue(
                source: source,
                detail: line
                    + "handoffs.folder must be a folder inside the root, written relative to it without '..' (not '\(decoded.folder)')"
            )
        }
        guard (1024...(16 << 20)).contains(decoded.maxReportBytes) else {
            throw ConfigurationError.invalidValue(
                source: source, detail: line + "handoffs.max_report_bytes must be between 1024 and 16777216")
        }
        guard decoded.maxFolderBytes >= 1024 else {
            throw ConfigurationError.invalidValue(
                source: source, detail: line + "handoffs.max_folder_bytes must be at least 1024")
        }
    }
}

/// The index folder's name, which a handoff folder may not be inside.
private enum MemoryFormatsFolder {
    static let index = ".ctxmem"
}
