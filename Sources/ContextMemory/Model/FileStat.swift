/// A file's identity on disk, to skip reading files that did not change.
public struct FileStat: Sendable, Equatable, Hashable {
    public var size: Int
    /// Modification time in nanoseconds since 1970.
    public var modificationTime: Int64
    public var inode: UInt64

    public init(size: Int, modificationTime: Int64, inode: UInt64) {
        self.size = size
        self.modificationTime = modificationTime
        self.inode = inode
    }

    /// A `stat` time in nanoseconds, saturating: ext4 stores dates past 2262 (`touch -d 2300-01-01`),
    /// which overflow Int64 nanoseconds; such a file keeps the largest time instead of trapping.
    public static func nanoseconds(seconds: Int64, nanoseconds: Int64) -> Int64 {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflowAgain) = scaled.addingReportingOverflow(nanoseconds)
        return overflowAgain ? (seconds < 0 ? .min : .max) : sum
    }
}
