import CTraceABI

/// A sample's `PERF_SAMPLE_CALLCHAIN`, read in place: `u64 nr`, then `nr`
/// u64 entries, innermost first, each context's return addresses behind a
/// marker naming the context:
///
///     nr  KERNEL  k0 k1 ... kn  USER  u0 u1 ... um
///
/// (either part may be missing: a kernel thread has no user part, a
/// sample with `exclude_callchain_kernel` no kernel part). Markers of
/// other contexts (a hypervisor's, a guest's) end the part before them,
/// and their frames are not read. A record's `nr` is not trusted: one that
/// claims more entries than the record holds is refused.
struct Callchain {
    /// Where `nr` is, and where the record goes on after the entries.
    let start: Int
    let end: Int
    /// All entries, markers included (`nr`).
    let count: Int
    /// The entry indices of the kernel and the user frames.
    private(set) var kernel: Range<Int> = 0..<0
    private(set) var user: Range<Int> = 0..<0

    /// The most entries the kernel writes: `sample_max_stack`, which it
    /// refuses above `kernel.perf_event_max_stack` (127 by default). Frames
    /// stop there, markers past it still fit; a chain this long or
    /// longer was probably cut short.
    static let limit = 127

    /// The callchain at `offset` of `record`, or nil if its entries do not
    /// fit in the record.
    init?(_ record: UnsafeRawBufferPointer, at offset: Int) {
        guard offset >= 0, record.count - offset >= 8 else { return nil }
        let entries = record.u64(offset)
        // Compared as UInt64 first: a hostile nr does not fit an Int.
        guard entries <= UInt64((record.count - offset - 8) / 8) else { return nil }
        start = offset
        count = Int(entries)
        end = offset + 8 + 8 * count
        var context: UInt64 = 0, from = 0
        for index in 0...count {
            let entry = index < count ? record.u64(start + 8 + 8 * index) : TC_PERF_CONTEXT_MAX
            guard entry >= TC_PERF_CONTEXT_MAX else { continue }
            // A marker (or the end) closes the part the last one opened;
            // only the first kernel and user parts are kept.
            if context == TC_PERF_CONTEXT_KERNEL && kernel.isEmpty { kernel = from..<index }
            if context == TC_PERF_CONTEXT_USER && user.isEmpty { user = from..<index }
            context = entry
            from = index + 1
        }
    }

    /// Entry `index` of `record` (an index of `kernel` or `user`).
    func entry(_ index: Int, in record: UnsafeRawBufferPointer) -> UInt64 {
        record.u64(start + 8 + 8 * index)
    }

    /// The user frames, innermost first.
    func userFrames(in record: UnsafeRawBufferPointer) -> [UInt64] {
        guard !user.isEmpty else { return [] }
        // One allocation of the exact size, filled in place.
        return Array(unsafeUninitializedCapacity: user.count) { frames, initialized in
            for (slot, index) in user.enumerated() { frames.initializeElement(at: slot, to: entry(index, in: record)) }
            initialized = user.count
        }
    }

    /// Whether the kernel may have stopped before the outermost frame.
    var isCut: Bool { count >= Self.limit }
}
