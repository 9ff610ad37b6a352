import CTraceABI
import Synchronization
package import TraceFormat

/// An interned name (task or region type, log category, counter name):
/// equal strings get the same id across processes, so a task type is one
/// row of a report however many processes recorded it.
package struct TraceName: Hashable, Comparable, Sendable {
    package var index: UInt32
    package init(index: UInt32) { self.index = index }
    package static func < (a: TraceName, b: TraceName) -> Bool { a.index < b.index }
}

/// The tables of a trace, read in a first pass over its files before any
/// event: processes, threads, names, stacks, images, drop counts, clock
/// syncs. A file promises its metadata, not that it comes before the events
/// that use it, so a streaming reader needs all of it first. Memory grows
/// with the metadata (bounded per process by the client's metadata area),
/// not with the events.
///
/// Sendable: everything is immutable after `init` except the names interned
/// later (ids no string record defines) and the diagnostics the second pass
/// adds, both behind `state`'s mutex, so a walk on one thread and a visitor
/// on another (`TraceWalk.runPipelined`) can share it.
package final class TraceCatalog: @unchecked Sendable {
    package let paths: [String]
    package let headers: [FileHeader]
    package let processes: [UInt32: ProcessRecord]
    package let threads: [TraceReader.ProcessScoped: ThreadRecord]
    package let stacks: [TraceReader.ProcessScoped: [UInt64]]
    /// Where the async frames of a stack begin (stacks without any: absent).
    package let stackSyncDepths: [TraceReader.ProcessScoped: Int]
    /// Stacks cut at their bound (the outermost callers are missing).
    package let cutStacks: Set<TraceReader.ProcessScoped>
    package let images: [UInt32: [ImageRecord]]
    /// The latest cumulative drop counts of each process.
    package let drops: [UInt32: DropCounts]
    package let clock: ClockConverter
    package let clockSyncs: [ClockSync]
    /// When the trace's events can have happened; nil without clock syncs
    /// (then every time is believed). The walk leaves out an event timed
    /// outside and counts it (`ReaderDiagnostic.Problem.outsideSession`).
    package let window: SessionWindow?
    /// What the first pass skipped; the walk adds what the second finds.
    package var diagnostics: [ReaderDiagnostic] { state.withLock { $0.diagnostics } }

    /// What may change after `init`.
    private struct State {
        /// Every name, by `TraceName.index`.
        var names: [String] = []
        var byValue: [String: TraceName] = [:]
        /// `TraceName` of ids outside `dense`.
        var sparse: [TraceReader.ProcessScoped: TraceName] = [:]
        var diagnostics: [ReaderDiagnostic] = []

        mutating func intern(_ value: String) -> TraceName {
            if let name = byValue[value] { return name }
            let name = TraceName(index: UInt32(names.count))
            names.append(value)
            byValue[value] = name
            return name
        }
    }

    private let state: Mutex<State>
    /// Per process, `TraceName` by string id, dense for the ids a process
    /// defined (a hostile id far past them falls back to `State.sparse`).
    private let dense: [UInt32: [TraceName?]]

    init(paths: [String], reader: TraceReader) {
        self.paths = paths
        headers = reader.headers
        processes = reader.processes
        threads = reader.threads
        var indices: [TraceReader.ProcessScoped: UInt32] = [:]
        // A tid reused within a trace names its newest thread record.
        for (key, thread) in reader.threads.sorted(by: { $0.value.index < $1.value.index }) {
            indices[TraceReader.ProcessScoped(key.process, UInt64(UInt32(bitPattern: thread.tid)))] = thread.index
        }
        threadIndices = indices
        kernelBatches = reader.batchIndex.lazy.filter(\.kernel).count
        stacks = reader.stacks
        stackSyncDepths = reader.stackSyncDepths
        cutStacks = reader.cutStacks
        images = reader.images
        drops = reader.drops
        clockSyncs = reader.clockSyncs
        window = SessionWindow(syncs: reader.clockSyncs)
        let nominal = reader.processes.values.map(\.nominalTicksPerSecond).max() ?? 0
        clock = ClockConverter(syncs: reader.clockSyncs, nominalTicksPerSecond: nominal)
        var state = State()
        state.diagnostics = reader.diagnostics
        _ = state.intern("")
        var dense: [UInt32: [TraceName?]] = [:]
        var counts: [UInt32: Int] = [:]
        for key in reader.strings.keys { counts[key.process, default: 0] += 1 }
        // In id order, so names (and what is numbered after them) are the
        // same from run to run: a Dictionary's order is not.
        for (key, value) in reader.strings.sorted(by: { ($0.key.process, $0.key.id) < ($1.key.process, $1.key.id) }) {
            let name = state.intern(value)
            let limit = 4 * (counts[key.process] ?? 0) + 1024
            if key.id < UInt64(limit) {
                let id = Int(key.id)
                // In place: a copy out of the dictionary per string would
                // make a process with many strings quadratic.
                if dense[key.process] == nil { dense[key.process] = [] }
                guard let index = dense.index(forKey: key.process) else { continue }
                if dense.values[index].count <= id {
                    dense.values[index].append(contentsOf: repeatElement(nil, count: id + 1 - dense.values[index].count))
                }
                dense.values[index][id] = name
            } else {
                state.sparse[key] = name
            }
        }
        self.dense = dense
        self.state = Mutex(state)
    }

    /// The name of string `id` of `process`; an id no string record defines
    /// becomes "#id" (id 0 is the empty name).
    package func name(_ process: UInt32, _ id: UInt32) -> TraceName {
        if id == 0 { return TraceName(index: 0) }
        if let table = dense[process], Int(id) < table.count, let name = table[Int(id)] { return name }
        let key = TraceReader.ProcessScoped(process, UInt64(id))
        return state.withLock { state in
            if let name = state.sparse[key] { return name }
            let name = state.intern("#\(id)")
            state.sparse[key] = name
            return name
        }
    }

    /// `process`'s names by string id, for a caller resolving many ids of
    /// one process (an id past the table goes through `name`).
    func nameTable(_ process: UInt32) -> [TraceName?] { dense[process] ?? [] }

    package func string(_ name: TraceName) -> String {
        state.withLock { Int(name.index) < $0.names.count ? $0.names[Int(name.index)] : "" }
    }

    /// Every name so far, by `TraceName.index`.
    package var names: [String] { state.withLock { $0.names } }

    /// The log category that gives the task it is logged in its type from
    /// there on (docs/format.md, "Spans").
    package static let taskTypeCategory = "task.type"

    /// The name `value`, added if no event used it yet (a task's type
    /// given by a `task.type` log).
    package func intern(_ value: String) -> TraceName { state.withLock { $0.intern(value) } }

    /// The id of `value` if some event used it as a name (for filters).
    package func lookup(_ value: String) -> TraceName? { state.withLock { $0.byValue[value] } }

    /// The thread of `index` in `process`: a client's thread record, or for
    /// a thread only kernel batches name (`KernelThread.key(tid)`), one
    /// made up with its tid and no name.
    package func thread(_ process: UInt32, _ index: UInt32) -> ThreadRecord? {
        if let tid = KernelThread.tid(ofKey: index) { return ThreadRecord(index: index, tid: Int32(bitPattern: tid), name: "") }
        return threads[TraceReader.ProcessScoped(process, UInt64(index))]
    }

    /// Kernel batches in the trace (format 1.1): whether what threads did
    /// (running, waiting) can be told at all.
    package let kernelBatches: Int

    /// Client thread indices by (process, tid), for kernel events.
    private let threadIndices: [TraceReader.ProcessScoped: UInt32]

    /// The index of the client's thread `tid` in `process`, nil if the
    /// client recorded no thread of that tid: kernel batches name threads
    /// by tid, and the walk gives a thread both kinds of events under one
    /// index.
    package func threadIndex(_ process: UInt32, tid: UInt32) -> UInt32? {
        threadIndices[TraceReader.ProcessScoped(process, UInt64(tid))]
    }

    /// The frames of stack `id` of `process`, innermost first.
    package func stack(_ process: UInt32, _ id: UInt32) -> [UInt64]? {
        id == 0 ? nil : stacks[TraceReader.ProcessScoped(process, UInt64(id))]
    }

    /// How many frames of stack `id` of `process` are from the thread's
    /// stack; the rest are async (awaiting callers).
    package func syncDepth(_ process: UInt32, _ id: UInt32) -> Int? {
        guard let frames = stack(process, id) else { return nil }
        return stackSyncDepths[TraceReader.ProcessScoped(process, UInt64(id))] ?? frames.count
    }

    /// Whether stack `id` of `process` was cut at its bound: its
    /// outermost callers are missing.
    package func isCut(_ process: UInt32, _ id: UInt32) -> Bool {
        id != 0 && cutStacks.contains(TraceReader.ProcessScoped(process, UInt64(id)))
    }

    /// Events dropped by all processes (not counting lost metadata), and
    /// kernel records the collector lost (DropCounts.kernelCollector).
    package var droppedEvents: UInt64 { drops.values.map(\.droppedEvents).saturatingSum() }

    /// CLOCK_MONOTONIC nanoseconds of `ticks` recorded by `process`.
    package func time(_ process: UInt32, ticks: UInt64) -> Int64 {
        time(process, ticks: ticks, kernel: false)
    }

    /// The same for a batch's base time: a kernel batch counts
    /// CLOCK_MONOTONIC nanoseconds whatever its process's clock.
    package func time(_ process: UInt32, ticks: UInt64, kernel: Bool) -> Int64 {
        let kind = kernel ? UInt32(TC_CLOCK_MONOTONIC_NS) : processes[process]?.clockKind ?? UInt32(TC_CLOCK_MONOTONIC_NS)
        return clock.monotonicNanoseconds(ticks: ticks, clockKind: kind) ?? Int64(bitPattern: ticks)
    }

    func add(_ diagnostic: ReaderDiagnostic) { state.withLock { $0.diagnostics.append(diagnostic) } }
}
