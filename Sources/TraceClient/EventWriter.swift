import CTraceABI

/// The hot path: encodes one event into the calling thread's chunk.
///
/// Each function is a few plain stores into the chunk and one release-store
/// of the chunk's `committed` (docs/abi.md). Nothing here locks, allocates,
/// logs or makes a syscall; when the chunk is full or missing, `reserve`
/// calls the slow path (ChunkAcquisition.swift), which may. The per-thread
/// `busy` flag makes an event emitted from a signal handler, while the same
/// thread is inside an event, a counted drop instead of a torn write.
@usableFromInline
enum EventWriter {
    typealias ThreadState = UnsafeMutablePointer<tc_thread_state>

    // MARK: Events

    // Each entry point below calls the transparent builder itself, never
    // another entry point: captureStack skips exactly two frames.

    @usableFromInline @inline(never)
    static func regionBegin(_ type: StaticString) -> TraceRegion {
        regionBegin(task: currentTask()) { t in intern(t, type) }
    }

    @usableFromInline @inline(never)
    static func regionBegin(name type: UnsafeRawBufferPointer) -> TraceRegion {
        var overflowed = false
        let region = regionBegin(task: currentTask()) { t in internDynamic(type, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
        return region
    }

    /// A region of `task`, whatever task is current (TraceTask.startRegion).
    @usableFromInline @inline(never)
    static func regionBegin(_ type: StaticString, task: UInt64) -> TraceRegion {
        regionBegin(task: task) { t in intern(t, type) }
    }

    @usableFromInline @inline(never)
    static func regionBegin(name type: UnsafeRawBufferPointer, task: UInt64) -> TraceRegion {
        var overflowed = false
        let region = regionBegin(task: task) { t in internDynamic(type, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
        return region
    }

    /// `typeID` resolves the name inside the event (the thread is busy).
    /// Transparent, so inlined even in debug builds: captureStack skips a
    /// fixed number of frames (the entry point's and its own).
    @_transparent
    static func regionBegin(task: UInt64, _ typeID: (ThreadState) -> UInt32) -> TraceRegion {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return TraceRegion(droppedFor: UInt32(TC_DROP_REENTRANT)) }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_REGION_BEGIN + TC_MAX_CONTEXT), now) else {
            return droppedBegin(t)
        }
        let typeID = typeID(t)
        let stack = wantsStack() ? captureStack(t) : 0
        noteContext(t, &p, task: task)
        p.pointee = UInt8(TC_EV_REGION_BEGIN) | (stack != 0 ? UInt8(TC_EV_HAS_STACK) : 0)
        p += 1
        putDelta(t, &p, now)
        put(&p, UInt64(typeID))
        if stack != 0 { put(&p, UInt64(stack)) }
        commit(t, p)
        let sequence = t.pointee.region_seq
        t.pointee.region_seq = sequence &+ 1
        return TraceRegion(thread: t.pointee.thread_index, sequence: sequence)
    }

    /// The handle of a region whose begin `reserve` just dropped: its end
    /// is dropped and counted for the same reason, so that emitted =
    /// recorded + dropped holds for regions too. A begin that was not
    /// counted (tracing went off, the thread could not register) gives an
    /// inactive handle.
    private static func droppedBegin(_ t: ThreadState) -> TraceRegion {
        switch Int(t.pointee.status) {
        case TC_THREAD_EXITING: return TraceRegion(droppedFor: UInt32(TC_DROP_THREAD_EXITING))
        case TC_THREAD_REGISTERED where t.pointee.dropped_pending > 0: return TraceRegion(droppedFor: UInt32(TC_DROP_BUFFER_FULL))
        default: return TraceRegion(thread: 0, sequence: 0)
        }
    }

    /// The end of a region whose begin was dropped for `reason`: counted.
    @usableFromInline @inline(never)
    static func regionEndDropped(reason: UInt32) {
        guard let t = tc_thread_state_get() else { return }
        countDropWithoutLocking(t, reason: reason)
    }

    @usableFromInline @inline(never)
    static func regionEnd(_ region: TraceRegion) {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_REGION_END + TC_MAX_CONTEXT), now) else { return }
        // An end needs only the Swift task (which task ended it); the trace
        // task of the context is left as it is.
        noteContext(t, &p, task: t.pointee.context_task)
        let seen = t.pointee.region_seq
        if region.thread == t.pointee.thread_index && region.sequence < seen {
            p.pointee = UInt8(TC_EV_REGION_END)
            p += 1
            putDelta(t, &p, now)
            put(&p, seen &- 1 &- region.sequence)
        } else {
            // Begun on another thread (the Swift task moved across an await),
            // or a handle ended in a way analysis will flag.
            p.pointee = UInt8(TC_EV_REGION_END_FOREIGN)
            p += 1
            putDelta(t, &p, now)
            put(&p, UInt64(region.thread))
            put(&p, region.sequence)
        }
        commit(t, p)
    }

    /// Records a new task; returns its id (nonzero even if the event was
    /// dropped, so what the task does is still attributed to it).
    @usableFromInline @inline(never)
    static func taskBegin(_ type: StaticString, parent: UInt64) -> UInt64 {
        taskBegin(parent: parent) { t in intern(t, type) }
    }

    @usableFromInline @inline(never)
    static func taskBegin(name type: UnsafeRawBufferPointer, parent: UInt64) -> UInt64 {
        var overflowed = false
        let id = taskBegin(parent: parent) { t in internDynamic(type, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
        return id
    }

    @_transparent  // as regionBegin's: one frame for captureStack to skip
    static func taskBegin(parent: UInt64, _ typeID: (ThreadState) -> UInt32) -> UInt64 {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return 0 }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_TASK + TC_MAX_CONTEXT), now) else {
            return t.pointee.status == UInt32(TC_THREAD_REGISTERED) ? nextTaskID(t) : 0
        }
        let id = nextTaskID(t)
        let typeID = typeID(t)
        let stack = wantsStack() ? captureStack(t) : 0
        // The parent is the context's task: the decoder reads it from there.
        noteContext(t, &p, task: parent)
        p.pointee = UInt8(TC_EV_TASK_BEGIN) | (stack != 0 ? UInt8(TC_EV_HAS_STACK) : 0)
        p += 1
        putDelta(t, &p, now)
        putSigned(&p, Int64(bitPattern: id &- t.pointee.last_task))
        put(&p, UInt64(typeID))
        if stack != 0 { put(&p, UInt64(stack)) }
        commit(t, p)
        t.pointee.last_task = id
        return id
    }

    @usableFromInline @inline(never)
    static func taskEnd(_ id: UInt64) {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_TASK), now) else { return }
        p.pointee = UInt8(TC_EV_TASK_END)
        p += 1
        putDelta(t, &p, now)
        putSigned(&p, Int64(bitPattern: id &- t.pointee.last_task))
        commit(t, p)
    }

    @usableFromInline @inline(never)
    static func log(_ category: StaticString, _ message: consuming String) {
        // Native strings are contiguous UTF-8: no copy. Consuming the
        // caller's string spares a retain and release.
        let task = currentTask()
        message.withUTF8 { bytes in log(UnsafeRawBufferPointer(bytes), task: task) { t in intern(t, category) } }
    }

    @usableFromInline @inline(never)
    static func log(name category: UnsafeRawBufferPointer, _ message: consuming String) {
        let task = currentTask()
        var overflowed = false
        message.withUTF8 { bytes in
            log(UnsafeRawBufferPointer(bytes), task: task) { t in internDynamic(category, overflowed: &overflowed) }
        }
        if overflowed { noteNameOverflow() }
    }

    /// A log of `task` whose message is UTF-8 bytes the caller wrote
    /// (TraceTask.log, and TracedTracing's messages built without a String).
    @usableFromInline @inline(never)
    static func log(_ category: StaticString, _ message: UnsafeRawBufferPointer, task: UInt64) {
        log(message, task: task) { t in intern(t, category) }
    }

    @usableFromInline @inline(never)
    static func log(name category: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer, task: UInt64) {
        var overflowed = false
        log(message, task: task) { t in internDynamic(category, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
    }

    @inline(__always)
    static func log(_ bytes: UnsafeRawBufferPointer, task: UInt64, _ categoryID: (ThreadState) -> UInt32) {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return }
        defer { leave(t) }
        var length = min(bytes.count, Int(TC_MAX_LOG_MESSAGE))
        // Cut at a character boundary, never inside a UTF-8 sequence.
        while length < bytes.count && length > 0 && bytes[length] & 0xC0 == 0x80 { length -= 1 }
        let truncated: UInt64 = length < bytes.count ? 1 : 0
        guard var p = reserve(t, Int(TC_MAX_LOG_FIXED + TC_MAX_CONTEXT) + length, now) else { return }
        let categoryID = categoryID(t)
        let stack = wantsStack() ? captureStack(t) : 0
        noteContext(t, &p, task: task)
        p.pointee = UInt8(TC_EV_LOG) | (stack != 0 ? UInt8(TC_EV_HAS_STACK) : 0)
        p += 1
        putDelta(t, &p, now)
        put(&p, UInt64(categoryID))
        put(&p, UInt64(length) << 1 | truncated)
        copy(bytes, length, to: p)
        p += length
        if stack != 0 { put(&p, UInt64(stack)) }
        commit(t, p)
    }

    /// Copies `count` bytes; short messages in 8-byte words (the last word
    /// overlapping the one before), without a call into libc.
    @inline(__always)
    static func copy(_ source: UnsafeRawBufferPointer, _ count: Int, to destination: UnsafeMutablePointer<UInt8>) {
        guard count > 0, let from = source.baseAddress else { return }
        let to = UnsafeMutableRawPointer(destination)
        if count > 64 {
            to.copyMemory(from: from, byteCount: count)
        } else if count >= 8 {
            var offset = 0
            while offset < count - 8 {
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8,
                          as: UInt64.self)
        } else if count >= 4 {
            to.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4,
                          as: UInt32.self)
        } else {
            for offset in 0..<count {
                to.storeBytes(of: from.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
            }
        }
    }

    @usableFromInline @inline(never)
    static func counter(_ name: StaticString, _ value: Int64) {
        counter(value) { t in intern(t, name) }
    }

    @usableFromInline @inline(never)
    static func counter(name: UnsafeRawBufferPointer, _ value: Int64) {
        var overflowed = false
        counter(value) { t in internDynamic(name, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
    }

    @inline(__always)
    static func counter(_ value: Int64, _ nameID: (ThreadState) -> UInt32) {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_COUNTER), now) else { return }
        let nameID = nameID(t)
        p.pointee = UInt8(TC_EV_COUNTER_INT)
        p += 1
        putDelta(t, &p, now)
        put(&p, UInt64(nameID))
        putSigned(&p, value)
        commit(t, p)
    }

    @usableFromInline @inline(never)
    static func counter(_ name: StaticString, _ value: Double) {
        counter(value) { t in intern(t, name) }
    }

    @usableFromInline @inline(never)
    static func counter(name: UnsafeRawBufferPointer, _ value: Double) {
        var overflowed = false
        counter(value) { t in internDynamic(name, overflowed: &overflowed) }
        if overflowed { noteNameOverflow() }
    }

    @inline(__always)
    static func counter(_ value: Double, _ nameID: (ThreadState) -> UInt32) {
        let now = tc_now()
        let t = tc_thread_state_get().unsafelyUnwrapped
        guard enter(t) else { return }
        defer { leave(t) }
        guard var p = reserve(t, Int(TC_MAX_COUNTER), now) else { return }
        let nameID = nameID(t)
        p.pointee = UInt8(TC_EV_COUNTER_DOUBLE)
        p += 1
        putDelta(t, &p, now)
        put(&p, UInt64(nameID))
        UnsafeMutableRawPointer(p).storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
        p += 8
        commit(t, p)
    }

    // MARK: Building blocks

    /// Marks the thread busy; false (and a counted drop) if it already was:
    /// a signal handler interrupted an event on this thread.
    @inline(__always)
    static func enter(_ t: ThreadState) -> Bool {
        guard tc_busy_load(t) == 0 else {
            countDropWithoutLocking(t, reason: UInt32(TC_DROP_REENTRANT))
            return false
        }
        tc_busy_store(t, 1)
        return true
    }

    @inline(__always)
    static func leave(_ t: ThreadState) {
        tc_busy_store(t, 0)
    }

    /// A cursor with at least `bytes` free in the thread's chunk, or nil if
    /// the event must be dropped (already counted).
    @inline(__always)
    static func reserve(_ t: ThreadState, _ bytes: Int, _ now: UInt64) -> UnsafeMutablePointer<UInt8>? {
        let cursor = UInt(bitPattern: t.pointee.cursor)
        let limit = UInt(bitPattern: t.pointee.limit)
        // Invariant: cursor <= limit, both nil (0) without a chunk.
        if limit &- cursor >= UInt(bytes) { return t.pointee.cursor }
        return reserveSlow(t, bytes, now)
    }

    /// Publishes the event that ends at `end` (release: a consumer that
    /// acquire-loads `committed` sees every byte below it).
    @inline(__always)
    static func commit(_ t: ThreadState, _ end: UnsafeMutablePointer<UInt8>) {
        t.pointee.cursor = end
        t.pointee.chunk_events &+= 1
        let payload = t.pointee.payload.unsafelyUnwrapped
        tc_chunk_committed_store_release(t.pointee.chunk.unsafelyUnwrapped, UInt32(truncatingIfNeeded: end - payload))
    }

    /// LEB128. The caller reserved room for the widest encoding.
    @inline(__always)
    static func put(_ p: inout UnsafeMutablePointer<UInt8>, _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            p.pointee = UInt8(truncatingIfNeeded: v) | 0x80
            p += 1
            v &>>= 7
        }
        p.pointee = UInt8(truncatingIfNeeded: v)
        p += 1
    }

    /// Zigzag: small magnitudes of either sign take one byte.
    @inline(__always)
    static func putSigned(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Int64) {
        put(&p, UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// The delta from the thread's previous event, clamped at 0: a thread
    /// that migrates between cores must never appear to go back in time.
    @inline(__always)
    static func putDelta(_ t: ThreadState, _ p: inout UnsafeMutablePointer<UInt8>, _ now: UInt64) {
        let last = t.pointee.last_ticks
        let ticks = now > last ? now : last
        t.pointee.last_ticks = ticks
        put(&p, ticks &- last)
    }

    /// Writes a context event when the Swift task running this thread, or
    /// the current trace task, differs from what the chunk last recorded.
    /// Both are deltas: consecutive Swift tasks and trace tasks have nearby ids.
    /// Swift tasks are told apart by the runtime's id, not their address: a
    /// task that ended leaves its address to the next one allocated, which
    /// may run on this thread.
    @inline(__always)
    static func noteContext(_ t: ThreadState, _ p: inout UnsafeMutablePointer<UInt8>, task: UInt64) {
        let swiftTask = tc_swift_current_task()
        let swiftID = swiftTask == 0 ? 0 : tc_swift_task_id(swiftTask)
        guard swiftID != t.pointee.swift_task_id || task != t.pointee.context_task else { return }
        p.pointee = UInt8(TC_EV_CONTEXT)
        p += 1
        putSigned(&p, Int64(bitPattern: swiftID &- t.pointee.swift_task_id))
        putSigned(&p, Int64(bitPattern: task &- t.pointee.context_task))
        t.pointee.swift_task_id = swiftID
        t.pointee.context_task = task
    }

    /// The string id of a StaticString, from the thread's cache when it hits.
    @inline(__always)
    static func intern(_ t: ThreadState, _ name: StaticString) -> UInt32 {
        let key = name.hasPointerRepresentation
            ? UInt(bitPattern: name.utf8Start)
            : UInt(name.unicodeScalar.value) << 1 | 1
        let slot = tc_intern_slots(t).unsafelyUnwrapped + Int((key >> 3) & UInt(TC_INTERN_CACHE_SIZE - 1))
        if slot.pointee.key == key { return slot.pointee.id }
        return internSlow(name, key: key, slot: slot)
    }

    /// The string id of a runtime name's UTF-8 bytes (Trace.withNameBytes):
    /// a lock-free lookup in the process's NameTable when the name is
    /// interned. Sets `overflowed` when the name was recorded as `(other)`
    /// because the table is full.
    @inline(__always)
    static func internDynamic(_ name: UnsafeRawBufferPointer, overflowed: inout Bool) -> UInt32 {
        let bytes = NameTable.clamp(name)
        let hash = NameTable.hash(bytes)
        let id = NameTable.shared.lookup(bytes, hash: hash)
        return id != 0 ? id : internDynamicSlow(bytes, hash: hash, overflowed: &overflowed)
    }

    /// The current task's id, or 0: TraceTask's task-local, else (if the
    /// process asked for it) the TraceTask in ServiceContext.current. One
    /// relaxed load while neither was ever used in this process.
    @inline(__always)
    static func currentTask() -> UInt64 {
        let inUse = tc_tasks_in_use_load()
        guard inUse != 0 else { return 0 }
        let id = inUse & UInt32(TC_TASKS_LOCAL) != 0 ? TraceTask.currentID : 0
        guard id == 0, inUse & UInt32(TC_TASKS_SERVICE_CONTEXT) != 0 else { return id }
        return TraceTask.serviceContextTaskID()
    }

    /// The task `withCurrent` made current, or 0, whatever ServiceContext
    /// holds.
    @inline(__always)
    static func taskLocalTask() -> UInt64 {
        tc_tasks_in_use_load() & UInt32(TC_TASKS_LOCAL) != 0 ? TraceTask.currentID : 0
    }

    @inline(__always)
    static func wantsStack() -> Bool {
        tc_control_load() & UInt32(TC_CONTROL_STACKS) != 0
    }

    /// A process-unique task id from the thread's reserved block.
    @inline(__always)
    static func nextTaskID(_ t: ThreadState) -> UInt64 {
        if t.pointee.task_id_next == t.pointee.task_id_limit { refillTaskIDs(t) }
        let id = t.pointee.task_id_next
        t.pointee.task_id_next = id &+ 1
        return id
    }
}
