/// A 64-bit FNV-1a digest of bytes, written as 16 hex digits.
///
/// Used to tell whether a file or a section changed between index runs and to find identical
/// sections; it is not a cryptographic hash and needs not be one: a collision would at worst keep a
/// stale copy of one file until its size or modification time changes.
public struct ContentHash: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64

    public init(value: UInt64) { self.value = value }

    public init(_ bytes: some Sequence<UInt8>) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        value = hash
    }

    public init(_ string: String) {
        var copy = string
        self = copy.withUTF8 { ContentHash(UnsafeRawBufferPointer($0)) }
    }

    public init?(hex: String) {
        guard let parsed = UInt64(hex, radix: 16) else { return nil }
        value = parsed
    }

    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    public var description: String { hex }
}
