import Synchronization

/// The merge rules of a BPE model: pair of token ids -> (rank, merged id), in an open-addressing table
/// (a Swift Dictionary hashes with SipHash, several times slower on this hot path).
struct MergeTable: Sendable {
    static let absent = UInt64.max

    private let keys: [UInt64]
    private let values: [UInt64]
    private let mask: Int

    /// `merges` in rank order; a pair listed twice keeps its last rank, as HF's HashMap does.
    init(_ merges: [(left: UInt32, right: UInt32, merged: UInt32)]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity <<= 1 }
        var keys = [UInt64](repeating: Self.absent, count: capacity)
        var values = [UInt64](repeating: Self.absent, count: capacity)
        for (rank, merge) in merges.enumerated() {
            let key = UInt64(merge.left) << 32 | UInt64(merge.right)
            var slot = Self.slot(key, mask: capacity - 1)
            while keys[slot] != Self.absent && keys[slot] != key { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = key
            values[slot] = UInt64(rank) << 32 | UInt64(merge.merged)
        }
        self.keys = keys
        self.values = values
        self.mask = capacity - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// `rank << 32 | merged id`, or `absent`: ordering these values orders by rank.
    @inline(__always)
    func lookup(_ left: UInt32, _ right: UInt32) -> UInt64 {
        let key = UInt64(left) << 32 | UInt64(right)
        var slot = Self.slot(key, mask: mask)
        while true {
            let found = keys[slot]
            if found == key { return values[slot] }
            if found == Self.absent { return Self.absent }
            slot = (slot + 1) & mask
        }
    }
}

/// Reusable buffers of one `count` call, so merging a piece allocates nothing.
struct MergeScratch {
    var ids: [UInt32] = []
    var pairs: [UInt64] = []
    var next: [Int32] = []
    var previous: [Int32] = []
    var heap: [UInt64] = []
}

extension MergeTable {
    /// The number of tokens BPE leaves of `symbols`: repeatedly merge the adjacent pair of lowest rank,
    /// the leftmost first (what HF's `Word::merge_all` computes with its priority queue).
    func mergedCount(of symbols: inout MergeScratch) -> Int {
        symbols.ids.count <= 48 ? mergedCountByScanning(&symbols) : mergedCountWithHeap(&symbols)
    }

    /// Short pieces: a scan for the lowest pair, with the pair values kept up to date after each merge.
    private func mergedCountByScanning(_ scratch: inout MergeScratch) -> Int {
        var count = scratch.ids.count
        guard count > 1 else { return count }
        scratch.pairs.removeAll(keepingCapacity: true)
        for index in 0..<(count - 1) { scratch.pairs.append(lookup(scratch.ids[index], scratch.ids[index + 1])) }
        while true {
            var best = Self.absent
            var position = -1
            for index in 0..<(count - 1) where scratch.pairs[index] < best {
                best = scratch.pairs[index]
                position = index
            }
            guard position >= 0 else { return count }
            scratch.ids[position] = UInt32(truncatingIfNeeded: best)
            scratch.ids.remove(at: position + 1)
            scratch.pairs.remove(at: position)
            count -= 1
            if position > 0 { scratch.pairs[position - 1] = lookup(scratch.ids[position - 1], scratch.ids[position]) }
            if position < count - 1 {
                scratch.pairs[position] = lookup(scratch.ids[position], scratch.ids[position + 1])
            }
        }
    }

