import CTraceABI
import Synchronization
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide state behind the annotation API: the shared-memory
/// buffer, the registry of tracing threads, and the in-process session.
///
/// Locks, in the order they may nest: `lifecycle` (start/stop, held for
/// their whole duration) > `state` (buffer creation) > `registry`. The hot
/// path takes none; the slow path takes `state` only to register a thread.
final class ClientRuntime: Sendable {
    static let shared = ClientRuntime()

    /// Task ids are handed to threads in blocks, so creating a task costs no
    /// shared atomic.
    static let taskIDBlock: UInt64 = 256

    let strings = StringInterner()
    let stacks = StackTable()
    let images = ImageList()

    private let threadIndices = Atomic<UInt32>(1)
    private let taskIDs = Atomic<UInt64>(1)

    private struct State {
        var buffer: ProcessBuffer?
        var connection: DaemonConnection?
        var requestedBufferSize: Int?
        var exitKeyInstalled = false
        var forkEpoch: UInt32 = 0
    }
    private let state = Mutex(State())
    /// The published buffer, readable without a lock (retained forever).
    private let published = Atomic<UInt>(0)
    private let publishedEpoch = Atomic<UInt32>(0)
    /// Addresses of the tc_thread_state of every registered, live thread.
    private let registry = Mutex<Set<UInt>>([])
    private let lifecycle = Mutex<InProcessSession?>(nil)

    // MARK: Buffer

