import Foundation

/// Regexes compiled once, not at every call (a regex literal is parsed each time it is evaluated).
enum MarkupPatterns {
    // Regex is not Sendable; these are immutable after initialisation and only read.
    nonisolated(unsafe) static let tierMarker = #/<!--\s*ctxmem:\s*tier\s*=\s*([A-Za-z]+)\s*-->/#
    nonisolated(unsafe) static let anchorAttribute = #/\b(?:id|name)\s*=\s*["']([^"']+)["']/#
}
