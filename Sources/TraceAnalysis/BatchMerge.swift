import CTraceABI
import TraceFormat
import TraceSystem

/// The second pass of a walk: decodes the batches the first pass indexed
/// and hands out their events in time order across threads and processes.
///
/// Each batch is one thread's events in time order, and no event of a
/// batch is earlier than the batch's base ticks. Batches sorted by base
/// time are merged like sorted runs: a batch joins the merge (its bytes
/// copied out of its frame, decoded as they are consumed) only when the
/// earliest pending event is not earlier than its base time, so the merge
/// holds the batches that overlap in time (about one per thread), not the
/// trace. Frames are decompressed again when a later batch needs them; a
/// few recent ones are cached.
///
/// An event timed outside the trace's window (`SessionWindow`) is not
/// handed out but counted by process: a diagnostic at the end. A batch's
/// start (`TraceWalk.starts(of:)`) is the time of its first event inside, so
/// the merge's order holds for the events it keeps.
///
/// A struct with cursors in an array (a heap of their indices): the
/// per-event path touches no class and needs no dynamic exclusivity check.
struct BatchMerge {
    /// A batch being merged: its bytes, decoder state and next event.
    struct Cursor {
        var header: BatchHeader
        var location: TraceReader.BatchLocation
        /// Activation order, which breaks ties between equal times.
        var order: Int
        var clockKind: UInt32
        /// The walk's dense numbers for the batch's (process, thread) and process.
        var slot: Int
        var processSlot: Int
        /// The batch's process's names by string id (`TraceCatalog.nameTable`).
        var names: [TraceName?]
        /// The batch's bytes (owned: freed when the cursor ends).
        var storage: UnsafeMutableRawBufferPointer
        var reader: ByteReader
        var state: EventState
        var segment: ClockConverter.Segment?
        var event = RawEvent()
        var time: Int64 = 0
        /// Events handed out so far.
        var kept = 0
    }

    private enum Step {
        case event
        case end
        case malformed(DecodeError, lostBytes: Int)
    }

    private let catalog: TraceCatalog
    private let files: [TraceSource]
    private let batches: [TraceReader.BatchLocation]
    private let starts: [Int64]
    private var nextBatch = 0
    /// Cursors by index; `heap` orders the live ones, `free` lists reusable slots.
    private(set) var cursors: [Cursor] = []
    private var heap: [Int] = []
    private var free: [Int] = []
    private var activated = 0
    private let decompressor: LZ4FrameDecompressor
    private var frames: [(key: FrameKey, content: [UInt8])] = []
    private var unknownEvents: [UInt8: Int] = [:]
    /// The trace's window (without one, every time is inside): a time t
    /// is inside when t - lower, as unsigned, is at most `span` (one
    /// comparison per event).
    private let lower: Int64
    private let span: UInt64
    /// Events timed outside the window, by process.
    private var outside: [UInt32: Int] = [:]
    /// Losses the batches taken in so far reported (`BatchHeader.droppedBefore`),
    /// for the walk to pass on.
    var drops: [(process: UInt32, thread: UInt32, time: Int64, count: UInt64)] = []

    private struct ThreadKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    /// Dense numbers for (process, thread) pairs and for processes, in order of first batch.
    private var slots: [ThreadKey: Int] = [:]
    private var processSlots: [UInt32: Int] = [:]

    private struct FrameKey: Equatable {
        var file: Int
        var offset: Int
    }

    /// Frames kept decompressed: batches in time order come from a few
    /// neighbouring frames.
    private static let cachedFrames = 8

    /// Whether what the merge finds goes into the catalog's diagnostics.
    private let recordsDiagnostics: Bool

    /// `batches` sorted by start, `starts` their starts (`TraceWalk.starts(of:)`).
    init(catalog: TraceCatalog, files: [TraceSource], batches: [TraceReader.BatchLocation], starts: [Int64],
         recordsDiagnostics: Bool) {
        self.catalog = catalog
        lower = catalog.window?.lower ?? .min
        span = UInt64(bitPattern: (catalog.window?.upper ?? .max) &- lower)
        self.recordsDiagnostics = recordsDiagnostics
        self.files = files
        self.batches = batches
        self.starts = starts
        guard let decompressor = try? LZ4FrameDecompressor() else {
            fatalError("liblz4 could not allocate a decompression context")
        }
        self.decompressor = decompressor
    }

    /// Fraction of batches taken into the merge.
    var progress: Double { batches.isEmpty ? 1 : Double(nextBatch) / Double(batches.count) }

