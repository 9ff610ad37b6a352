import TraceFormat
import Synchronization
package import TraceSystem

/// One streaming pass over a trace: every event once, in CLOCK_MONOTONIC
/// time order across threads and processes, with tasks and regions matched
/// on the way (docs/design.md, "Reading traces").
///
/// `init` reads the files' metadata and indexes their batches (the first
/// pass); `run` merges the batches into one timeline (the second) and calls
/// a `TraceVisitor`. Memory is bounded by what is open at a moment (tasks,
/// regions, the batches overlapping in time, a few decompressed frames) and
/// by what the visitor keeps, not by the number of events.
package final class TraceWalk: Sendable {
    package let catalog: TraceCatalog
    private let sources: [TraceSource]
    /// Every batch, sorted by base time.
    private let batches: [TraceReader.BatchLocation]

    /// Reads the metadata of the files at `paths` (the files of one session,
    /// in order). Throws only when a file cannot be opened or mapped;
    /// damage inside a file becomes a diagnostic.
    package convenience init(paths: [String]) throws(SystemError) {
        var sources: [TraceSource] = []
        for path in paths { sources.append(try TraceSource(path: path)) }
        self.init(sources: sources)
    }

    package init(sources: [TraceSource]) {
        let reader = TraceReader()
        for (number, source) in sources.enumerated() {
            reader.index(source.bytes, number: number, name: source.name, release: source.release(below:))
        }
        self.sources = sources
        let catalog = TraceCatalog(paths: sources.map(\.name), reader: reader)
        self.catalog = catalog
        // Sorted by start once, for every run (file order breaks ties).
        let index = reader.batchIndex
        let times = Self.starts(of: index, catalog: catalog, files: sources)
        let order = index.indices.sorted { (times[$0] ?? .max, $0) < (times[$1] ?? .max, $1) }
        batches = order.map { index[$0] }
        starts = order.map { times[$0] ?? .max }
        startTime = order.lazy.compactMap { times[$0] }.first
    }

    /// Each batch's start (`starts(of:)`), CLOCK_MONOTONIC, in `batches`'
    /// order; `Int64.max` for a batch with no event to keep.
    private let starts: [Int64]

    /// When the trace starts: the earliest batch's start (its first event's
    /// time or a little before). Windows (`--since`) count from it.
    package let startTime: Int64?

    /// When each batch's first event the walk keeps can be: its base time,
    /// no later than any of its events, when that is inside the trace's
    /// window. A base before the window (a scribbled one, or a thread's
    /// segment whose last event before it was written long before this
    /// session) would put the trace's start there: the time of the batch's
    /// first event inside is taken instead (decoded now), which the other
    /// events it keeps follow. Nil for a batch with no event inside (a base
    /// after the window: its events are later still), which the merge
    /// takes last, only to count its events.
    private static func starts(of batches: [TraceReader.BatchLocation], catalog: TraceCatalog,
                               files: [TraceSource]) -> [Int64?] {
        var times: [Int64?] = batches.map { catalog.time($0.process, ticks: $0.baseTicks, kernel: $0.kernel) }
        guard let window = catalog.window else { return times }
        var early: [Int] = []
        for (batch, time) in times.enumerated() {
            guard let time, !window.contains(time) else { continue }
            if time < window.lower { early.append(batch) } else { times[batch] = nil }
        }
        guard !early.isEmpty else { return times }
        let inside = BatchMerge.firstTimesInside(early.map { batches[$0] }, catalog: catalog, files: files)
        for (batch, time) in zip(early, inside) { times[batch] = time }
        return times
    }

    /// Batches in the trace.
    package var batchCount: Int { batches.count }

    /// Runs so far: only the first adds what it finds to the catalog's
    /// diagnostics (`tasks` walks twice, and would say everything twice).
    private let runs = Mutex(0)

    /// Bytes of encoded events (after decompression) of `processes` (nil:
    /// all): what an estimate of an export's size starts from.
    package func eventBytes(processes: Set<UInt32>? = nil) -> Int {
        batches.lazy.filter { processes?.contains($0.process) ?? true }.map(\.body.count).reduce(0, +)
    }

    /// Streams the trace to `visitor`. `processes` limits the walk to those
    /// trace processes (ProcessRecord.process); `progress` is called now
    /// and then with the fraction of batches read.
    package func run<Visitor: TraceVisitor>(
        _ visitor: inout Visitor, processes: Set<UInt32>? = nil, progress: ((Double) -> Void)? = nil
    ) {
        var selected = batches, selectedStarts = starts
        if let processes {
            let kept = batches.indices.filter { processes.contains(batches[$0].process) }
            selected = kept.map { batches[$0] }
            selectedStarts = kept.map { starts[$0] }
        }
        let first = runs.withLock { runs in
            runs += 1
            return runs == 1
        }
        var merge = BatchMerge(catalog: catalog, files: sources, batches: selected, starts: selectedStarts,
                               recordsDiagnostics: first)
        var matcher = SpanMatcher()
        var last: Int64?
        var count = 0
        while let top = merge.top() {
            if !merge.drops.isEmpty {
                for drop in merge.drops {
                    visitor.visit(TraceEvent(process: drop.process, thread: drop.thread, time: drop.time, swiftTask: 0,
                                             kind: .dropped(count: drop.count)))
                }
                merge.drops.removeAll(keepingCapacity: true)
            }
            // Fields read in place: copying the cursor would retain its tables.
            let process = merge.cursors[top].header.process
            let id = Int(merge.cursors[top].event.name)
            let resolved = id < merge.cursors[top].names.count ? merge.cursors[top].names[id] : nil
            let name = resolved ?? catalog.name(process, merge.cursors[top].event.name)
            let event = MergedEvent(process: process, thread: merge.cursors[top].header.thread, time: merge.cursors[top].time,
                                    name: name, raw: merge.cursors[top].event)
            matcher.handle(event, slot: merge.cursors[top].slot, processSlot: merge.cursors[top].processSlot,
                           slotOf: { merge.slot(process: $0, thread: $1) }, &visitor, catalog: catalog)
            last = event.time
            merge.pop()
            count += 1
            if count & 0xFFFF == 0, let progress { progress(merge.progress) }
        }
        merge.finish()
        matcher.finish(&visitor, last: last ?? 0)
        visitor.finish(last: last)
        progress?(1)
    }
}
