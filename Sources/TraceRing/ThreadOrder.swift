package import TraceFormat

/// Where a consumer hands each batch: its header, its events' bytes (valid
/// during the call), and how many events they are.
package typealias BatchSink = (BatchHeader, UnsafeRawBufferPointer, Int) -> Void

/// Hands on each thread's batches in (chunk sequence, offset) order.
///
/// A drain pass visits chunks one after another while producers keep
/// completing and reusing them, so it can take a thread's chunk n+1 while
/// chunk n completes behind it and is taken a pass later. Chunk sequences
/// of a thread start at 0 and are contiguous, so a batch that arrives early
/// is held (its bytes copied) until the chunks before it are finished. The
/// race that causes this closes within a pass, so a batch held for
/// `maximumPasses` passes goes out anyway: its predecessors were taken by an
/// earlier consumer (the daemon restarted) or will never come. Holding is
/// bounded in bytes too: past `holdLimit` for a thread (a hostile client can
/// invent sequences) what is held goes out in order, and `overflows` counts
/// it.
package struct ThreadOrder {
    private struct Held {
        var header: BatchHeader
        var events: [UInt8]
        var count: Int
        var finishesChunk: Bool
        var pass: Int
    }

    private var next: [UInt32: UInt32] = [:]
    private var held: [UInt32: [Held]] = [:]
    private var heldBytes: [UInt32: Int] = [:]
    private var pass = 0
    package let holdLimit: Int
    package let maximumPasses: Int
    package private(set) var overflows = 0

    package init(holdLimit: Int = 4 << 20, maximumPasses: Int = 2) {
        self.holdLimit = holdLimit
        self.maximumPasses = maximumPasses
    }

    /// Bytes currently held for all threads.
    package var bytesHeld: Int { heldBytes.values.reduce(0, +) }

    /// Records that this thread's next chunk is `sequence` (for a consumer
    /// attaching to a buffer in use).
    package mutating func expect(thread: UInt32, sequence: UInt32) {
        if let known = next[thread], !Self.precedes(known, sequence) { return }
        next[thread] = sequence
    }

    /// Offers one batch; `finishesChunk` when it is the last of its chunk
    /// (the chunk was complete and is now free). Empty batches only finish.
    package mutating func offer(
        _ header: BatchHeader, _ events: UnsafeRawBufferPointer, count: Int, finishesChunk: Bool, sink: BatchSink
    ) {
        let thread = header.thread
        let expected = next[thread] ?? 0
        if Self.precedes(expected, header.chunkSequence) {
            held[thread, default: []].append(
                Held(header: header, events: Array(events), count: count, finishesChunk: finishesChunk, pass: pass))
            heldBytes[thread, default: 0] += events.count
            if heldBytes[thread, default: 0] > holdLimit {
                overflows += 1
                release(thread, all: true, sink: sink)
            }
            return
        }
        if !events.isEmpty { sink(header, events, count) }
        if finishesChunk && !Self.precedes(header.chunkSequence, expected) { next[thread] = header.chunkSequence &+ 1 }
        release(thread, all: false, sink: sink)
    }

    /// Ends a drain pass: releases what has waited `maximumPasses` passes.
    package mutating func endPass(sink: BatchSink) {
        pass += 1
        for (thread, waiting) in held where waiting.contains(where: { pass - $0.pass >= maximumPasses }) {
            release(thread, all: true, sink: sink)
        }
    }

    /// Hands on everything held, in sequence order (at the end of a trace).
    package mutating func flush(sink: BatchSink) {
        for thread in held.keys.sorted() { release(thread, all: true, sink: sink) }
    }

    /// Emits held batches that are now next in line (or all of them).
    private mutating func release(_ thread: UInt32, all: Bool, sink: BatchSink) {
        guard var waiting = held[thread], !waiting.isEmpty else { return }
        waiting.sort { ($0.header.chunkSequence, $0.header.segmentOffset) < ($1.header.chunkSequence, $1.header.segmentOffset) }
        while let first = waiting.first {
            let expected = next[thread] ?? first.header.chunkSequence
            guard all || !Self.precedes(expected, first.header.chunkSequence) else { break }
            waiting.removeFirst()
            heldBytes[thread, default: 0] -= first.events.count
            if !first.events.isEmpty { first.events.withUnsafeBytes { sink(first.header, $0, first.count) } }
            if first.finishesChunk || all { next[thread] = first.header.chunkSequence &+ (first.finishesChunk ? 1 : 0) }
        }
        held[thread] = waiting.isEmpty ? nil : waiting
    }

    /// Whether sequence `a` comes before `b` (modulo 2^32).
    private static func precedes(_ a: UInt32, _ b: UInt32) -> Bool {
        Int32(bitPattern: b &- a) > 0
    }
}
