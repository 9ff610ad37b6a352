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
package final class SliceLayout<Sink: TimelineSink> {
    package struct Owner: Hashable {
        var swiftTask: UInt64
        var thread: UInt32
        package init(swiftTask: UInt64, thread: UInt32) {
            self.swiftTask = swiftTask
            self.thread = swiftTask == 0 ? thread : 0
        }
    }

    package struct TaskKey: Hashable {
        var process: UInt32
        var task: UInt64
        package init(process: UInt32, task: UInt64) {
            self.process = process
            self.task = task
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
        var group: TaskKey?
    }

    private struct TaskGroup {
        var lanes: [Int32]
        var slice: Int32 = -1
        var ended = false
    }

    private struct OverflowLane {
        var lane: Int32
        var lastEnd: Int64
    }

    package let sink: Sink
    private let holdLimit: Int
    private var slices: [TimelineSlice] = []
    private var freeSlices: [Int32] = []
    private var lanes: [Lane] = []
    private var freeLanes: [Int32] = []
    private var threadLanes: [ThreadKey: Int32] = [:]
    private var swiftLanes: [SwiftKey: Int32] = [:]
    private var groups: [TaskKey: TaskGroup] = [:]
    private var overflow: [UInt32: [OverflowLane]] = [:]
    private var nextFlowID: UInt64 = 1
    private var heldEntries = 0
    /// Slices committed because of `holdLimit` (0 below it).
    package private(set) var forcedCommits = 0

    package init(sink: Sink, holdLimit: Int = 1 << 18) {
        self.sink = sink
        self.holdLimit = holdLimit
    }

    // MARK: Input

    /// A task's creation. Returns its slice's handle.
    package func taskBegan(_ slice: TimelineSlice) throws -> Int32 {
        let key = TaskKey(process: slice.process, task: slice.task)
        let lane = try group(for: key, name: slice.name)
        var slice = slice
        if slice.parentTask != 0, let parent = groups[TaskKey(process: slice.process, task: slice.parentTask)]?.slice,
           parent >= 0, slices[Int(parent)].state == .pending {
            slice.flowIn = nextFlowID
            slices[Int(parent)].flowsOut.append(nextFlowID)
            nextFlowID += 1
        }
        let handle = allocate(slice)
        groups[key]?.slice = handle
        try push(handle, on: lane)
        return handle
    }

    /// A task's first end (`end` set on `slice`, flags too).
    package func taskEnded(_ handle: Int32, end: Int64, flags: TimelineSlice.Flags) throws {
        slices[Int(handle)].end = end
        slices[Int(handle)].flags.formUnion(flags)
        let key = TaskKey(process: slices[Int(handle)].process, task: slices[Int(handle)].task)
        groups[key]?.ended = true
        groups[key]?.slice = -1
        try close(handle, regionMovesAside: false)
        try releaseGroupIfDone(key)
    }

    /// A region's begin; `owner` is who runs it. Returns its slice's handle.
    package func regionBegan(_ slice: TimelineSlice, owner: Owner) throws -> Int32 {
        let lane: Int32
        if slice.task != 0 {
            lane = try taskLane(TaskKey(process: slice.process, task: slice.task), owner: owner)
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

    /// A region's end (first end; later ones only flag it).
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

    private func group(for key: TaskKey, name: UInt32) throws -> Int32 {
        if let group = groups[key] { return group.lanes[0] }
        let lane = try newLane(TimelineLane(id: 0, process: key.process, kind: .task(id: key.task, index: 0), taskName: name))
        lanes[Int(lane)].group = key
        groups[key] = TaskGroup(lanes: [lane])
        return lane
    }

    private func taskLane(_ key: TaskKey, owner: Owner) throws -> Int32 {
        if groups[key] == nil { _ = try group(for: key, name: 0) }
        let group = groups[key]!
        for lane in group.lanes where lanes[Int(lane)].owner == owner { return lane }
        for lane in group.lanes where lanes[Int(lane)].regions == 0 {
            lanes[Int(lane)].owner = owner
            return lane
        }
        let first = lanes[Int(group.lanes[0])].info
        var info = TimelineLane(id: 0, process: key.process, kind: .task(id: key.task, index: group.lanes.count))
        info.taskName = first.taskName
        let lane = try newLane(info)
        lanes[Int(lane)].owner = owner
        lanes[Int(lane)].group = key
        groups[key]?.lanes.append(lane)
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
        return allocateLane(info)
    }

    private func allocateLane(_ info: TimelineLane) -> Int32 {
        if let index = freeLanes.popLast() {
            lanes[Int(index)] = Lane(info: info)
            return index
        }
        lanes.append(Lane(info: info))
        return Int32(lanes.count - 1)
    }

    /// Forgets an ended task's lanes once nothing is open or held on them.
    private func releaseGroupIfDone(_ key: TaskKey) throws {
        guard let group = groups[key], group.ended else { return }
        for lane in group.lanes where !lanes[Int(lane)].stack.isEmpty || !lanes[Int(lane)].held.isEmpty { return }
        groups[key] = nil
        freeLanes.append(contentsOf: group.lanes)
    }

    // MARK: Nesting

    private func allocate(_ slice: TimelineSlice) -> Int32 {
        if let index = freeSlices.popLast() {
            slices[Int(index)] = slice
            return index
        }
        slices.append(slice)
        return Int32(slices.count - 1)
    }

    private func push(_ handle: Int32, on lane: Int32) throws {
        slices[Int(handle)].lane = lane
        slices[Int(handle)].state = .pending
        slices[Int(handle)].entry = lanes[Int(lane)].held.count
        lanes[Int(lane)].held.append(Entry(slice: handle, isEnd: false))
        lanes[Int(lane)].stack.append(handle)
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
        lanes[laneIndex].stack.removeLast()
        if lanes[laneIndex].committed > lanes[laneIndex].stack.count { lanes[laneIndex].committed -= 1 }
        leaveLane(handle, laneIndex)
        lanes[laneIndex].held.append(Entry(slice: handle, isEnd: true))
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
        guard slices[Int(handle)].kind == .region else { return }
        lanes[laneIndex].regions -= 1
        if lanes[laneIndex].regions == 0, lanes[laneIndex].group != nil { lanes[laneIndex].owner = nil }
    }

    /// Writes the lane's held entries up to the first held-back begin.
    private func flush(_ laneIndex: Int) throws {
        let committed = lanes[laneIndex].committed
        let stack = lanes[laneIndex].stack
        let limit = committed < stack.count ? slices[Int(stack[committed])].entry : lanes[laneIndex].held.count
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
                try sink.sliceBegan(slices[handle], on: info)
                slices[handle].state = .committed
            }
        }
        heldEntries -= limit
        if limit == lanes[laneIndex].held.count {
            lanes[laneIndex].held.removeAll(keepingCapacity: true)
        } else {
            lanes[laneIndex].held.removeFirst(limit)
            for handle in stack[committed...] { slices[Int(handle)].entry -= limit }
        }
        if let key = lanes[laneIndex].group, stack.isEmpty { try releaseGroupIfDone(key) }
    }

    private func release(_ handle: Int32) {
        slices[Int(handle)].flowsOut = []
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
        try sink.sliceBegan(slices[Int(handle)], on: info)
        try sink.sliceEnded(slices[Int(handle)], on: info)
        release(handle)
    }
}
