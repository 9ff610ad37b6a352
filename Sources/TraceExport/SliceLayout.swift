import TraceAnalysis

/// Puts tasks and regions on lanes (tracks) so that the slices of every
/// lane nest strictly, which is all a timeline viewer can draw on one track
/// (Perfetto: a slice end closes the innermost open slice of its track).
///
/// Placement:
/// - A trace task gets a lane of its own holding the task's slice; the
///   regions of that task nest on it, those of one Swift task (or one thread
///   outside Swift tasks) at a time; regions that run meanwhile in other
///   Swift tasks (child tasks: `async let`, task groups) go on sibling lanes
///   of the task, each bound to one Swift task while it has regions open.
/// - A region outside trace tasks goes on its Swift task's lane, or, outside
///   Swift tasks, on its thread's lane.
///
/// Code that uses regions correctly nests them; misuse does not: a region
/// ended while one begun after it (on the same lane) is still open, or a
/// task ended while its regions are open. The begin of a slice is therefore
/// held back until the outermost held-back slice of its lane ends, when
/// everything between is known to nest and is written in order. A region
/// that ends out of order is then taken off its lane and drawn on an
/// overflow lane of its process; regions still open when their task's slice
/// ends leave the task's lane and go to an overflow lane when they end.
///
/// Memory: what is held back, at most `holdLimit` entries in all. Past it,
/// the begin of the oldest held-back slice of the fullest lane is written
/// (committed). A committed slice cannot move: if it ends out of order, the
/// committed slices above it end there (flagged `cutShort`) and the held-back
/// ones move to overflow lanes; a child task created after its parent's
/// begin was committed gets no flow from it. Neither happens below the limit.
package final class SliceLayout {
    package struct Owner: Hashable {
        var swiftTask: UInt64
        var thread: UInt32
        package init(swiftTask: UInt64, thread: UInt32) {
            self.swiftTask = swiftTask
            self.thread = swiftTask == 0 ? thread : 0
        }
    }

    private struct ThreadKey: Hashable {
        var process: UInt32
        var thread: UInt32
    }

    private struct SwiftKey: Hashable {
        var process: UInt32
        var swiftTask: UInt64
    }

    private struct Entry {
        var slice: Int32
        var isEnd: Bool
        var dead = false
    }

    private struct Lane {
        var info: TimelineLane
        var stack: [Int32] = []
        var held: [Entry] = []
        /// Slices at the bottom of `stack` whose begin is written; the rest are held back.
        var committed = 0
        var regions = 0
        var owner: Owner?
        /// The task group it belongs to (-1: none).
        var group: Int32 = -1
        /// The group's next sibling lane (-1: none): a group's lanes are a
        /// list from its own lane, in the order they were made.
        var nextSibling: Int32 = -1

        // What happens to a lane on every begin and end, in one access to
        // it each: every access to `lanes[i]` checks that the array is not
        // shared (copy-on-write), and so does every change of its arrays.

        /// Opens `handle` on the lane, its begin held back; returns the
        /// index of its begin's entry.
        mutating func open(_ handle: Int32) -> Int {
            held.append(Entry(slice: handle, isEnd: false))
            stack.append(handle)
            return held.count - 1
        }

        /// Closes the innermost open slice, `handle`, and holds back its end.
        mutating func closeTop(_ handle: Int32, isRegion: Bool) {
            stack.removeLast()
            if committed > stack.count { committed -= 1 }
            leave(isRegion: isRegion)
            held.append(Entry(slice: handle, isEnd: true))
        }

        /// A slice left the lane: a lane of a task group without regions
        /// is free for any owner.
        mutating func leave(isRegion: Bool) {
            guard isRegion else { return }
            regions -= 1
            if regions == 0, group >= 0 { owner = nil }
        }
    }

    /// A trace task's lanes: its own (`first`) and the siblings linked from
    /// it (`Lane.nextSibling`). Plain values only: groups are read on every
    /// region's begin, and copying one that held an array cost a retain and
    /// a release each time.
    private struct TaskGroup {
        var process: UInt32
        var task: UInt64
        var first: Int32
        /// The last sibling lane (-1: none), where the next one is linked.
        var lastSibling: Int32 = -1
        var siblingCount = 0
        /// Its task's slice while open (-1: none).
        var slice: Int32 = -1
        var ended = false
        /// The next group whose task has the same id in another process (-1: none).
        var nextSameID: Int32 = -1
    }

    package let sink: any TimelineSink
    private let holdLimit: Int
    // The layout's tables are read and written several times per event;
    // dynamic exclusivity checks on them cost a fifth of an export. Only
    // this class's methods touch them, and the sink it calls never calls
    // back into it.
    @exclusivity(unchecked) private var slices: [TimelineSlice] = []
    @exclusivity(unchecked) private var freeSlices: [Int32] = []
    @exclusivity(unchecked) private var lanes: [Lane] = []
    @exclusivity(unchecked) private var freeLanes: [Int32] = []
    @exclusivity(unchecked) private var groups: [TaskGroup] = []
    @exclusivity(unchecked) private var freeGroups: [Int32] = []
    /// Groups by task id. Ids are unique per process only: the groups of
    /// one id in several processes are chained (`TaskGroup.nextSameID`).
    /// One table, not one per process: a table inside an array element is
    /// copied (its arrays retained and released) to be read.
    @exclusivity(unchecked) private var groupsByTask = SerialTable()
    @exclusivity(unchecked) private var threadLanes: [ThreadKey: Int32] = [:]
    @exclusivity(unchecked) private var swiftLanes: [SwiftKey: Int32] = [:]
    @exclusivity(unchecked) private var overflow: [UInt32: [OverflowLane]] = [:]
    /// Flows out of the task slices that have children, by slice handle.
    @exclusivity(unchecked) private var flows: [Int32: [UInt64]] = [:]
    @exclusivity(unchecked) private var nextFlowID: UInt64 = 1
    @exclusivity(unchecked) private var heldEntries = 0
    /// Slices committed because of `holdLimit` (0 below it).
    package private(set) var forcedCommits = 0
    private static let noFlows: [UInt64] = []

    private struct OverflowLane {
        var lane: Int32
        var lastEnd: Int64
    }

    package init(sink: any TimelineSink, holdLimit: Int = 1 << 18) {
        self.sink = sink
        self.holdLimit = holdLimit
    }

    // MARK: Input

    /// A task's creation.
    package func taskBegan(_ slice: TimelineSlice) throws {
        let group = try group(process: slice.process, task: slice.task, name: slice.name)
        // A second creation of one id (ids are unique per process): the first counts.
        guard groups[Int(group)].slice < 0, !groups[Int(group)].ended else { return }
        var slice = slice
        if slice.parentTask != 0, let parentGroup = findGroup(process: slice.process, task: slice.parentTask) {
            let parent = groups[Int(parentGroup)].slice
            if parent >= 0, slices[Int(parent)].state == .pending {
                slice.flowIn = nextFlowID
                flows[parent, default: []].append(nextFlowID)
                slices[Int(parent)].hasFlowsOut = true
                nextFlowID += 1
            }
        }
        let handle = allocate(slice)
        groups[Int(group)].slice = handle
        try push(handle, on: groups[Int(group)].first)
    }

    /// A task's first end. False if its creation was not seen.
    @discardableResult
    package func taskEnded(process: UInt32, task: UInt64, end: Int64) throws -> Bool {
        guard let group = findGroup(process: process, task: task), groups[Int(group)].slice >= 0 else { return false }
        let handle = groups[Int(group)].slice
        slices[Int(handle)].end = end
        groups[Int(group)].ended = true
        groups[Int(group)].slice = -1
        try close(handle, regionMovesAside: false)
        try releaseGroupIfDone(group)
        return true
    }

    /// A region's begin; `owner` is who runs it. Returns its slice's handle.
    package func regionBegan(_ slice: TimelineSlice, owner: Owner) throws -> Int32 {
        let lane: Int32
        if slice.task != 0 {
            lane = try taskLane(process: slice.process, task: slice.task, owner: owner)
        } else if owner.swiftTask != 0 {
            lane = try swiftLane(SwiftKey(process: slice.process, swiftTask: owner.swiftTask))
        } else {
            lane = try threadLane(ThreadKey(process: slice.process, thread: slice.beginThread))
        }
        let handle = allocate(slice)
        lanes[Int(lane)].regions += 1
        try push(handle, on: lane)
        return handle
    }

    /// A region's end (first end).
    package func regionEnded(_ handle: Int32, end: Int64, endThread: UInt32, flags: TimelineSlice.Flags) throws {
        slices[Int(handle)].end = end
        slices[Int(handle)].endThread = endThread
        slices[Int(handle)].flags.formUnion(flags)
        try close(handle, regionMovesAside: true)
    }

    /// Ends everything still open at `time` (flagged `neverEnded`) and
    /// writes everything held back.
    package func finish(at time: Int64) throws {
        for index in lanes.indices {
            while let top = lanes[index].stack.last {
                slices[Int(top)].end = max(time, slices[Int(top)].begin)
                slices[Int(top)].flags.insert(.neverEnded)
                try close(top, regionMovesAside: false)
            }
        }
        for index in slices.indices where slices[index].state == .floating {
            slices[index].end = max(time, slices[index].begin)
            slices[index].flags.insert(.neverEnded)
            try drawOnOverflow(Int32(index))
        }
    }

    // MARK: Lanes

    private func findGroup(process: UInt32, task: UInt64) -> Int32? {
        var group = groupsByTask.find(task) ?? -1
        while group >= 0 {
            if groups[Int(group)].process == process { return group }
            group = groups[Int(group)].nextSameID
        }
        return nil
    }

    private func group(process: UInt32, task: UInt64, name: UInt32) throws -> Int32 {
        if let found = findGroup(process: process, task: task) { return found }
        let lane = try newLane(TimelineLane(id: 0, process: process, kind: .task(id: task, index: 0), taskName: name))
        let group = TaskGroup(process: process, task: task, first: lane)
        let index: Int32
        if let free = freeGroups.popLast() {
            groups[Int(free)] = group
            index = free
        } else {
            groups.append(group)
            index = Int32(groups.count - 1)
        }
        lanes[Int(lane)].group = index
        groups[Int(index)].nextSameID = groupsByTask.find(task) ?? -1
        groupsByTask.insert(task, index)
        return index
    }

    /// The lane of `task`'s group that `owner` runs on: the one it has, else
    /// the first without regions, else a new sibling.
    private func taskLane(process: UInt32, task: UInt64, owner: Owner) throws -> Int32 {
        let group = try group(process: process, task: task, name: 0)
        let first = groups[Int(group)].first
        var lane = first
        while lane >= 0 {
            if lanes[Int(lane)].owner == owner { return lane }
            lane = lanes[Int(lane)].nextSibling
        }
        lane = first
        while lane >= 0 {
            if lanes[Int(lane)].regions == 0 {
                lanes[Int(lane)].owner = owner
                return lane
            }
            lane = lanes[Int(lane)].nextSibling
        }
        var info = TimelineLane(id: 0, process: process, kind: .task(id: task, index: groups[Int(group)].siblingCount + 1))
        info.taskName = lanes[Int(first)].info.taskName
        lane = try newLane(info)
        lanes[Int(lane)].owner = owner
        lanes[Int(lane)].group = group
        let last = groups[Int(group)].lastSibling
        lanes[Int(last >= 0 ? last : first)].nextSibling = lane
        groups[Int(group)].lastSibling = lane
        groups[Int(group)].siblingCount += 1
        return lane
    }

    private func swiftLane(_ key: SwiftKey) throws -> Int32 {
        if let lane = swiftLanes[key] { return lane }
        let lane = try newLane(TimelineLane(id: 0, process: key.process, kind: .swiftTask(key.swiftTask)))
        swiftLanes[key] = lane
        return lane
    }

    private func threadLane(_ key: ThreadKey) throws -> Int32 {
        if let lane = threadLanes[key] { return lane }
        let lane = try newLane(TimelineLane(id: 0, process: key.process, kind: .thread(key.thread)))
        threadLanes[key] = lane
        return lane
    }

    private func newLane(_ info: TimelineLane) throws -> Int32 {
        var info = info
        info.id = try sink.laneCreated(info)
        if let index = freeLanes.popLast() {
            // A freed lane keeps its arrays' storage.
            lanes[Int(index)].info = info
            lanes[Int(index)].stack.removeAll(keepingCapacity: true)
            lanes[Int(index)].held.removeAll(keepingCapacity: true)
            lanes[Int(index)].committed = 0
            lanes[Int(index)].regions = 0
            lanes[Int(index)].owner = nil
            lanes[Int(index)].group = -1
            lanes[Int(index)].nextSibling = -1
            return index
        }
        lanes.append(Lane(info: info))
        return Int32(lanes.count - 1)
    }

    /// Forgets an ended task's lanes once nothing is open or held on them.
    private func releaseGroupIfDone(_ group: Int32) throws {
        let entry = groups[Int(group)]
        guard entry.ended else { return }
        var lane = entry.first
        while lane >= 0 {
            guard lanes[Int(lane)].stack.isEmpty, lanes[Int(lane)].held.isEmpty else { return }
            lane = lanes[Int(lane)].nextSibling
        }
        unlink(group, task: entry.task)
        // Freed in the group's order (own lane, then siblings), so that lanes
        // are reused, and `finish` visits them, in the same order as ever.
        lane = entry.first
        while lane >= 0 {
            freeLanes.append(lane)
            lane = lanes[Int(lane)].nextSibling
        }
        groups[Int(group)].lastSibling = -1
        groups[Int(group)].siblingCount = 0
        groups[Int(group)].ended = false
        freeGroups.append(group)
    }

    /// Takes `group` out of its id's chain in `groupsByTask`.
    private func unlink(_ group: Int32, task: UInt64) {
        let next = groups[Int(group)].nextSameID
        groups[Int(group)].nextSameID = -1
        var previous = groupsByTask.find(task) ?? -1
        if previous == group {
            if next >= 0 { groupsByTask.insert(task, next) } else { _ = groupsByTask.removeValue(forKey: task) }
            return
        }
        while previous >= 0 {
            if groups[Int(previous)].nextSameID == group {
                groups[Int(previous)].nextSameID = next
                return
            }
            previous = groups[Int(previous)].nextSameID
        }
    }

    // MARK: Nesting

    private func allocate(_ slice: TimelineSlice) -> Int32 {
        // Not `popLast()`: it is not inlined, and this runs for every slice.
        if !freeSlices.isEmpty {
            let index = freeSlices.removeLast()
            slices[Int(index)] = slice
            return index
        }
        slices.append(slice)
        return Int32(slices.count - 1)
    }

    private func push(_ handle: Int32, on lane: Int32) throws {
        let entry = lanes[Int(lane)].open(handle)
        slices[Int(handle)].lane = lane
        slices[Int(handle)].state = .pending
        slices[Int(handle)].entry = entry
        heldEntries += 1
        if heldEntries > holdLimit { try commitOldest() }
    }

    /// Ends a slice on its lane. In order (innermost open), it simply ends.
    /// Out of order: a held-back region moves to an overflow lane
    /// (`regionMovesAside`); otherwise the slices above it leave the lane.
    private func close(_ handle: Int32, regionMovesAside: Bool) throws {
        let slice = slices[Int(handle)]
        switch slice.state {
        case .floating:
            try drawOnOverflow(handle)
            return
        case .done:
            // Cut short earlier (its end is written): this was its real end.
            release(handle)
            return
        case .pending, .committed:
            break
        }
        let laneIndex = Int(slice.lane)
        guard let position = lanes[laneIndex].stack.lastIndex(of: handle) else { return }
        let top = lanes[laneIndex].stack.count - 1
        if position != top {
            if regionMovesAside && slice.state == .pending {
                slices[Int(handle)].flags.insert(.misnested)
                lanes[laneIndex].held[slice.entry].dead = true
                lanes[laneIndex].stack.remove(at: position)
                leaveLane(handle, laneIndex)
                try drawOnOverflow(handle)
                try flush(laneIndex)
                return
            }
            try clearAbove(position, laneIndex)
        }
        lanes[laneIndex].closeTop(handle, isRegion: slice.kind == .region)
        heldEntries += 1
        try flush(laneIndex)
    }

    /// Takes the slices above `position` off the lane: held-back ones float
    /// (overflow at their end), committed ones end here, cut short.
    private func clearAbove(_ position: Int, _ laneIndex: Int) throws {
        while lanes[laneIndex].stack.count - 1 > position {
            let above = lanes[laneIndex].stack.removeLast()
            leaveLane(above, laneIndex)
            if slices[Int(above)].state == .pending {
                lanes[laneIndex].held[slices[Int(above)].entry].dead = true
                slices[Int(above)].state = .floating
                slices[Int(above)].lane = -1
            } else {
                lanes[laneIndex].committed -= 1
                slices[Int(above)].flags.insert(.cutShort)
                slices[Int(above)].end = slices[Int(lanes[laneIndex].stack[position])].end
                // Written once its end entry is; kept until its real end arrives.
                slices[Int(above)].state = .done
                lanes[laneIndex].held.append(Entry(slice: above, isEnd: true))
                heldEntries += 1
            }
        }
    }

    private func leaveLane(_ handle: Int32, _ laneIndex: Int) {
        lanes[laneIndex].leave(isRegion: slices[Int(handle)].kind == .region)
    }

    /// Writes the lane's held entries up to the first held-back begin.
    private func flush(_ laneIndex: Int) throws {
        // The stack is read in place (a copy would retain and release it);
        // the sink does not call back, so it does not change meanwhile.
        let committed = lanes[laneIndex].committed
        let stackCount = lanes[laneIndex].stack.count
        let limit = committed < stackCount ? slices[Int(lanes[laneIndex].stack[committed])].entry : lanes[laneIndex].held.count
        guard limit > 0 else { return }
        let info = lanes[laneIndex].info
        for index in 0..<limit {
            let entry = lanes[laneIndex].held[index]
            if entry.dead { continue }
            let handle = Int(entry.slice)
            if entry.isEnd {
                try sink.sliceEnded(slices[handle], on: info)
                if !slices[handle].flags.contains(.cutShort) { release(entry.slice) }
            } else {
                try sink.sliceBegan(slices[handle], on: info, flows: slices[handle].hasFlowsOut ? flows[entry.slice] ?? Self.noFlows : Self.noFlows)
                slices[handle].state = .committed
            }
        }
        heldEntries -= limit
        if limit == lanes[laneIndex].held.count {
            lanes[laneIndex].held.removeAll(keepingCapacity: true)
        } else {
            lanes[laneIndex].held.removeFirst(limit)
            for position in committed..<stackCount { slices[Int(lanes[laneIndex].stack[position])].entry -= limit }
        }
        if lanes[laneIndex].group >= 0, stackCount == 0 { try releaseGroupIfDone(lanes[laneIndex].group) }
    }

    private func release(_ handle: Int32) {
        if slices[Int(handle)].hasFlowsOut { flows[handle] = nil }
        slices[Int(handle)].state = .done
        freeSlices.append(handle)
    }

    /// Past `holdLimit`: commits held-back begins, oldest of the fullest lane first.
    private func commitOldest() throws {
        while heldEntries > holdLimit / 2 {
            var fullest = -1
            for index in lanes.indices where lanes[index].committed < lanes[index].stack.count {
                if fullest < 0 || lanes[index].held.count > lanes[fullest].held.count { fullest = index }
            }
            guard fullest >= 0 else { return }
            lanes[fullest].committed += 1
            forcedCommits += 1
            try flush(fullest)
        }
    }

    private func drawOnOverflow(_ handle: Int32) throws {
        let process = slices[Int(handle)].process
        let begin = slices[Int(handle)].begin
        var spare = overflow[process, default: []]
        let lane: Int32
        if let index = spare.firstIndex(where: { $0.lastEnd <= begin }) {
            lane = spare[index].lane
            spare[index].lastEnd = slices[Int(handle)].end
        } else {
            lane = try newLane(TimelineLane(id: 0, process: process, kind: .overflow(spare.count)))
            spare.append(OverflowLane(lane: lane, lastEnd: slices[Int(handle)].end))
        }
        overflow[process] = spare
        let info = lanes[Int(lane)].info
        slices[Int(handle)].lane = lane
        try sink.sliceBegan(slices[Int(handle)], on: info, flows: Self.noFlows)
        try sink.sliceEnded(slices[Int(handle)], on: info)
        release(handle)
    }
}
