import Foundation

extension StringProtocol {
    /// Byte-wise substring test; Foundation's `contains(_:)` goes through NSString and was the
    /// parser's top cost.
    func utf8Contains(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        func search(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count >= pattern.count else { return false }
            for start in 0...(bytes.count - pattern.count)
            where bytes[start] == pattern[0] && bytes[start..<(start + pattern.count)].elementsEqual(pattern) {
                return true
            }
            return false
        }
        // Native strings are contiguous: search in place instead of copying the haystack.
        return utf8.withContiguousStorageIfAvailable(search) ?? Array(utf8).withUnsafeBufferPointer(search)
    }

    /// Without spaces and tabs at either end (Foundation's trimming goes through NSString).
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(self[start..<scalars.index(after: end)])
    }
}
