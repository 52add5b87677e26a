/// What the parser makes of one memory file: pure values, no I/O.
public struct Document: Sendable, Equatable {
    /// Path relative to the memory root, `/`-separated.
    public var path: String
    public var format: Format
    /// The frontmatter mapping, when the file has valid frontmatter.
    public var frontmatter: [String: JSONValue]?
    /// The first line after the frontmatter (1 when there is none).
    public var bodyStartLine: Int
    public var lineCount: Int
    public var title: String?
    public var sections: [Section]
    public var references: [Reference]
    /// Tier markers (`<!-- ctxmem: tier=... -->`) found in the file.
    public var markers: [TierMarker]
    /// Problems found while parsing that did not stop it (bad frontmatter, invalid UTF-8, ...).
    public var findings: [Finding]
    /// Every anchor a link can name in this file: heading slugs (with GitHub's `-1` suffixes for
    /// repeats), explicit `{#id}`s and HTML `id`/`name` attributes.
    public var anchors: [String]

    public typealias Format = DocumentFormat
}

/// A heading and its own text up to the next heading of any level; the text before the first
/// heading is the preamble (level 0, empty heading path).
///
/// Sections do not overlap, so every line is searched once; `headingPath` carries the hierarchy.
public struct Section: Sendable, Equatable {
    /// 0-based position in the document.
    public var ordinal: Int
    /// Heading titles from the outermost to this one.
    public var headingPath: [String]
    /// 1-6 for headings, 0 for the preamble.
    public var level: Int
    /// GitHub-style anchor of the heading ("" for the preamble).
    public var slug: String
    public var startLine: Int
    public var endLine: Int
    /// The section's source text, heading line included.
    public var text: String
    public var tier: Tier
    public var tierReason: String
    public var tokens: Int

    public var title: String { headingPath.last ?? "" }
    public var contentHash: ContentHash { ContentHash(text) }
}

/// Something in a memory file that points at something else, with where it is written.
public struct Reference: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// `@path` as Claude Code imports it.
        case `import`
        /// `[text](target)` or `<target>`.
        case link
        /// `[text][label]` resolved through a `[label]: target` definition.
        case referenceLink = "reference-link"
        case image
        /// `[text](#heading)`: an anchor in the same file.
        case anchor
        /// A path written in a code span, such as `netbox_hedgehog/models.py`.
        case pathMention = "path-mention"
    }

    public enum Status: String, Codable, Sendable {
        /// Points at a file or folder inside the root (existence is checked at index time).
        case inRoot = "in-root"
        /// A URL with a scheme (https:, mailto:, ...): never followed.
        case external
        /// `~/...`: the user's home folder, never read.
        case home
        /// Resolves outside the memory root: never read.
        case outsideRoot = "outside-root"
    }

    public var kind: Kind
    /// The target as written.
    public var target: String
    /// The resolved path relative to the root, when `status` is `inRoot`.
    public var resolvedPath: String?
    /// The part after `#`, when there is one.
    public var fragment: String?
    public var status: Status
    /// 1-based line and column (in Unicode scalars) of the reference's first character.
    public var line: Int
    public var column: Int
}

/// `<!-- ctxmem: tier=operational -->`: sets the tier of the heading that follows it, or of the
/// whole file when it comes before any other content.
public struct TierMarker: Sendable, Equatable {
    public var tier: Tier
    public var line: Int
    /// True when it applies to the whole file.
    public var appliesToFile: Bool
}
