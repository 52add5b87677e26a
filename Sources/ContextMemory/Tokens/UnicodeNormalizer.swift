/// A Unicode normalisation form, as the `normalizer` of a tokenizer.json names it.
enum NormalizationForm: String, Sendable {
    case nfc = "NFC"
    case nfd = "NFD"
    case nfkc = "NFKC"
    case nfkd = "NFKD"

    var isCompatibility: Bool { self == .nfkc || self == .nfkd }
    var composes: Bool { self == .nfc || self == .nfkc }
}

/// Unicode normalisation of UTF-8 exactly as HF `tokenizers` does it (Unicode 9.0 tables, see
/// `UnicodeNormalizationData`).
///
/// Not Foundation's: on Linux its composition drops a supplementary-plane scalar followed by combining
/// marks (`"A\u{10041}\u{301}"` becomes `"AÁ"`) and leaves some compatibility decompositions
/// unordered (`"\u{1C4}\u{323}"`), and its newer Unicode tables decompose scalars the reference keeps.
///
/// ASCII text is copied as it is; a run of other scalars (with the ASCII scalar before it, which may
/// be the base of a combining mark) is decomposed, reordered and recomposed only when one of its
/// scalars decomposes, combines or can be the second half of a composition.
struct UnicodeNormalizer: Sendable {
    let form: NormalizationForm

    /// Appends the normal form of `input` (valid UTF-8) to `output`.
    func normalize(_ input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8], scratch: inout [UInt32]) {
        let tables = NormalizationTables.shared
        let count = input.count
        var copied = 0
        var index = 0
        while index < count {
            if input[index] < 0x80 {
                index += 1
                continue
            }
            let runStart = index > copied ? index - 1 : index
            var runEnd = index
            var needsWork = false
            while runEnd < count, input[runEnd] >= 0x80 {
                let (value, length) = decodeScalar(input, at: runEnd)
                if !needsWork,
                    tables.info(value) != 0 || (!form.composes && NormalizationTables.isHangulSyllable(value))
                {
                    needsWork = true
                }
                runEnd += length
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<(needsWork ? runStart : runEnd)]))
            if needsWork {
                normalizeRun(
                    UnsafeBufferPointer(rebasing: input[runStart..<runEnd]), tables: tables, into: &output,
                    scratch: &scratch)
            }
            copied = runEnd
            index = runEnd
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: input[copied..<count]))
    }

    private func normalizeRun(
        _ run: UnsafeBufferPointer<UInt8>, tables: NormalizationTables,
        into output: inout [UInt8], scratch: inout [UInt32]
    ) {
        scratch.removeAll(keepingCapacity: true)
        var index = 0
        while index < run.count {
            let (value, length) = decodeScalar(run, at: index)
            index += length
            tables.appendDecomposition(
                of: value, compatibility: form.isCompatibility,
                hangul: !form.composes, to: &scratch)
        }
        tables.reorder(&scratch)
        if form.composes { tables.compose(&scratch) }
        for value in scratch { appendUTF8(value, to: &output) }
    }
}

@inline(__always)
func appendUTF8(_ value: UInt32, to output: inout [UInt8]) {
    switch value {
    case ..<0x80:
        output.append(UInt8(value))
    case ..<0x800:
        output.append(UInt8(0xC0 | value >> 6))
        output.append(UInt8(0x80 | value & 0x3F))
    case ..<0x1_0000:
        output.append(UInt8(0xE0 | value >> 12))
        output.append(UInt8(0x80 | (value >> 6) & 0x3F))
        output.append(UInt8(0x80 | value & 0x3F))
    default:
        output.append(UInt8(0xF0 | value >> 18))
        output.append(UInt8(0x80 | (value >> 12) & 0x3F))
        output.append(UInt8(0x80 | (value >> 6) & 0x3F))
        output.append(UInt8(0x80 | value & 0x3F))
    }
}

