/// xxHash32 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md),
/// the checksum of the LZ4 frame format: the header checksum, each block's
/// checksum and the content checksum are xxHash32 with seed 0.
///
/// Ours rather than liblz4's because liblz4 does not export it and Debian's
/// build of the one inside its frame API runs at ~2 GB/s here against
/// ~11 GB/s for this plain scalar loop (docs/performance.md, "Where traced's
/// time goes"): the content checksum was a quarter of the daemon's CPU.
package enum XXHash32 {
    private static let prime1: UInt32 = 2_654_435_761
    private static let prime2: UInt32 = 2_246_822_519
    private static let prime3: UInt32 = 3_266_489_917
    private static let prime4: UInt32 = 668_265_263
    private static let prime5: UInt32 = 374_761_393

    @inline(__always)
    private static func rotate(_ x: UInt32, _ r: UInt32) -> UInt32 { (x << r) | (x >> (32 &- r)) }

    @inline(__always)
    private static func round(_ accumulator: UInt32, _ input: UInt32) -> UInt32 {
        rotate(accumulator &+ input &* prime2, 13) &* prime1
    }

    /// The xxHash32 of `bytes` with `seed`.
    package static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return finish(seed &+ prime5, length: 0, tail: bytes) }
        var offset = 0
        var h: UInt32
        if count >= 16 {
            var v1 = seed &+ prime1 &+ prime2, v2 = seed &+ prime2, v3 = seed, v4 = seed &- prime1
            while offset + 16 <= count {
                v1 = round(v1, UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                v2 = round(v2, UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
                v3 = round(v3, UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)))
                v4 = round(v4, UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                offset += 16
            }
            h = rotate(v1, 1) &+ rotate(v2, 7) &+ rotate(v3, 12) &+ rotate(v4, 18)
        } else {
            h = seed &+ prime5
        }
        return finish(h, length: count, tail: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    /// Adds the total length and the last (< 16) bytes, then avalanches.
    private static func finish(_ state: UInt32, length: Int, tail: UnsafeRawBufferPointer) -> UInt32 {
        var h = state &+ UInt32(truncatingIfNeeded: length)
        var offset = 0
        while offset + 4 <= tail.count {
            h = rotate(h &+ UInt32(littleEndian: tail.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) &* prime3, 17) &* prime4
            offset += 4
        }
        while offset < tail.count {
            h = rotate(h &+ UInt32(tail[offset]) &* prime5, 11) &* prime1
            offset += 1
        }
        h ^= h >> 15
        h = h &* prime2
        h ^= h >> 13
        h = h &* prime3
        h ^= h >> 16
        return h
    }
}
