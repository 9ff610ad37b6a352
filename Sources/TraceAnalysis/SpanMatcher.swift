import TraceFormat

/// Pairs task creations with their ends and region begins with their ends
/// as events stream by in time order, and flags region misuse per the rules
/// of `TraceRegion`. Holds only what is open, and per thread the last
/// `recentCapacity` regions ended, to tell a second end from an orphan.
///
/// Regions are kept per begin thread (a thread slot the walk assigns once
/// per batch), in begin order, since an end names its begin by thread and
/// sequence: the common lookup is the newest open region of the ending
/// thread, with no hashing.
struct SpanMatcher {
    private struct TaskKey: Hashable {
        var process: UInt32
        var id: UInt64
    }

    /// A Swift task that owns regions.
    private struct SwiftOwner: Hashable {
        var process: UInt32
        var swiftTask: UInt64
    }

    /// An open region on an owner's stack.
    private struct Entry {
        var slot: Int
        var sequence: UInt64
        var serial: UInt64
    }

    private struct ThreadState {
        /// Open regions begun on this thread, in begin order.
        var open: [RegionSpan] = []
        /// This thread's stack of regions begun outside Swift tasks.
        var stack: [Entry] = []
        /// Ring of the last regions ended that began on this thread.
        var recent: [RegionSpan] = []
        var recentNext = 0
    }

    static let recentCapacity = 64

    private var tasks: [TaskKey: TaskSpan] = [:]
    private var threads: [ThreadState] = []
    private var swiftStacks: [SwiftOwner: [Entry]] = [:]
    private var serial: UInt64 = 0

    mutating func handle<Visitor: TraceVisitor>(
        _ event: TraceEvent, slot: Int, slotOf: (UInt32, UInt32) -> Int?, _ visitor: inout Visitor, catalog: TraceCatalog
    ) {
        visitor.event(event, catalog: catalog)
        let raw = event.raw
        switch raw.kind {
        case .regionBegin:
            ensure(slot)
            let entry = Entry(slot: slot, sequence: raw.regionSequence, serial: serial + 1)
            let depth: Int
            let parent: UInt64
            if raw.swiftTask == 0 {
                depth = threads[slot].stack.count
                parent = threads[slot].stack.last?.serial ?? 0
                threads[slot].stack.append(entry)
            } else {
                let owner = SwiftOwner(process: event.process, swiftTask: raw.swiftTask)
                var found = (0, UInt64(0))
                modify(&swiftStacks[owner, default: []]) { stack in
                    found = (stack.count, stack.last?.serial ?? 0)
                    stack.append(entry)
                }
                (depth, parent) = found
            }
            serial += 1
            let region = RegionSpan(
                process: event.process, type: event.name, task: raw.task, serial: serial, parent: parent, depth: depth,
                beginThread: event.thread, swiftTask: raw.swiftTask, sequence: raw.regionSequence, begin: event.time,
                end: nil, endThread: nil, stack: raw.stack, misuse: [])
            threads[slot].open.append(region)
            visitor.regionBegan(region)
        case .regionEnd, .regionEndForeign:
            let beginSlot = raw.regionThread == event.thread ? slot : slotOf(event.process, raw.regionThread)
            guard let beginSlot, beginSlot < threads.count,
                  let index = threads[beginSlot].open.lastIndex(where: { $0.sequence == raw.regionSequence }) else {
                if let beginSlot, beginSlot < threads.count,
                   var again = threads[beginSlot].recent.last(where: { $0.sequence == raw.regionSequence }) {
                    again.misuse.insert(.endedTwice)
                    visitor.regionEndedAgain(again, time: event.time, thread: event.thread)
                } else {
                    visitor.orphanEnd(OrphanEnd(process: event.process, thread: event.thread, beginThread: raw.regionThread,
                                                beginSequence: raw.regionSequence, time: event.time))
                }
                return
            }
            var region = threads[beginSlot].open.remove(at: index)
            region.end = event.time
            region.endThread = event.thread
            let sameOwner = region.swiftTask == 0
                ? raw.swiftTask == 0 && event.thread == region.beginThread
                : raw.swiftTask == region.swiftTask
            if !sameOwner { region.misuse.insert(.endedOnAnotherTask) }
            if !pop(region, slot: beginSlot) { region.misuse.insert(.endedOutOfOrder) }
            remember(region, slot: beginSlot)
            visitor.regionEnded(region)
        case .taskBegin:
            let key = TaskKey(process: event.process, id: raw.task)
            let task = TaskSpan(process: event.process, id: raw.task, parent: raw.parentTask, type: event.name,
                                begin: event.time, end: nil, thread: event.thread, swiftTask: raw.swiftTask, stack: raw.stack)
            // The same id twice: only a damaged file does this; the first stays unfinished.
            if let replaced = tasks.updateValue(task, forKey: key) { visitor.taskEnded(replaced) }
            visitor.taskBegan(task)
        case .taskEnd:
            let key = TaskKey(process: event.process, id: raw.task)
            guard var task = tasks.removeValue(forKey: key) else {
                visitor.taskEndWithoutBegin(process: event.process, id: raw.task, time: event.time)
                return
            }
            task.end = event.time
            visitor.taskEnded(task)
        case .log:
            visitor.log(LogRecord(process: event.process, thread: event.thread, time: event.time, swiftTask: raw.swiftTask,
                                  task: raw.task, category: event.name, message: raw.message, truncated: raw.truncated,
                                  stack: raw.stack))
        case .counterInteger:
            visitor.counter(CounterRecord(process: event.process, thread: event.thread, time: event.time, name: event.name,
                                          value: .integer(raw.integerValue)))
        case .counterDouble:
            visitor.counter(CounterRecord(process: event.process, thread: event.thread, time: event.time, name: event.name,
                                          value: .double(raw.doubleValue)))
        case .context, .extension:
            break
        }
    }

