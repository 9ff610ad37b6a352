/// Names by id as bytes, each made once (the Perfetto export's UTF-8, the
/// JSON export's escaped text) and written many times: all in one buffer,
/// read in place. (An array per name in an array of them cost a coroutine
/// or a retain and a release per write.)
struct NameBytes {
    private var bytes: [UInt8] = []
    /// Per id: where its bytes start, and how many (`start << 32 | count`);
    /// `unmade` until made.
    private var spans: [UInt64] = []
    private static let unmade = UInt64.max

    /// Passes name `id`'s bytes to `body`, made by `make` (which appends
    /// them) the first time.
    @inline(__always)
    mutating func with(_ id: UInt32, make: (UInt32, inout [UInt8]) -> Void, _ body: (UnsafeRawBufferPointer) throws -> Void)
        rethrows {
        let index = Int(id)
        if index >= spans.count { spans.append(contentsOf: repeatElement(Self.unmade, count: index + 1 - spans.count)) }
        if spans[index] == Self.unmade {
            let start = bytes.count
            make(id, &bytes)
            spans[index] = UInt64(start) << 32 | UInt64(bytes.count - start)
        }
        let span = spans[index]
        let start = Int(span >> 32), count = Int(span & 0xFFFF_FFFF)
        // Through `inout`, in place: a read of the array would retain and
        // release it around `body`.
        try bytes.withUnsafeMutableBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<start + count])) }
    }
}
