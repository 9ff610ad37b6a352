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
/// An event as the merge yields it: raw, its name resolved, before matching.
struct MergedEvent {
    var process: UInt32
    var thread: UInt32
    var time: Int64
    /// The event's type, category or counter name (the empty name for ends).
    var name: TraceName
    var raw: RawEvent
}

struct SpanMatcher {
    /// Per process (by the walk's dense process slot): open tasks by id and
    /// Swift tasks' region stacks by Swift task id, as indices into pools.
    private struct ProcessState {
        var tasks = SerialTable()
        var owners = SerialTable()
    }

    /// An open region on an owner's stack.
    private struct Entry {
        var slot: Int
        var sequence: UInt64
        var serial: UInt64
    }

    private struct ThreadRegions {
        /// Open regions begun on this thread, in begin order.
        var open: [RegionSpan] = []
        /// This thread's stack of regions begun outside Swift tasks.
        var stack: [Entry] = []
        /// Ring of the last regions ended that began on this thread.
        var recent: [RegionSpan] = []
        var recentNext = 0
    }

    static let recentCapacity = 64

    private var processes: [ProcessState] = []
    /// Open tasks (`nil`: a free place), and free places.
    private var taskPool: [TaskSpan?] = []
    private var freeTasks: [Int32] = []
    /// Region stacks of Swift tasks that have regions open, and free places.
    private var ownerStacks: [[Entry]] = []
    private var freeStacks: [Int32] = []
    private var threads: [ThreadRegions] = []
    private var serial: UInt64 = 0
    private var taskTypeName: TraceName?
    private var taskTypeResolved = false

    mutating func handle<Visitor: TraceVisitor>(
        _ event: MergedEvent, slot: Int, processSlot: Int, slotOf: (UInt32, UInt32) -> Int?, _ visitor: inout Visitor,
        catalog: TraceCatalog
    ) {
        let raw = event.raw
        @inline(__always) func visit(_ kind: TraceEvent.Kind) {
            visitor.visit(TraceEvent(process: event.process, thread: event.thread, time: event.time, swiftTask: raw.swiftTask,
                                     kind: kind))
        }
        if processSlot >= processes.count {
            processes.append(contentsOf: repeatElement(ProcessState(), count: processSlot + 1 - processes.count))
        }
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
                let index: Int
                if let existing = processes[processSlot].owners[raw.swiftTask] {
                    index = Int(existing)
                } else {
                    index = Self.take(&ownerStacks, &freeStacks, [])
                    processes[processSlot].owners.insert(raw.swiftTask, Int32(index))
                }
                depth = ownerStacks[index].count
                parent = ownerStacks[index].last?.serial ?? 0
                ownerStacks[index].append(entry)
            }
            serial += 1
            let region = RegionSpan(
                process: event.process, type: event.name, task: raw.task, serial: serial, parent: parent, depth: depth,
                beginThread: event.thread, swiftTask: raw.swiftTask, sequence: raw.regionSequence, begin: event.time,
                end: nil, endThread: nil, stack: raw.stack, misuse: [])
            threads[slot].open.append(region)
            visit(.regionBegin(region))
        case .regionEnd, .regionEndForeign:
            let beginSlot = raw.regionThread == event.thread ? slot : slotOf(event.process, raw.regionThread)
            guard let beginSlot, beginSlot < threads.count,
                  let index = threads[beginSlot].open.lastIndex(where: { $0.sequence == raw.regionSequence }) else {
                if let beginSlot, beginSlot < threads.count,
                   var again = threads[beginSlot].recent.last(where: { $0.sequence == raw.regionSequence }) {
                    again.misuse.insert(.endedTwice)
                    visit(.regionEndAgain(again))
                } else {
                    visit(.orphanEnd(OrphanEnd(beginThread: raw.regionThread, beginSequence: raw.regionSequence)))
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
            if !pop(region, slot: beginSlot, processSlot: processSlot) { region.misuse.insert(.endedOutOfOrder) }
            remember(region, slot: beginSlot)
            visit(.regionEnd(region))
        case .taskBegin:
            let task = TaskSpan(process: event.process, id: raw.task, parent: raw.parentTask, type: event.name,
                                begin: event.time, end: nil, thread: event.thread, swiftTask: raw.swiftTask, stack: raw.stack)
            if let existing = processes[processSlot].tasks[raw.task] {
                // The same id twice: only a damaged file does this; the first stays unfinished.
                if let replaced = taskPool[Int(existing)] { visit(.taskEnd(replaced)) }
                taskPool[Int(existing)] = task
            } else {
                let index = Self.take(&taskPool, &freeTasks, task)
                processes[processSlot].tasks.insert(raw.task, Int32(index))
            }
            visit(.taskBegin(task))
        case .taskEnd:
            guard let index = processes[processSlot].tasks.removeValue(forKey: raw.task).map(Int.init),
                  var task = taskPool[index] else {
                visit(.taskEndWithoutBegin(id: raw.task))
                return
            }
            taskPool[index] = nil
            freeTasks.append(Int32(index))
            task.end = event.time
            visit(.taskEnd(task))
        case .log:
            // A `task.type` log names the open task's type from here on
            // (docs/format.md, "Spans": a span renamed after it began, as
            // an HTTP server's is once routing found the route); analysis
            // sees the last one when the task ends.
            if !taskTypeResolved {
                // Every name a string record defines is in the catalog
                // before the walk: one lookup serves the whole walk.
                taskTypeName = catalog.lookup(TraceCatalog.taskTypeCategory)
                taskTypeResolved = true
            }
            if raw.task != 0, raw.message.count > 0, event.name == taskTypeName,
               let index = processes[processSlot].tasks[raw.task].map(Int.init), taskPool[index] != nil {
                taskPool[index]?.type = catalog.intern(String(decoding: raw.message, as: UTF8.self))
            }
            visit(.log(LogRecord(task: raw.task, category: event.name, message: raw.message, truncated: raw.truncated,
                                 stack: raw.stack)))
        case .counterInteger:
            visit(.counter(CounterRecord(name: event.name, value: .integer(raw.integerValue))))
        case .counterDouble:
            visit(.counter(CounterRecord(name: event.name, value: .double(raw.doubleValue))))
        case .extension(let tag):
            visit(.unknown(tag: tag))
        case .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat:
            visit(Self.kernelKind(raw, name: event.name, catalog: catalog))
        case .context:
            break
        }
    }