    /// Long pieces (a 20,000-character run): a doubly linked list of symbols and a binary min-heap of
    /// `rank << 32 | position`, so each merge costs O(log n). Stale entries are skipped when popped.
    private func mergedCountWithHeap(_ scratch: inout MergeScratch) -> Int {
        let length = scratch.ids.count
        scratch.next.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        for index in 0..<length {
            scratch.next.append(index + 1 < length ? Int32(index + 1) : -1)
            scratch.previous.append(Int32(index - 1))
        }
        for index in 0..<(length - 1) {
            let pair = lookup(scratch.ids[index], scratch.ids[index + 1])
            if pair != Self.absent { scratch.heap.append((pair & 0xFFFF_FFFF_0000_0000) | UInt64(index)) }
        }
        Self.heapify(&scratch.heap)
        var count = length
        while let top = Self.popMinimum(&scratch.heap) {
            let position = Int(top & 0xFFFF_FFFF)
            let following = scratch.next[position]
            // Removed symbols have previous == -2; the last symbol has no pair.
            guard scratch.previous[position] != -2, following >= 0 else { continue }
            let pair = lookup(scratch.ids[position], scratch.ids[Int(following)])
            guard pair != Self.absent, pair >> 32 == top >> 32 else { continue }
            scratch.ids[position] = UInt32(truncatingIfNeeded: pair)
            let afterFollowing = scratch.next[Int(following)]
            scratch.next[position] = afterFollowing
            scratch.previous[Int(following)] = -2
            if afterFollowing >= 0 { scratch.previous[Int(afterFollowing)] = Int32(position) }
            count -= 1
            let before = scratch.previous[position]
            if before >= 0 {
                let left = lookup(scratch.ids[Int(before)], scratch.ids[position])
                if left != Self.absent { Self.push((left & 0xFFFF_FFFF_0000_0000) | UInt64(before), &scratch.heap) }
            }
            if afterFollowing >= 0 {
                let right = lookup(scratch.ids[position], scratch.ids[Int(afterFollowing)])
                if right != Self.absent { Self.push((right & 0xFFFF_FFFF_0000_0000) | UInt64(position), &scratch.heap) }
            }
        }
        return count
    }

    private static func heapify(_ heap: inout [UInt64]) {
        guard heap.count > 1 else { return }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(&heap, from: index) }
    }

    private static func push(_ value: UInt64, _ heap: inout [UInt64]) {
        heap.append(value)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent] > heap[child] else { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func popMinimum(_ heap: inout [UInt64]) -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let minimum = heap[0]
        heap[0] = last
        siftDown(&heap, from: 0)
        return minimum
    }

    private static func siftDown(_ heap: inout [UInt64], from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1] < heap[left] { smallest = left + 1 }
            guard heap[smallest] < heap[parent] else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// A bounded, thread-safe cache of piece bytes -> token count: direct-mapped slots in 16 shards, each
/// behind its own `Mutex` so that parallel counts rarely wait. A collision simply replaces the slot.
final class PieceCountCache: Sendable {
    static let maximumKeyLength = 24
    private static let shardCount = 16
    private static let slotsPerShard = 4096  // 16 x 4096 slots x ~32 bytes = 2 MB

    private struct Slots {
        var keys = [UInt8](repeating: 0, count: PieceCountCache.slotsPerShard * PieceCountCache.maximumKeyLength)
        var tags = [UInt64](repeating: 0, count: PieceCountCache.slotsPerShard)  // hash | 1, 0 = empty
        var lengths = [UInt8](repeating: 0, count: PieceCountCache.slotsPerShard)
        var counts = [UInt32](repeating: 0, count: PieceCountCache.slotsPerShard)
    }

    /// A `Mutex` in a class, so that several can live in an array (a `Mutex` is not copyable).
    private final class Shard: Sendable {
        let mutex = Mutex(Slots())
    }

    private let shards: [Shard]

    init() {
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash | 1
    }

    func count(for bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        let slot = Int(truncatingIfNeeded: hash >> 8) & (Self.slotsPerShard - 1)
        return shards[Int(hash >> 60) & (Self.shardCount - 1)].mutex.withLock { slots -> Int? in
            guard slots.tags[slot] == hash, Int(slots.lengths[slot]) == bytes.count else { return nil }
            let base = slot * Self.maximumKeyLength
            for index in 0..<bytes.count where slots.keys[base + index] != bytes[index] { return nil }
            return Int(slots.counts[slot])
        }
    }

    func store(_ count: Int, for bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) {
        let slot = Int(truncatingIfNeeded: hash >> 8) & (Self.slotsPerShard - 1)
        shards[Int(hash >> 60) & (Self.shardCount - 1)].mutex.withLock { slots in
            let base = slot * Self.maximumKeyLength
            for index in 0..<bytes.count { slots.keys[base + index] = bytes[index] }
            slots.tags[slot] = hash
            slots.lengths[slot] = UInt8(bytes.count)
            slots.counts[slot] = UInt32(clamping: count)
        }
    }
}
