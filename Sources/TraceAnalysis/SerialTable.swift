/// A map from 64-bit keys (region serials, task ids, Swift task ids) to
/// 32-bit handles: open addressing with linear probing and Fibonacci
/// hashing, deletion by shifting back (no tombstones). Swift's `Dictionary`
/// hashes with SipHash, a sixth of an export's time when it was used there.
/// Keys from a hostile file can collide on purpose; that costs probing time
/// over what is open, never memory or a trap. Grows at half full; holds
/// what is open, not the trace.
package struct SerialTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private var used: [Bool]
    private var shift: UInt64
    package private(set) var count = 0

    package init() {
        keys = Array(repeating: 0, count: 64)
        values = Array(repeating: 0, count: 64)
        used = Array(repeating: false, count: 64)
        shift = 64 - 6
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    package subscript(key: UInt64) -> Int32? {
        var index = slot(key)
        let mask = keys.count - 1
        while used[index] {
            if keys[index] == key { return values[index] }
            index = (index + 1) & mask
        }
        return nil
    }

    package mutating func insert(_ key: UInt64, _ value: Int32) {
        if (count + 1) * 2 > keys.count { grow() }
        var index = slot(key)
        let mask = keys.count - 1
        while used[index] {
            if keys[index] == key {
                values[index] = value
                return
            }
            index = (index + 1) & mask
        }
        used[index] = true
        keys[index] = key
        values[index] = value
        count += 1
    }

    package mutating func removeValue(forKey key: UInt64) -> Int32? {
        let mask = keys.count - 1
        var index = slot(key)
        while used[index] {
            if keys[index] == key { break }
            index = (index + 1) & mask
        }
        guard used[index] else { return nil }
        let value = values[index]
        // Shift back the entries after it that probed past it.
        var hole = index
        var next = (hole + 1) & mask
        while used[next] {
            let home = slot(keys[next])
            let distanceFromHome = (next - home) & mask
            let distanceFromHole = (next - hole) & mask
            if distanceFromHome >= distanceFromHole {
                keys[hole] = keys[next]
                values[hole] = values[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        used[hole] = false
        count -= 1
        return value
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldUsed = used
        let capacity = keys.count * 2
        keys = Array(repeating: 0, count: capacity)
        values = Array(repeating: 0, count: capacity)
        used = Array(repeating: false, count: capacity)
        shift -= 1
        count = 0
        for index in oldKeys.indices where oldUsed[index] { insert(oldKeys[index], oldValues[index]) }
    }
}