    /// A kernel event as the walk hands it out; out of line, so that
    /// annotation events do not pay for its frame.
    @inline(never)
    private static func kernelKind(_ raw: RawEvent, name: TraceName, catalog: TraceCatalog) -> TraceEvent.Kind {
        let k = raw.kernel
        switch raw.kind {
        case .switchOut:
            return .switchOut(SwitchOut(state: ThreadState(raw: k.state), wait: WaitReason(raw: k.wait), why: name, cpu: k.cpu,
                                        stack: raw.stack))
        case .switchIn: return .switchIn(cpu: k.cpu)
        case .wakeup:
            let waker = k.wakerProcess == 0 || k.wakerTid == 0 ? 0
                : catalog.threadIndex(k.wakerProcess, tid: k.wakerTid) ?? KernelThread.key(k.wakerTid)
            return .wakeup(Wakeup(wakerProcess: k.wakerProcess, wakerThread: waker, cpu: k.cpu))
        case .cpuSample: return .cpuSample(cpu: k.cpu, stack: raw.stack)
        case .threadName: return .threadName(name)
        case .threadExit: return .threadExit
        default: return .processStat(ProcessStat(rawValue: k.what), value: UInt64(bitPattern: raw.integerValue))
        }
    }

    /// Reports what is still open, at `last` (the last event's time):
    /// regions innermost first, then tasks in creation order.
    mutating func finish<Visitor: TraceVisitor>(_ visitor: inout Visitor, last: Int64) {
        var open = threads.flatMap(\.open)
        open.sort { ($0.depth, $0.serial) > ($1.depth, $1.serial) }
        for var region in open {
            region.misuse.insert(.neverEnded)
            visitor.visit(TraceEvent(process: region.process, thread: region.beginThread, time: last, swiftTask: 0,
                                     kind: .regionEnd(region)))
        }
        threads = []
        ownerStacks = []
        let unfinished = taskPool.compactMap { $0 }.sorted { ($0.begin ?? .min, $0.id) < ($1.begin ?? .min, $1.id) }
        for task in unfinished {
            visitor.visit(TraceEvent(process: task.process, thread: task.thread, time: last, swiftTask: 0, kind: .taskEnd(task)))
        }
        taskPool = []
        processes = []
    }

    /// A place in `pool` for `value`: a free one, or a new one.
    private static func take<T>(_ pool: inout [T], _ free: inout [Int32], _ value: T) -> Int {
        if let index = free.popLast() {
            pool[Int(index)] = value
            return Int(index)
        }
        pool.append(value)
        return pool.count - 1
    }

    private mutating func ensure(_ slot: Int) {
        if slot >= threads.count { threads.append(contentsOf: repeatElement(ThreadRegions(), count: slot + 1 - threads.count)) }
    }

    /// Takes `region` off its owner's stack; false if it was not on top.
    private mutating func pop(_ region: RegionSpan, slot: Int, processSlot: Int) -> Bool {
        func take(_ stack: inout [Entry]) -> Bool {
            guard let position = stack.lastIndex(where: { $0.serial == region.serial }) else { return true }
            stack.remove(at: position)
            return position == stack.count
        }
        if region.swiftTask == 0 { return take(&threads[slot].stack) }
        guard let index = processes[processSlot].owners[region.swiftTask].map(Int.init) else { return true }
        let onTop = take(&ownerStacks[index])
        if ownerStacks[index].isEmpty {
            _ = processes[processSlot].owners.removeValue(forKey: region.swiftTask)
            freeStacks.append(Int32(index))
        }
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
}
