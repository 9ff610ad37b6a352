import CTraceABI

// The slow path of EventWriter: everything an event may need that the hot
// path must not do (register the thread, take a new chunk, intern a new
// string, deduplicate a new stack). Runs with the thread's `busy` flag set.
extension EventWriter {
    /// Called when the thread has no chunk or too little room in it.
    @inline(never)
    static func reserveSlow(_ t: ThreadState, _ bytes: Int, _ stamped: UInt64) -> UnsafeMutablePointer<UInt8>? {
        let runtime = ClientRuntime.shared
        var now = stamped
        switch Int(t.pointee.status) {
        case TC_THREAD_EXITING:
            countDropWithoutLocking(t, reason: UInt32(TC_DROP_THREAD_EXITING))
            return nil
        case TC_THREAD_NEW:
            let clock = tc_clock_kind_load()
            guard runtime.register(t) else { return nil }
            // Registering the process's first thread creates the buffer and
            // picks the clock: the caller's stamp may be of the old clock.
            // (The caller's event then gets this chunk's base time.)
            if tc_clock_kind_load() != clock { now = tc_now() }
        default:
            break
        }
        guard let buffer = runtime.buffer else { return nil }
        let generation = buffer.freeGeneration
        if let chunk = t.pointee.chunk {
            buffer.complete(chunk, events: t.pointee.chunk_events)
            t.pointee.chunk = nil
            t.pointee.cursor = nil
            t.pointee.limit = nil
            t.pointee.payload = nil
        } else if t.pointee.dropped_pending > 0 && generation == t.pointee.seen_free_generation {
            // Still dropping, and the consumer freed nothing since we last
            // looked: one load, no scan.
            drop(t, buffer)
            return nil
        }
        guard let chunk = buffer.acquireChunk() else {
            t.pointee.seen_free_generation = generation
            drop(t, buffer)
            return nil
        }
        // Header fields are published by the first release-store of
        // `committed` (trace_abi.h); nothing reads them before.
        chunk.pointee.thread_index = t.pointee.thread_index
        chunk.pointee.sequence = t.pointee.chunk_sequence
        chunk.pointee.base_ticks = now
        chunk.pointee.region_seq_base = t.pointee.region_seq
        chunk.pointee.dropped_before = t.pointee.dropped_pending
        t.pointee.chunk_sequence &+= 1
        t.pointee.dropped_pending = 0
        t.pointee.chunk_events = 0
        let payload = UnsafeMutableRawPointer(chunk) + Int(TC_CHUNK_HEADER_SIZE)
        t.pointee.chunk = chunk
        t.pointee.payload = payload.assumingMemoryBound(to: UInt8.self)
        t.pointee.cursor = t.pointee.payload
        t.pointee.limit = (UnsafeMutableRawPointer(chunk) + buffer.geometry.chunkSize).assumingMemoryBound(to: UInt8.self)
        t.pointee.last_ticks = now
        // A chunk starts from an empty context, as its decoder does.
        t.pointee.swift_task_id = 0
        t.pointee.context_task = 0
        t.pointee.last_task = 0
        guard bytes <= buffer.geometry.payloadSize else {
            // Cannot happen with the sizes in trace_events.h; never write past
            // a chunk even if it did.
            drop(t, buffer)
            return nil
        }
        return t.pointee.cursor
    }

    private static func drop(_ t: ThreadState, _ buffer: ProcessBuffer) {
        t.pointee.dropped_pending &+= 1
        buffer.countDrop(reason: UInt32(TC_DROP_BUFFER_FULL), stripe: t.pointee.thread_index)
    }

    /// Counts a drop without touching any lock: usable from a signal handler.
    static func countDropWithoutLocking(_ t: ThreadState, reason: UInt32) {
        guard let header = tc_shared_header_load() else { return }
        tc_fetch_add_relaxed_u64(tc_drop_counter(header, t.pointee.thread_index, reason), 1)
    }

    /// The process's first annotation when the environment armed something
    /// (TC_CONTROL_AUTOSTART or TC_CONTROL_CONNECT): start it. Returns
    /// whether this annotation should now be recorded. The annotation that
    /// opens the daemon connection never is: it happened before the
    /// daemon's welcome, and whether the welcome wins the race with this
    /// return must not decide what a trace holds.
    @usableFromInline @inline(never)
    static func firstAnnotation() -> Bool {
        guard ClientRuntime.shared.startArmed() else { return false }
        return tc_control_load() & UInt32(TC_CONTROL_ENABLED) != 0
    }

    @inline(never)
    static func internSlow(_ name: StaticString, key: UInt, slot: UnsafeMutablePointer<tc_intern_slot>) -> UInt32 {
        let runtime = ClientRuntime.shared
        guard let buffer = runtime.buffer else { return 0 }
        let id = runtime.strings.id(for: name.description, in: buffer)
        if id != 0 {
            slot.pointee.key = key
            slot.pointee.id = id
        }
        return id
    }

    /// A runtime name not in the NameTable: interned, or `(other)` when the
    /// table is full (then `overflowed` is set).
    @inline(never)
    static func internDynamicSlow(_ bytes: UnsafeRawBufferPointer, hash: UInt64, overflowed: inout Bool) -> UInt32 {
        let runtime = ClientRuntime.shared
        guard let buffer = runtime.buffer else { return 0 }
        let (id, over) = NameTable.shared.insert(bytes, hash: hash, strings: runtime.strings, buffer: buffer)
        if over { overflowed = true }
        return id
    }

    /// After an event whose runtime name was recorded as `(other)`: records
    /// the process's overflow count so far as the counter
    /// `traced.names.overflowed` (its last value is the total).
    @usableFromInline @inline(never)
    static func noteNameOverflow() {
        // RuntimeNames.overflowCounter, as a StaticString (the per-thread
        // cache keys on it). Typed: a bare literal would pick
        // counter(String, _:) and recurse.
        let name: StaticString = "traced.names.overflowed"
        counter(name, Int64(truncatingIfNeeded: NameTable.shared.overflowCount))
    }

    /// Walks the stack (frame pointers, then the awaiting callers of a
    /// resumed Swift async function: trace_stack.h) and returns its id, 0
    /// if none. Skips two frames: this function's and the EventWriter entry
    /// point's, so the first frame is the annotation's call site.
    @inline(never)
    static func captureStack(_ t: ThreadState) -> UInt32 {
        let frames = tc_stack_scratch(t).unsafelyUnwrapped
        var walk = tc_stack_walk()
        let count = Int(tc_capture_stack(frames, CInt(TC_STACK_CAPACITY), 2, t.pointee.stack_low, t.pointee.stack_high, &walk))
        let runtime = ClientRuntime.shared
        guard count > 0, let buffer = runtime.buffer else { return 0 }
        return runtime.stacks.id(for: UnsafeBufferPointer(start: frames, count: count), syncDepth: Int(walk.sync_depth),
                                 buffer: buffer, images: runtime.images)
    }

    @inline(never)
    static func refillTaskIDs(_ t: ThreadState) {
        let start = ClientRuntime.shared.reserveTaskIDs()
        t.pointee.task_id_next = start
        t.pointee.task_id_limit = start + ClientRuntime.taskIDBlock
    }
}