    /// The time of each batch's first event inside the trace's window, nil
    /// for one that has none.
    static func firstTimesInside(_ batches: [TraceReader.BatchLocation], catalog: TraceCatalog,
                                 files: [TraceSource]) -> [Int64?] {
        var merge = BatchMerge(catalog: catalog, files: files, batches: [], starts: [], recordsDiagnostics: false)
        defer { merge.finish() }
        var times = [Int64?](repeating: nil, count: batches.count)
        // In file order, so that each frame is decompressed once: a scribbled
        // trace has thousands of such batches.
        let order = batches.indices.sorted {
            (batches[$0].file, batches[$0].frameOffset, $0) < (batches[$1].file, batches[$1].frameOffset, $1)
        }
        for batch in order {
            guard let index = merge.open(batches[batch], start: .max) else { continue }
            times[batch] = merge.cursors[index].time
            merge.retire(index)
        }
        return times
    }

    /// The slot of a thread that has had a batch, nil for one that has not.
    func slot(process: UInt32, thread: UInt32) -> Int? { slots[ThreadKey(process: process, thread: thread)] }

    /// The index in `cursors` of the one holding the earliest pending event,
    /// after taking in every batch that could hold an earlier one; nil at
    /// the end.
    mutating func top() -> Int? {
        while nextBatch < batches.count && (heap.isEmpty || starts[nextBatch] <= cursors[heap[0]].time) {
            activate(batches[nextBatch], start: starts[nextBatch])
            nextBatch += 1
        }
        return heap.first
    }