/// The normalisation data in a two-stage lookup table: one 32-bit word a scalar holding its combining
/// class (bits 0-7), whether it can be the second scalar of a composition (bit 8) and the index + 1 of
/// its decompositions (bits 16-31, 0 when it has none).
final class NormalizationTables: Sendable {
    static let shared = NormalizationTables()

    private let blockIndex: [UInt16]  // scalar >> 8 -> block
    private let blocks: [UInt32]  // 256 words a block; block 0 is all zeros
    private let pool: [UInt32]  // decomposed scalars
    private let compatibility: [UInt32]  // per decomposition: start << 8 | length in `pool`
    private let canonical: [UInt32]  // the same; length 0 when only a compatibility decomposition exists
    private let compositions: [UInt64: UInt32]

    private static let hangulBase: UInt32 = 0xAC00, hangulCount: UInt32 = 11_172
    private static let leadBase: UInt32 = 0x1100, vowelBase: UInt32 = 0x1161, trailBase: UInt32 = 0x11A7
    private static let vowelCount: UInt32 = 21, trailCount: UInt32 = 28

    static func isHangulSyllable(_ value: UInt32) -> Bool { value &- hangulBase < hangulCount }

    private init() {
        var info: [UInt32: UInt32] = [:]
        var pool: [UInt32] = []
        var compatibility: [UInt32] = []
        var canonical: [UInt32] = []
        var decompositionIndex: [UInt32: Int] = [:]

        for (scalar, values) in Self.entries(UnicodeNormalizationData.compatibility) {
            decompositionIndex[scalar] = compatibility.count
            compatibility.append(UInt32(pool.count) << 8 | UInt32(values.count))
            canonical.append(0)
            pool.append(contentsOf: values)
        }
        for (scalar, values) in Self.entries(UnicodeNormalizationData.canonical) {
            // Every canonical decomposition is also a compatibility one, so the index exists.
            guard let index = decompositionIndex[scalar] else { continue }
            canonical[index] = UInt32(pool.count) << 8 | UInt32(values.count)
            pool.append(contentsOf: values)
        }
        for (scalar, index) in decompositionIndex { info[scalar, default: 0] |= UInt32(index + 1) << 16 }
        for (scalar, values) in Self.entries(UnicodeNormalizationData.combiningClasses, decimalValues: true) {
            info[scalar, default: 0] |= values[0] & 0xFF
        }
        var compositions: [UInt64: UInt32] = [:]
        for (composite, pair) in Self.entries(UnicodeNormalizationData.compositions, keyLast: true) {
            compositions[UInt64(pair[0]) << 32 | UInt64(pair[1])] = composite
            info[pair[1], default: 0] |= 1 << 8
        }
        for jamo in Self.vowelBase..<(Self.vowelBase + Self.vowelCount) { info[jamo, default: 0] |= 1 << 8 }
        for jamo in (Self.trailBase + 1)..<(Self.trailBase + Self.trailCount) { info[jamo, default: 0] |= 1 << 8 }

        var blockIndex = [UInt16](repeating: 0, count: 0x1100)
        var blocks = [UInt32](repeating: 0, count: 256)
        for block in Set(info.keys.map { $0 >> 8 }).sorted() {
            blockIndex[Int(block)] = UInt16(blocks.count / 256)
            let base = blocks.count
            blocks.append(contentsOf: repeatElement(0, count: 256))
            for low in 0..<256 {
                blocks[base + low] = info[block << 8 | UInt32(low)] ?? 0
            }
        }
        self.blockIndex = blockIndex
        self.blocks = blocks
        self.pool = pool
        self.compatibility = compatibility
        self.canonical = canonical
        self.compositions = compositions
    }