    /// The buffer, if one exists; no lock taken.
    var buffer: ProcessBuffer? {
        if publishedEpoch.load(ordering: .acquiring) != tc_fork_epoch_load() { forgetParentAfterFork() }
        guard let raw = UnsafeRawPointer(bitPattern: published.load(ordering: .acquiring)) else { return nil }
        return Unmanaged<ProcessBuffer>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Sets the size of the buffer before it is created.
    func configureBuffer(size: Int) throws(TraceError) {
        try state.withLock { (state) throws(TraceError) in
            guard state.buffer == nil else { throw .bufferExists }
            state.requestedBufferSize = size
        }
    }

    func bufferCreatingIfNeeded() throws(TraceError) -> ProcessBuffer {
        try state.withLock { (state) throws(TraceError) in try ensureBuffer(&state) }
    }

    private func ensureBuffer(_ state: inout State) throws(TraceError) -> ProcessBuffer {
        if let buffer = state.buffer { return buffer }
        let environment = ProcessEnvironment.current
        let clock = ClockSelection.choose(environment: environment)
        tc_clock_kind_store(clock)
        let buffer: ProcessBuffer
        do {
            buffer = try ProcessBuffer.create(
                size: state.requestedBufferSize ?? environment.bufferSize ?? ProcessBuffer.defaultSize,
                chunkSize: environment.chunkSize ?? ProcessBuffer.defaultChunkSize,
                clockKind: clock, processName: environment.processName)
        } catch {
            throw .buffer("\(error)")
        }
        tc_install_fork_handler()
        state.buffer = buffer
        state.forkEpoch = tc_fork_epoch_load()
        tc_shared_header_store(buffer.header)
        publishedEpoch.store(state.forkEpoch, ordering: .releasing)
        published.store(UInt(bitPattern: Unmanaged.passRetained(buffer).toOpaque()), ordering: .releasing)
        images.refresh(in: buffer)
        // Where the concurrency runtime's code is, for the async part of
        // stacks; without it stacks stop at the executor (trace_stack.h).
        _ = tc_stack_walk_prepare()
        return buffer
    }

    /// In a forked child the buffer is the parent's: drop every reference
    /// to it (without unmapping or writing anything).
    private func forgetParentAfterFork() {
        state.withLock { state in
            let epoch = tc_fork_epoch_load()
            guard state.forkEpoch != epoch else { return }
            state = State(requestedBufferSize: state.requestedBufferSize, forkEpoch: epoch)
            tc_shared_header_store(nil)
            published.store(0, ordering: .releasing)
            publishedEpoch.store(epoch, ordering: .releasing)
        }
        registry.withLock { $0 = [] }
        _ = lifecycle.withLockIfAvailable { session in
            session?.abandonAfterFork()
            session = nil
        }
    }

    // MARK: Threads

    /// First event of a thread: give it an index, describe it in the
    /// metadata, and arrange for its chunk to be handed back when it exits.
    func register(_ t: UnsafeMutablePointer<tc_thread_state>) -> Bool {
        guard let buffer else { return false }
        let installed = state.withLock { state -> Bool in
            if !state.exitKeyInstalled {
                state.exitKeyInstalled = tc_thread_exit_key_create { ClientRuntime.shared.threadExiting() } == 0
            }
            return state.exitKeyInstalled
        }
        if installed { _ = tc_arm_thread_exit() }
        let index = threadIndices.wrappingAdd(1, ordering: .relaxed).oldValue
        var low: UInt = 0, high: UInt = 0
        if tc_current_stack_bounds(&low, &high) != 0 { low = 0; high = 0 }
        t.pointee.thread_index = index
        t.pointee.stack_low = low
        t.pointee.stack_high = high
        t.pointee.status = UInt32(TC_THREAD_REGISTERED)
        registry.withLock { _ = $0.insert(UInt(bitPattern: t)) }
        _ = buffer.appendMetadata(.thread(.init(index: index, tid: currentThreadID(), name: currentThreadName())))
        return true
    }

    /// Pthread key destructor: the thread is exiting. Hand its chunk to the
    /// consumer; later events from it (other destructors) are dropped.
    private func threadExiting() {
        guard let t = tc_thread_state_get() else { return }
        registry.withLock { _ = $0.remove(UInt(bitPattern: t)) }
        if let chunk = t.pointee.chunk, let buffer {
            buffer.complete(chunk, events: t.pointee.chunk_events)
        }
        t.pointee.chunk = nil
        t.pointee.cursor = nil
        t.pointee.limit = nil
        t.pointee.payload = nil
        t.pointee.status = UInt32(TC_THREAD_EXITING)
    }

    /// Waits (up to 50 ms) until no thread is inside an event, so what was
    /// emitted before tracing was turned off is committed before the last
    /// drain. Each check holds the registry lock, which an exiting thread
    /// takes before its state is freed.
    func waitForEventsInFlight() {
        let deadline = tc_monotonic_ns() + 50_000_000
        for address in registry.withLock({ Array($0) }) {
            while true {
                let busy = registry.withLock { live in
                    live.contains(address) && tc_busy_load(UnsafeMutablePointer(bitPattern: address)) != 0
                }
                if !busy || tc_monotonic_ns() > deadline { break }
                sched_yield()
            }
        }
    }

    func reserveTaskIDs() -> UInt64 {
        taskIDs.wrappingAdd(Self.taskIDBlock, ordering: .relaxed).oldValue
    }

    // MARK: In-process sessions

    func start(_ output: TraceOutput, options: TraceOptions) throws(TraceError) {
        try lifecycle.withLock { (session) throws(TraceError) in
            try startLocked(&session, output, options)
        }
    }

    private func startLocked(_ session: inout InProcessSession?, _ output: TraceOutput, _ options: TraceOptions) throws(TraceError) {
        guard session == nil else { throw .alreadyStarted }
        let (buffer, connection) = try state.withLock { (state) throws(TraceError) in
            (try ensureBuffer(&state), state.connection)
        }
        // The daemon hands the buffer back first (it takes what is committed).
        connection?.suspend()
        // What is committed now belonged to an earlier consumer.
        let consumer: BufferConsumer
        do {
            consumer = try BufferConsumer(mapping: buffer.mapping, attachingInUse: true)
        } catch {
            connection?.resume()
            throw .internalInconsistency("own buffer refused: \(error)")
        }
        do {
            session = try InProcessSession(buffer: buffer, consumer: consumer, output: output, options: options)
        } catch {
            connection?.resume()
            throw error
        }
        tc_control_store(UInt32(TC_CONTROL_ENABLED) | (options.stacks ? UInt32(TC_CONTROL_STACKS) : 0))
    }

    func stop() throws(TraceError) {
        try lifecycle.withLock { (session) throws(TraceError) in
            guard let running = session else { return }
            session = nil
            tc_control_store(0)
            waitForEventsInFlight()
            defer { state.withLock { $0.connection }?.resume() }
            try running.finish()
        }
    }

    var isStarted: Bool { lifecycle.withLock { $0 != nil } }

    /// The first annotation of a process the environment armed: start what
    /// it asked for. Returns false when this call opened the daemon
    /// connection (the annotation that did it is not recorded).
    func startArmed() -> Bool {
        let control = tc_control_load()
        if control & UInt32(TC_CONTROL_AUTOSTART) != 0 {
            autostart()
        } else if control & UInt32(TC_CONTROL_CONNECT) != 0 {
            return !connectToDaemon()
        }
        return true
    }

    /// Starts the daemon connection (once). Tracing stays off until the
    /// daemon turns it on.
    /// Returns whether this call was the one that started it.
    private func connectToDaemon() -> Bool {
        guard tc_control_fetch_and(~UInt32(TC_CONTROL_CONNECT)) & UInt32(TC_CONTROL_CONNECT) != 0 else { return false }
        state.withLock { state in
            guard state.connection == nil, let buffer = try? ensureBuffer(&state) else { return }
            do {
                state.connection = try DaemonConnection.start(buffer: buffer)
            } catch {
                Diagnostics.report("traced: cannot start the connection to the daemon: \(error); tracing stays off")
            }
        }
        return true
    }

    /// At exit, tells the daemon this process leaves.
    func daemonFarewell() {
        state.withLock { $0.connection }?.farewell()
    }

    /// TRACED_FILE was set when the process started: trace into that file
    /// from this first event until exit. Runs at most once; a failure is
    /// reported once on stderr and tracing stays off.
    private func autostart() {
        _ = lifecycle.withLockIfAvailable { session in
            let armed = tc_control_fetch_and(~UInt32(TC_CONTROL_AUTOSTART)) & UInt32(TC_CONTROL_AUTOSTART) != 0
            guard armed, session == nil, let path = tc_autostart_path().map({ String(cString: $0) }) else { return }
            let environment = ProcessEnvironment.current
            do {
                try startLocked(&session, .path(path), TraceOptions(stacks: environment.stacks))
                _ = tc_atexit {
                    do {
                        try ClientRuntime.shared.stop()
                    } catch {
                        Diagnostics.report("traced: finishing the trace requested by TRACED_FILE failed: \(error)")
                    }
                }
            } catch {
                tc_control_store(0)
                Diagnostics.report("traced: cannot trace this process into '\(path)' (TRACED_FILE): \(error); tracing stays off")
            }
        }
    }
}
