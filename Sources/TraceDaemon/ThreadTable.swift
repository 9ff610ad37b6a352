/// Thread id → a small value, for the kernel events' hot path (a lookup or
/// two per record, hundreds of thousands a second): open addressing with
/// linear probing and a multiplicative hash, no `Hasher` (SipHash cost a
/// quarter of traced's CPU at 500,000 records a second). A value is
/// removed by marking it; the table is rebuilt when marks and entries fill
/// half of it.
struct ThreadTable {
    private var keys: [Int32]
    private var values: [Int32]
    /// Slots holding a key, live or removed.
    private var used = 0
    private(set) var count = 0
    private static let empty = Int32.min
    private static let removed = Int32.min + 1

    init(capacity: Int = 64) {
        let size = max(16, (capacity * 2).nextPowerOfTwo)
        keys = Array(repeating: Self.empty, count: size)
        values = Array(repeating: 0, count: size)
    }

    private func home(_ key: Int32) -> Int {
        // Fibonacci hashing: the top bits of key × 2^32/φ.
        Int(truncatingIfNeeded: (UInt32(bitPattern: key) &* 2_654_435_769) >> 8) & (keys.count - 1)
    }

    subscript(_ key: Int32) -> Int32? {
        get {
            var slot = home(key)
            while true {
                let found = keys[slot]
                if found == key { return values[slot] }
                if found == Self.empty { return nil }
                slot = (slot + 1) & (keys.count - 1)
            }
        }
        set {
            var slot = home(key)
            var reusable: Int?
            while true {
                let found = keys[slot]
                if found == key {
                    if let newValue { values[slot] = newValue } else { keys[slot] = Self.removed; count -= 1 }
                    return
                }
                if found == Self.removed, reusable == nil { reusable = slot }
                if found == Self.empty { break }
                slot = (slot + 1) & (keys.count - 1)
            }
            guard let newValue else { return }
            if let reusable {
                keys[reusable] = key
                values[reusable] = newValue
            } else {
                keys[slot] = key
                values[slot] = newValue
                used += 1
            }
            count += 1
            if used * 2 > keys.count { rebuild() }
        }
    }

    /// Every live entry.
    var entries: [(key: Int32, value: Int32)] {
        keys.indices.compactMap { keys[$0] == Self.empty || keys[$0] == Self.removed ? nil : (keys[$0], values[$0]) }
    }

    private mutating func rebuild() {
        let live = entries
        self = ThreadTable(capacity: max(live.count * 2, 64))
        for (key, value) in live { self[key] = value }
    }

    mutating func removeAll(where remove: (Int32, Int32) -> Bool) {
        let live = entries.filter { !remove($0.key, $0.value) }
        self = ThreadTable(capacity: max(live.count * 2, 64))
        for (key, value) in live { self[key] = value }
    }
}

extension Int {
    fileprivate var nextPowerOfTwo: Int { self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount) }
}
