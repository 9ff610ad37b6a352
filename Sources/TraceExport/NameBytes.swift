/// Names by id as bytes, each made once (the Perfetto export's UTF-8, the
/// JSON export's escaped text) and written many times: all in one buffer,
/// read in place. (An array per name in an array of them cost a coroutine
/// or a retain and a release per write.)
struct NameBytes {
    private var bytes: [UInt8] = []
    /// Per id: where its bytes are in `bytes` (nil: not made yet).
    private var spans: [Span?] = []

    private struct Span {
        var start: Int
        var end: Int
    }

    /// Passes name `id`'s bytes to `body`, made by `make` (which appends
    /// them) the first time.
    @inline(__always)
    mutating func with(_ id: UInt32, make: (UInt32, inout [UInt8]) -> Void, _ body: (UnsafeRawBufferPointer) throws -> Void)
        rethrows {
        let index = Int(id)
        if index >= spans.count { spans.append(contentsOf: repeatElement(nil, count: index + 1 - spans.count)) }
        let span: Span
        if let made = spans[index] {
            span = made
        } else {
            let start = bytes.count
            make(id, &bytes)
            span = Span(start: start, end: bytes.count)
            spans[index] = span
        }
        // Through `inout`, in place: a read of the array would retain and
        // release it around `body`.
        try bytes.withUnsafeMutableBytes { try body(UnsafeRawBufferPointer(rebasing: $0[span.start..<span.end])) }
    }
}