    /// Reports what is still open: regions innermost first, then tasks in
    /// creation order.
    mutating func finish<Visitor: TraceVisitor>(_ visitor: inout Visitor) {
        var open = threads.flatMap(\.open)
        open.sort { ($0.depth, $0.serial) > ($1.depth, $1.serial) }
        for var region in open {
            region.misuse.insert(.neverEnded)
            visitor.regionEnded(region)
        }
        threads = []
        swiftStacks = [:]
        let unfinished = tasks.values.sorted { ($0.begin ?? .min, $0.id) < ($1.begin ?? .min, $1.id) }
        for task in unfinished { visitor.taskEnded(task) }
        tasks = [:]
    }

    private mutating func ensure(_ slot: Int) {
        if slot >= threads.count { threads.append(contentsOf: repeatElement(ThreadState(), count: slot + 1 - threads.count)) }
    }

    /// Takes `region` off its owner's stack; false if it was not on top.
    private mutating func pop(_ region: RegionSpan, slot: Int) -> Bool {
        func take(_ stack: inout [Entry]) -> Bool {
            guard let position = stack.lastIndex(where: { $0.serial == region.serial }) else { return true }
            stack.remove(at: position)
            return position == stack.count
        }
        if region.swiftTask == 0 { return take(&threads[slot].stack) }
        // Moved out and back, so the array is not copied.
        let owner = SwiftOwner(process: region.process, swiftTask: region.swiftTask)
        guard var stack = swiftStacks.removeValue(forKey: owner) else { return true }
        let onTop = take(&stack)
        if !stack.isEmpty { swiftStacks[owner] = stack }
        return onTop
    }

    private mutating func remember(_ region: RegionSpan, slot: Int) {
        if threads[slot].recent.count < Self.recentCapacity {
            threads[slot].recent.append(region)
        } else {
            threads[slot].recent[threads[slot].recentNext] = region
            threads[slot].recentNext = (threads[slot].recentNext + 1) % Self.recentCapacity
        }
    }

    private func modify<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }
}
