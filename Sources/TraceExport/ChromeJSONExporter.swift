package import TraceAnalysis
package import TraceFormat
package import TraceSystem

/// `tracectl export --format chrome-json`: Chrome's JSON trace-event format
/// (`{"traceEvents": [...]}`), for chrome://tracing, Catapult and other
/// older tools; the Perfetto UI opens it too.
///
/// The same layout as the Perfetto export, in that format's terms: a lane is
/// a thread id (a real thread's own, or one above every Linux tid, 2^22,
/// named with a `thread_name` metadata event: "TYPE #ID", "Swift task N",
/// "misnested regions"); slices are `B`/`E` pairs written in nesting order;
/// a child task's flow is an `s` event on the parent's lane at the parent's
/// begin and an `f` event (`"bp": "e"`, bound to the enclosing slice) at the
/// child's end; logs are thread-scoped `i` instants; counters, drops and
/// process stats ("stat NAME", `ProcessStat.name`) are `C` events of their
/// process (a track named "NAME value"); stacks an `args.stack` string.
/// Times are microseconds with three decimals (nanoseconds kept).
///
/// Thread states (`ThreadStateSlices`: "running", "runnable", "lock: futex",
/// "io: read", ...) are `X` events of category `thread_state`, each
/// thread's on a lane of its own ("NAME TID state", a tid above every
/// Linux tid, like a task's lane), not on the thread's: a state and the
/// regions drawn on the thread's lane overlap without nesting, and one
/// lane draws only nested slices. A running state has `args.cpu`.
package final class ChromeJSONExporter: ExportFormat {
    private let output: ProtobufWriter
    private let names: (UInt32) -> String
    private let stackText: (UInt32, UInt32) -> String?
    // Looked up on every event: open-addressing tables giving an index into
    // the array beside them, not SipHash dictionaries. `unchecked`: read or
    // written on every event, only by this class's methods, which nothing
    // they call calls back into.
    /// Processes' pids: `pidIndex` by process gives the index in `pidList`.
    @exclusivity(unchecked) private var pidIndex = SerialTable()
    @exclusivity(unchecked) private var pidList: [Int32] = []
    /// Threads' tids: `tidIndex` by `key(process, index)` gives the index in `tidList`.
    @exclusivity(unchecked) private var tidIndex = SerialTable()
    @exclusivity(unchecked) private var tidList: [Int32] = []
    @exclusivity(unchecked) private var nextLane: UInt64 = 1
    /// The pid and tid `place` wrote last, and its text (`lastPlaceText`).
    @exclusivity(unchecked) private var lastPlace: (pid: Int64, tid: Int64) = (.min, .min)
    @exclusivity(unchecked) private var lastPlaceText: [UInt8] = []
    @exclusivity(unchecked) private var first = true
    /// Names by id, escaped for a JSON string (without the quotes), each
    /// resolved and escaped once.
    @exclusivity(unchecked) private var escapedNames = NameBytes()
    /// Threads' names as the client and the kernel gave them, and their
    /// state lanes, by `key`.
    private var threadNames: [UInt64: String] = [:]
    private var kernelNames: [UInt64: String] = [:]
    private var stateLanes: [UInt64: Int64] = [:]
    private var states = ThreadStateSlices()
    /// Lanes that are not threads get tids above any Linux tid (at most 2^22).
    private static let laneTIDBase: Int64 = 1 << 22

    package init(output: FileDescriptor?, names: @escaping (UInt32) -> String,
                 stackText: @escaping (UInt32, UInt32) -> String?) {
        self.output = ProtobufWriter(output: output)
        self.names = names
        self.stackText = stackText
    }

    /// The bytes written so far (all of them when there is no output).
    package var writer: ProtobufWriter { output }

    package func start(monotonic: Int64, realtime: Int64?) throws {
        text("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[")
    }

    /// A table key for a thread (its process and index).
    @inline(__always)
    private static func key(_ process: UInt32, _ index: UInt32) -> UInt64 { UInt64(process) << 32 | UInt64(index) }

    /// `process`'s pid (0: not declared).
    private func pid(_ process: UInt32) -> Int32 {
        pidIndex.find(UInt64(process)).map { pidList[Int($0)] } ?? 0
    }

    /// The tid of thread `index` of `process` (nil: not declared).
    private func knownTID(_ process: UInt32, _ index: UInt32) -> Int32? {
        tidIndex.find(Self.key(process, index)).map { tidList[Int($0)] }
    }

    package func process(_ process: UInt32, pid: Int32, name: String) throws {
        guard pidIndex.find(UInt64(process)) == nil else { return }
        pidIndex.insert(UInt64(process), Int32(pidList.count))
        pidList.append(pid)
        try event {
            text("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":")
            number(Int64(pid))
            text(",\"tid\":")
            number(Int64(pid))
            text(",\"args\":{\"name\":")
            quoted(name)
            text("}}")
        }
    }

    package func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String) throws {
        let key = Self.key(process, index)
        guard tidIndex.find(key) == nil else { return }
        tidIndex.insert(key, Int32(tidList.count))
        tidList.append(tid)
        threadNames[key] = name
        try threadName(process, tid: Int64(tid)) { quoted(name) }
    }

    /// A `thread_name` metadata event; `name` writes the quoted name.
    private func threadName(_ process: UInt32, tid: Int64, name: () -> Void) throws {
        try event {
            text("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":")
            number(Int64(pid(process)))
            text(",\"tid\":")
            number(tid)
            text(",\"args\":{\"name\":")
            name()
            text("}}")
        }
    }

    private func tid(_ lane: TimelineLane) -> Int64 {
        if case .thread(let index) = lane.kind { return Int64(knownTID(lane.process, index) ?? 0) }
        return Self.laneTIDBase + Int64(lane.id)
    }

    /// A thread the catalog did not name (its record lost).
    private func ensureThread(_ process: UInt32, _ index: UInt32) throws -> Int32 {
        if let tid = knownTID(process, index) { return tid }
        try thread(process, index: index, tid: 0, name: "thread \(index)")
        return 0
    }

    // MARK: Slices

    package func laneCreated(_ lane: TimelineLane) throws -> UInt64 {
        var lane = lane
        lane.id = nextLane
        nextLane += 1
        let name: String
        switch lane.kind {
        case .thread(let index):
            _ = try ensureThread(lane.process, index)
            return lane.id
        case .task(let id, let index):
            // "TYPE #ID" or "TYPE #ID (N)", written as bytes: there is a lane per task.
            try threadName(lane.process, tid: tid(lane)) {
                text("\"")
                if lane.taskName == 0 { text("task") } else { escapedName(lane.taskName) }
                text(" #")
                output.decimal(id)
                if index > 0 {
                    text(" (")
                    output.decimal(UInt64(index) + 1)
                    text(")")
                }
                text("\"")
            }
            return lane.id
        case .swiftTask(let id):
            name = "Swift task \(id)"
        case .overflow(let index):
            name = index == 0 ? "misnested regions" : "misnested regions (\(index + 1))"
        }
        try threadName(lane.process, tid: tid(lane)) { quoted(name) }
        return lane.id
    }

    package func sliceBegan(_ slice: TimelineSlice, on lane: TimelineLane, flows: [UInt64]) throws {
        let pid = Int64(pid(slice.process)), tid = tid(lane)
        try event {
            if slice.kind == .task { text("{\"ph\":\"B\",\"cat\":\"task\",\"name\":") } else { text("{\"ph\":\"B\",\"cat\":\"region\",\"name\":") }
            name(slice.name)
            text(",\"ts\":"); time(slice.begin)
            place(pid, tid)
            text(",\"args\":{")
            if slice.kind == .task {
                text("\"task\":"); number(slice.task)
                if slice.parentTask != 0 { text(",\"parent_task\":"); number(slice.parentTask) }
                if slice.stack != 0 { text(",") }
            }
            if slice.stack != 0 { text("\"stack\":"); quoted(stackText(slice.process, slice.stack) ?? "unknown stack \(slice.stack)") }
            text("}}")
        }
        for flow in flows {
            try event {
                text("{\"ph\":\"s\",\"cat\":\"task\",\"name\":\"child task\",\"id\":"); number(flow)
                text(",\"ts\":"); time(slice.begin)
                place(pid, tid)
                text("}")
            }
        }
    }

    package func sliceEnded(_ slice: TimelineSlice, on lane: TimelineLane) throws {
        let pid = Int64(pid(slice.process)), tid = tid(lane)
        if slice.flowIn != 0 {
            try event {
                text("{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"task\",\"name\":\"child task\",\"id\":"); number(slice.flowIn)
                text(",\"ts\":"); time(slice.end)
                place(pid, tid)
                text("}")
            }
        }
        try event {
            text("{\"ph\":\"E\",\"ts\":"); time(slice.end)
            place(pid, tid)
            let flags = slice.flags
            let crossed = slice.kind == .region && slice.endThread != 0 && slice.endThread != slice.beginThread
            guard !flags.isEmpty || crossed else {
                text("}")
                return
            }
            var parts: [String] = []
            if flags.contains(.neverEnded) { parts.append("\"never_ended\":true") }
            if flags.contains(.misnested) { parts.append("\"ended_out_of_order\":true") }
            if flags.contains(.endedTwice) { parts.append("\"ended_twice\":true") }
            if flags.contains(.endedOnAnotherTask) { parts.append("\"ended_on_another_task\":true") }
            if flags.contains(.cutShort) { parts.append("\"cut_short\":true") }
            if crossed {
                let begin = knownTID(slice.process, slice.beginThread) ?? 0
                let end = knownTID(slice.process, slice.endThread) ?? 0
                parts.append("\"begin_thread\":\(begin),\"end_thread\":\(end)")
            }
            text(",\"args\":{")
            text(string: parts.joined(separator: ","))
            text("}}")
        }
    }

    /// `,"pid":P,"tid":T`. The last one is kept as text: a task's slices
    /// are written together, on its lane, so it mostly comes again.
    private func place(_ pid: Int64, _ tid: Int64) {
        if pid == lastPlace.pid, tid == lastPlace.tid {
            // Through `inout`, in place: a read would retain the array around the call.
            lastPlaceText.withUnsafeMutableBytes { output.raw(UnsafeRawBufferPointer($0)) }
            return
        }
        let start = output.position
        text(",\"pid\":"); number(pid)
        text(",\"tid\":"); number(tid)
        output.copy(since: start, into: &lastPlaceText)
        lastPlace = (pid, tid)
    }

    // MARK: Logs, counters, drops

    package func log(_ log: ExportLog) throws {
        let tid = try ensureThread(log.process, log.thread)
        try event {
            text("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"log\",\"name\":"); name(log.category)
            text(",\"ts\":"); time(log.time)
            place(Int64(pid(log.process)), Int64(tid))
            text(",\"args\":{\"category\":"); name(log.category)
            text(",\"message\":"); log.withMessageUTF8 { quoted($0) }
            if log.task != 0 { text(",\"task\":"); number(log.task) }
            if log.truncated { text(",\"truncated\":true") }
            if log.stack != 0 { text(",\"stack\":"); quoted(stackText(log.process, log.stack) ?? "unknown stack \(log.stack)") }
            text("}}")
        }
    }

    package func counter(_ counter: ExportCounter) throws {
        try processCounter(counter.process, time: counter.time, name: { name(counter.name) }, value: {
            switch counter.value {
            case .integer(let value): number(value)
            case .double(let value): text(string: value.isFinite ? "\(value)" : "null")
            }
        })
    }

    package func dropped(process: UInt32, thread: UInt32, time t: Int64, count: UInt64, total: UInt64) throws {
        try processCounter(process, time: t, name: { quoted("dropped events") }, value: { number(total) })
    }

    /// A `C` event of `process`: `name` and `value` write the quoted name
    /// and the number.
    private func processCounter(_ process: UInt32, time t: Int64, name: () -> Void, value: () -> Void) throws {
        try event {
            text("{\"ph\":\"C\",\"name\":"); name()
            text(",\"ts\":"); time(t)
            text(",\"pid\":"); number(Int64(pid(process)))
            text(",\"args\":{\"value\":"); value()
            text("}}")
        }
    }

    // MARK: Thread states, process stats

    package func kernel(_ event: TraceEvent) throws {
        if case .processStat(let stat?, let value) = event.kind {
            return try processCounter(event.process, time: event.time, name: { quoted("stat \(stat.name)") },
                                      value: { number(value) })
        }
        if case .threadName(let name) = event.kind {
            let key = Self.key(event.process, event.thread)
            kernelNames[key] = names(name.index)
            if let lane = stateLanes[key] { try nameStateLane(event.process, event.thread, lane) }
        }
        if let slice = states.follow(event) { try stateSlice(slice) }
    }

    private func stateSlice(_ slice: ThreadStateSlices.Slice) throws {
        let lane = try stateLane(slice.process, slice.thread)
        try event {
            text("{\"ph\":\"X\",\"cat\":\"thread_state\",\"name\":")
            switch slice.state {
            case .running: text("\"running\"")
            case .runnable: text("\"runnable\"")
            case .stopped: text("\"stopped\"")
            case .waiting(let activity, let why):
                quoted(why.index == 0 ? activity.name : "\(activity.name): \(names(why.index))")
            }
            text(",\"ts\":"); time(slice.begin)
            text(",\"dur\":"); time(slice.end.saturatingSubtract(slice.begin))
            place(Int64(pid(slice.process)), lane)
            if case .running(let cpu) = slice.state {
                text(",\"args\":{\"cpu\":"); number(UInt64(cpu)); text("}")
            }
            text("}")
        }
    }

    /// The lane of a thread's states, named when made.
    private func stateLane(_ process: UInt32, _ thread: UInt32) throws -> Int64 {
        let key = Self.key(process, thread)
        if let lane = stateLanes[key] { return lane }
        let lane = Self.laneTIDBase + Int64(nextLane)
        nextLane += 1
        stateLanes[key] = lane
        try nameStateLane(process, thread, lane)
        return lane
    }

    /// "NAME TID state": the client's name for its thread, as its own lane
    /// has it, else the kernel's ("thread TID state" before either).
    private func nameStateLane(_ process: UInt32, _ thread: UInt32, _ lane: Int64) throws {
        let key = Self.key(process, thread)
        let tid = knownTID(process, thread) ?? KernelThread.tid(ofKey: thread).map { Int32(bitPattern: $0) } ?? 0
        let name = [threadNames[key], kernelNames[key]].compactMap { $0 }.first { !$0.isEmpty } ?? "thread"
        try threadName(process, tid: lane) { quoted("\(name) \(tid) state") }
    }

    package func finish(at lastTime: Int64) throws {
        for slice in states.finish(at: lastTime) { try stateSlice(slice) }
        text("]}\n")
        try output.flush()
    }

    // MARK: Text

    @inline(__always)
    private func event(_ body: () -> Void) throws {
        if first { first = false } else { text(",\n") }
        body()
        try output.boundary()
    }

    @inline(__always)
    private func text(_ string: StaticString) {
        output.raw(string)
    }

    /// Text that is not a literal. (Not an overload of `text(_:)`: a
    /// literal argument would pick the String one, and every piece of
    /// syntax would be a String.)
    private func text(string: String) {
        var string = string
        string.withUTF8 { output.raw(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    private func number(_ value: UInt64) {
        output.decimal(value)
    }

    private func number(_ value: Int64) {
        if value < 0 { text("-") }
        output.decimal(value.magnitude)
    }

    /// Microseconds with three decimals, from nanoseconds.
    private func time(_ nanoseconds: Int64) {
        let ns = UInt64(max(0, nanoseconds))
        output.decimal(ns / 1000)
        text(".")
        output.threeDigits(ns % 1000)
    }

    /// A name, quoted.
    private func name(_ id: UInt32) {
        text("\"")
        escapedName(id)
        text("\"")
    }

    /// A name escaped (without quotes): escaped once per name id.
    private func escapedName(_ id: UInt32) {
        escapedNames.with(id, make: { id, bytes in
            var name = names(id)
            name.withUTF8 { JSONText.escape(UnsafeRawBufferPointer($0)) { bytes.append(contentsOf: $0) } }
        }) { output.raw($0) }
    }

    /// A JSON string.
    private func quoted(_ string: String) {
        var string = string
        string.withUTF8 { quoted(UnsafeRawBufferPointer($0)) }
    }

    /// A JSON string of well-formed UTF-8.
    private func quoted(_ utf8: UnsafeRawBufferPointer) {
        text("\"")
        JSONText.escape(utf8) { output.raw($0) }
        text("\"")
    }
}