    /// Parses "scalar:v1 v2;..." (hexadecimal; the values decimal when asked); with `keyLast`,
    /// "v1 v2:scalar".
    private static func entries(_ text: String, decimalValues: Bool = false, keyLast: Bool = false) -> [(
        UInt32, [UInt32]
    )] {
        text.split(whereSeparator: { $0 == ";" || $0 == "\n" }).compactMap { entry in
            let sides = entry.split(separator: ":")
            guard sides.count == 2 else { return nil }
            let keySide = keyLast ? sides[1] : sides[0]
            let valueSide = keyLast ? sides[0] : sides[1]
            guard let key = UInt32(keySide.drop(while: { $0 == " " }), radix: 16) else { return nil }
            let values = valueSide.split(separator: " ").compactMap { UInt32($0, radix: decimalValues ? 10 : 16) }
            return (key, values)
        }
    }

    @inline(__always)
    func info(_ value: UInt32) -> UInt32 {
        guard value < 0x11_0000 else { return 0 }
        return blocks[Int(blockIndex[Int(value >> 8)]) * 256 + Int(value & 0xFF)]
    }

    @inline(__always)
    func combiningClass(_ value: UInt32) -> UInt32 { info(value) & 0xFF }

    func appendDecomposition(
        of value: UInt32, compatibility useCompatibility: Bool, hangul: Bool, to scalars: inout [UInt32]
    ) {
        if hangul, Self.isHangulSyllable(value) {
            let index = value - Self.hangulBase
            scalars.append(Self.leadBase + index / (Self.vowelCount * Self.trailCount))
            scalars.append(Self.vowelBase + (index % (Self.vowelCount * Self.trailCount)) / Self.trailCount)
            if index % Self.trailCount != 0 { scalars.append(Self.trailBase + index % Self.trailCount) }
            return
        }
        let decomposition = info(value) >> 16
        guard decomposition != 0 else {
            scalars.append(value)
            return
        }
        let packed = (useCompatibility ? compatibility : canonical)[Int(decomposition - 1)]
        let length = Int(packed & 0xFF)
        guard length > 0 else {
            scalars.append(value)
            return
        }
        let start = Int(packed >> 8)
        scalars.append(contentsOf: pool[start..<(start + length)])
    }

    /// Canonical ordering: a stable sort of each run of non-starters by combining class.
    func reorder(_ scalars: inout [UInt32]) {
        guard scalars.count > 1 else { return }
        for index in 1..<scalars.count {
            let current = scalars[index]
            let currentClass = combiningClass(current)
            guard currentClass != 0 else { continue }
            var position = index
            while position > 0 {
                let previousClass = combiningClass(scalars[position - 1])
                guard previousClass > currentClass else { break }
                scalars[position] = scalars[position - 1]
                position -= 1
            }
            scalars[position] = current
        }
    }

    /// Canonical composition (UAX #15): each scalar combines with the last starter unless blocked by
    /// a scalar between them of class 0 or of a class not lower than its own.
    func compose(_ scalars: inout [UInt32]) {
        var starter = -1
        var lastClass: UInt32 = 0
        var written = 0
        for read in 0..<scalars.count {
            let value = scalars[read]
            let valueClass = combiningClass(value)
            if starter >= 0 {
                let adjacent = written - 1 == starter
                if adjacent || (lastClass != 0 && lastClass < valueClass),
                    let composite = composite(scalars[starter], value)
                {
                    scalars[starter] = composite
                    continue
                }
            }
            if valueClass == 0 { starter = written }
            lastClass = valueClass
            scalars[written] = value
            written += 1
        }
        scalars.removeLast(scalars.count - written)
    }

    private func composite(_ first: UInt32, _ second: UInt32) -> UInt32? {
        if first &- Self.leadBase < 19, second &- Self.vowelBase < Self.vowelCount {
            return Self.hangulBase + ((first - Self.leadBase) * Self.vowelCount + second - Self.vowelBase)
                * Self.trailCount
        }
        if Self.isHangulSyllable(first), (first - Self.hangulBase) % Self.trailCount == 0,
            second > Self.trailBase, second < Self.trailBase + Self.trailCount
        {
            return first + second - Self.trailBase
        }
        guard info(second) & 0x100 != 0 else { return nil }
        return compositions[UInt64(first) << 32 | UInt64(second)]
    }
}
