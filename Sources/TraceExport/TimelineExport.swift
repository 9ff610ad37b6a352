package import TraceAnalysis

/// What every export format shares: the trace's tasks and regions, as the
/// analysis pass matches them, go through `SliceLayout` to lanes; logs,
/// counters and drops go to the format as they come. Events arrive once, in
/// time order, so memory holds only what is open (and what the layout holds
/// back), never the trace.
package final class TimelineExport {
    package let format: any ExportFormat
    package let layout: SliceLayout
    // Read or written on every event: without `unchecked` each access pays
    // a dynamic exclusivity check. Only this class's methods write them, and
    // what they call (the layout, the format) never calls back into it.
    /// Open regions by the walk's serial number.
    @exclusivity(unchecked) private var regions = SerialTable()
    private var dropTotals: [UInt32: UInt64] = [:]
    /// Slices written: tasks and regions (each once, whatever happened to it).
    @exclusivity(unchecked) package private(set) var taskSlices = 0
    @exclusivity(unchecked) package private(set) var regionSlices = 0
    @exclusivity(unchecked) package private(set) var logs = 0
    @exclusivity(unchecked) package private(set) var counters = 0
    package private(set) var kernelEvents = 0
    /// Process stats of kinds this reader does not know, left out.
    package private(set) var unknownStats = 0

    package init(format: any ExportFormat, holdLimit: Int = 1 << 18) {
        self.format = format
        layout = SliceLayout(sink: format, holdLimit: holdLimit)
    }

    // MARK: Tasks

    package func taskBegan(process: UInt32, id: UInt64, parent: UInt64, type: UInt32, time: Int64,
                           thread: UInt32, swiftTask: UInt64, stack: UInt32) throws {
        var slice = TimelineSlice(kind: .task, process: process, name: type, begin: time, task: id, beginThread: thread)
        slice.parentTask = parent
        slice.swiftTask = swiftTask
        slice.stack = stack
        try layout.taskBegan(slice)
        taskSlices += 1
    }

    /// A task's first end; `end == nil` at the end of the trace for a task
    /// never ended (`finish` closes it). An end whose creation is not in the
    /// trace draws nothing: the walk cannot tell a task created before the
    /// trace from a second end of one, and neither has a slice to close.
    package func taskEnded(process: UInt32, id: UInt64, end: Int64?) throws {
        guard let end else { return }
        try layout.taskEnded(process: process, task: id, end: end)
    }

    // MARK: Regions

    package func regionBegan(process: UInt32, serial: UInt64, thread: UInt32, type: UInt32, task: UInt64,
                             swiftTask: UInt64, time: Int64, stack: UInt32) throws {
        var slice = TimelineSlice(kind: .region, process: process, name: type, begin: time, task: task, beginThread: thread)
        slice.swiftTask = swiftTask
        slice.stack = stack
        let handle = try layout.regionBegan(slice, owner: .init(swiftTask: swiftTask, thread: thread))
        regions.insert(serial, handle)
        regionSlices += 1
    }

    /// A region's first end; `end == nil` at the end of the trace for one
    /// never ended (closed by `finish`, innermost first).
    package func regionEnded(serial: UInt64, end: Int64?, endThread: UInt32, flags: TimelineSlice.Flags) throws {
        guard let end else { return }
        guard let handle = regions.removeValue(forKey: serial) else { return }
        try layout.regionEnded(handle, end: end, endThread: endThread, flags: flags)
    }

    // MARK: The rest

    package func log(_ log: ExportLog) throws {
        logs += 1
        try format.log(log)
    }

    package func counter(_ counter: ExportCounter) throws {
        counters += 1
        try format.counter(counter)
    }

    package func kernel(_ event: TraceEvent) throws {
        kernelEvents += 1
        // A newer traced's kind of stat: no format can name it or its unit.
        if case .processStat(nil, _) = event.kind {
            unknownStats += 1
            return
        }
        try format.kernel(event)
    }

    package func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64) throws {
        guard count > 0 else { return }
        let total = dropTotals[process, default: 0].saturatingAdd(count)
        dropTotals[process] = total
        try format.dropped(process: process, thread: thread, time: time, count: count, total: total)
    }

    /// Ends what is still open at `lastTime`, and raises each process's
    /// drop count to `recordedDrops` (its drops records' total) there.
    package func finish(lastTime: Int64, recordedDrops: [UInt32: UInt64]) throws {
        try layout.finish(at: lastTime)
        for (process, total) in recordedDrops.sorted(by: { $0.key < $1.key }) where total > dropTotals[process, default: 0] {
            try format.dropped(process: process, thread: 0, time: lastTime, count: total - dropTotals[process, default: 0],
                               total: total)
            dropTotals[process] = total
        }
        try format.finish(at: lastTime)
    }
}