    /// Moves past the top cursor's event.
    mutating func pop() {
        guard let index = heap.first else { return }
        if step(index) {
            siftDown(0)
        } else {
            retire(index)
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
    }

    /// Frees what is left (a walk that stops early) and reports extension
    /// events skipped and events timed outside the window.
    mutating func finish() {
        for index in heap { retire(index) }
        heap = []
        for (kind, count) in unknownEvents.sorted(by: { $0.key < $1.key }) where recordsDiagnostics {
            catalog.add(ReaderDiagnostic(fileOffset: 0, problem: .unknownEvent(kind: kind, count: count)))
        }
        unknownEvents = [:]
        for (process, count) in outside.sorted(by: { $0.key < $1.key }) where recordsDiagnostics {
            catalog.add(ReaderDiagnostic(fileOffset: 0, problem: .outsideSession(process: process, count: count)))
        }
        outside = [:]
    }

    private mutating func retire(_ index: Int) {
        cursors[index].storage.deallocate()
        cursors[index].storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        cursors[index].names = []
        free.append(index)
    }

    private mutating func activate(_ location: TraceReader.BatchLocation, start: Int64) {
        guard let index = open(location, start: start) else { return }
        heap.append(index)
        siftUp(heap.count - 1)
    }

    /// A cursor on `location`'s first event inside the window (its index in
    /// `cursors`), nil if the batch has none or does not decode.
    private mutating func open(_ location: TraceReader.BatchLocation, start: Int64) -> Int? {
        guard let content = frame(location), location.body.upperBound <= content.count else { return nil }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(location.body.count, 1), alignment: 8)
        content.withUnsafeBytes { storage.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[location.body])) }
        var reader = ByteReader(UnsafeRawBufferPointer(rebasing: storage[0..<location.body.count]))
        guard var header = try? TraceReader.batchHeader(&reader, kernel: location.kernel) else {
            storage.deallocate()
            return nil
        }
        // A kernel batch's thread is the client's thread of that tid, if
        // the client recorded one: its events and the kernel's share a slot
        // and an index.
        if location.kernel, let tid = KernelThread.tid(ofKey: header.thread),
           let index = catalog.threadIndex(location.process, tid: tid) {
            header.thread = index
        }
        let key = ThreadKey(process: location.process, thread: header.thread)
        let slot = slots[key] ?? slots.count
        slots[key] = slot
        let processSlot = processSlots[location.process] ?? processSlots.count
        processSlots[location.process] = processSlot
        // The loss comes before the batch's first event. A batch with none
        // to keep has no time to place it at: the drops records still
        // count it (the report's totals; an export adds it at the end).
        if header.droppedBefore > 0 && isInside(start) {
            drops.append((header.process, header.thread, start, header.droppedBefore))
        }
        let cursor = Cursor(
            header: header, location: location, order: activated,
            // A kernel batch counts CLOCK_MONOTONIC nanoseconds, whatever its process's clock.
            clockKind: location.kernel ? UInt32(TC_CLOCK_MONOTONIC_NS)
                : catalog.processes[location.process]?.clockKind ?? UInt32(TC_CLOCK_MONOTONIC_NS), slot: slot,
            processSlot: processSlot,
            names: catalog.nameTable(location.process), storage: storage, reader: reader, state: header.initialState)
        activated += 1
        let index: Int
        if let reused = free.popLast() {
            cursors[reused] = cursor
            index = reused
        } else {
            cursors.append(cursor)
            index = cursors.count - 1
        }
        guard step(index) else {
            retire(index)
            return nil
        }
        return index
    }

    /// Advances cursor `index` to its next event inside the window; false
    /// when it has none.
    private mutating func step(_ index: Int) -> Bool {
        while true {
            switch Self.decodeNext(&cursors[index], unknown: &unknownEvents) {
            case .event:
                let ticks = cursors[index].event.ticks
                let time = catalog.clock.monotonicNanoseconds(ticks: ticks, clockKind: cursors[index].clockKind,
                                                              piece: &cursors[index].segment) ?? Int64(bitPattern: ticks)
                cursors[index].time = time
                if isInside(time) { return true }
                // Counted, and the batch goes on: after a base before the
                // window a later event may be inside (deltas are unsigned,
                // so after one past the window none is).
                countOutside(index)
            case .end:
                return false
            case .malformed(let error, let lost):
                guard recordsDiagnostics else { return false }
                let cursor = cursors[index]
                catalog.add(ReaderDiagnostic(
                    file: catalog.paths[cursor.location.file], fileOffset: cursor.location.frameOffset,
                    problem: .malformedEvents(reason: "\(error)", keptEvents: cursor.kept, lostBytes: lost)))
                return false
            }
        }
    }

    @inline(__always)
    private func isInside(_ time: Int64) -> Bool { UInt64(bitPattern: time &- lower) <= span }

    /// Out of line: the per-event path keeps its registers.
    @inline(never)
    private mutating func countOutside(_ index: Int) {
        outside[cursors[index].header.process, default: 0] += 1
    }

    /// Decodes the cursor's next event that is not a context change.
    private static func decodeNext(_ cursor: inout Cursor, unknown: inout [UInt8: Int]) -> Step {
        // One loop per decoder: with the choice inside the loop, every
        // event was decoded into a temporary and copied (callgrind: +0.6 %
        // of `report`).
        if cursor.header.kernel { return decodeNextKernel(&cursor, unknown: &unknown) }
        while !cursor.reader.isAtEnd {
            let start = cursor.reader.offset
            do {
                cursor.event = try EventDecoder.next(&cursor.reader, &cursor.state)
            } catch {
                return .malformed(error, lostBytes: cursor.reader.base.count - start)
            }
            switch cursor.event.kind {
            case .context: continue
            case .extension(let tag): unknown[tag, default: 0] += 1
            default:
                cursor.kept += 1
                return .event
            }
        }
        return .end
    }

    @inline(never)
    private static func decodeNextKernel(_ cursor: inout Cursor, unknown: inout [UInt8: Int]) -> Step {
        while !cursor.reader.isAtEnd {
            let start = cursor.reader.offset
            do {
                cursor.event = try KernelEventDecoder.next(&cursor.reader, &cursor.state)
            } catch {
                return .malformed(error, lostBytes: cursor.reader.base.count - start)
            }
            if case .extension(let tag) = cursor.event.kind {
                unknown[tag, default: 0] += 1
                continue
            }
            cursor.kept += 1
            return .event
        }
        return .end
    }

    private mutating func frame(_ location: TraceReader.BatchLocation) -> [UInt8]? {
        let key = FrameKey(file: location.file, offset: location.frameOffset)
        if let cached = frames.firstIndex(where: { $0.key == key }) { return frames[cached].content }
        let file = files[location.file]
        let range = location.frameOffset..<(location.frameOffset + location.frameLength)
        guard range.upperBound <= file.size else { return nil }
        let outcome = decompressor.decodeFrame(UnsafeRawBufferPointer(rebasing: file.bytes[range]),
                                               maximumContent: TraceReader.maximumFrameContent)
        file.release(range)
        guard case .frame(_, let content) = outcome else { return nil }
        if frames.count == Self.cachedFrames { frames.removeFirst() }
        frames.append((key, content))
        return content
    }

    @inline(__always)
    private func earlier(_ a: Int, _ b: Int) -> Bool {
        let x = cursors[a].time, y = cursors[b].time
        return x != y ? x < y : cursors[a].order < cursors[b].order
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard earlier(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var best = left
            if left + 1 < heap.count && earlier(heap[left + 1], heap[left]) { best = left + 1 }
            guard earlier(heap[best], heap[parent]) else { return }
            heap.swapAt(best, parent)
            parent = best
        }
    }
}
