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
/// child's end; logs are thread-scoped `i` instants; counters and drops are
/// `C` events (a track named "NAME value"); stacks an `args.stack` string.
/// Times are microseconds with three decimals (nanoseconds kept).
package final class ChromeJSONExporter: ExportFormat {
    private let output: ProtobufWriter
    private let names: (UInt32) -> String
    private let stackText: (UInt32, UInt32) -> String?
    private var pids: [UInt32: Int32] = [:]
    private var tids: [ThreadKey: Int32] = [:]
    private var nextLane: UInt64 = 1

    private struct ThreadKey: Hashable {
        var process: UInt32
        var index: UInt32
    }
    private var first = true
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

    package func process(_ process: UInt32, pid: Int32, name: String) throws {
        guard pids[process] == nil else { return }
        pids[process] = pid
        try event { text("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":\(pid),\"args\":{\"name\":"); quoted(name); text("}}") }
    }

    package func thread(_ process: UInt32, index: UInt32, tid: Int32, name: String) throws {
        let key = ThreadKey(process: process, index: index)
        guard tids[key] == nil else { return }
        tids[key] = tid
        try threadName(process, tid: Int64(tid), name)
    }

    private func threadName(_ process: UInt32, tid: Int64, _ name: String) throws {
        try event {
            text("{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pids[process] ?? 0),\"tid\":\(tid),\"args\":{\"name\":")
            quoted(name)
            text("}}")
        }
    }

    private func tid(_ lane: TimelineLane) -> Int64 {
        if case .thread(let index) = lane.kind { return Int64(tids[ThreadKey(process: lane.process, index: index)] ?? 0) }
        return Self.laneTIDBase + Int64(lane.id)
    }

    /// A thread the catalog did not name (its record lost).
    private func ensureThread(_ process: UInt32, _ index: UInt32) throws -> Int32 {
        if let tid = tids[ThreadKey(process: process, index: index)] { return tid }
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
            let type = lane.taskName == 0 ? "task" : names(lane.taskName)
            name = index == 0 ? "\(type) #\(id)" : "\(type) #\(id) (\(index + 1))"
        case .swiftTask(let id):
            name = "Swift task \(id)"
        case .overflow(let index):
            name = index == 0 ? "misnested regions" : "misnested regions (\(index + 1))"
        }
        try threadName(lane.process, tid: tid(lane), name)
        return lane.id
    }

    package func sliceBegan(_ slice: TimelineSlice, on lane: TimelineLane, flows: [UInt64]) throws {
        let where_ = "\"pid\":\(pids[slice.process] ?? 0),\"tid\":\(tid(lane))"
        try event {
            text("{\"ph\":\"B\",\"cat\":\"\(slice.kind == .task ? "task" : "region")\",\"name\":")
            quoted(names(slice.name))
            text(",\"ts\":"); time(slice.begin); text(",\(where_),\"args\":{")
            var comma = false
            func arg(_ name: String, _ value: () -> Void) {
                text(comma ? ",\"\(name)\":" : "\"\(name)\":")
                value()
                comma = true
            }
            if slice.kind == .task {
                arg("task") { text("\(slice.task)") }
                if slice.parentTask != 0 { arg("parent_task") { text("\(slice.parentTask)") } }
            }
            if slice.stack != 0 { arg("stack") { quoted(stackText(slice.process, slice.stack) ?? "unknown stack \(slice.stack)") } }
            text("}}")
        }
        for flow in flows {
            try event { text("{\"ph\":\"s\",\"cat\":\"task\",\"name\":\"child task\",\"id\":\(flow),\"ts\":"); time(slice.begin); text(",\(where_)}") }
        }
    }

    package func sliceEnded(_ slice: TimelineSlice, on lane: TimelineLane) throws {
        let where_ = "\"pid\":\(pids[slice.process] ?? 0),\"tid\":\(tid(lane))"
        if slice.flowIn != 0 {
            try event {
                text("{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"task\",\"name\":\"child task\",\"id\":\(slice.flowIn),\"ts\":")
                time(slice.end)
                text(",\(where_)}")
            }
        }
        try event {
            text("{\"ph\":\"E\",\"ts\":"); time(slice.end); text(",\(where_),\"args\":{")
            var parts: [String] = []
            let flags = slice.flags
            if flags.contains(.neverEnded) { parts.append("\"never_ended\":true") }
            if flags.contains(.misnested) { parts.append("\"ended_out_of_order\":true") }
            if flags.contains(.endedTwice) { parts.append("\"ended_twice\":true") }
            if flags.contains(.endedOnAnotherTask) { parts.append("\"ended_on_another_task\":true") }
            if flags.contains(.cutShort) { parts.append("\"cut_short\":true") }
            if slice.kind == .region, slice.endThread != 0, slice.endThread != slice.beginThread {
                let begin = tids[ThreadKey(process: slice.process, index: slice.beginThread)] ?? 0
                let end = tids[ThreadKey(process: slice.process, index: slice.endThread)] ?? 0
                parts.append("\"begin_thread\":\(begin),\"end_thread\":\(end)")
            }
            text(parts.joined(separator: ","))
            text("}}")
        }
    }

    // MARK: Logs, counters, drops

    package func log(_ log: ExportLog) throws {
        let tid = try ensureThread(log.process, log.thread)
        let category = names(log.category)
        try event {
            text("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"log\",\"name\":"); quoted(category)
            text(",\"ts\":"); time(log.time)
            text(",\"pid\":\(pids[log.process] ?? 0),\"tid\":\(tid),\"args\":{\"category\":"); quoted(category)
            text(",\"message\":"); quoted(log.message)
            if log.task != 0 { text(",\"task\":\(log.task)") }
            if log.truncated { text(",\"truncated\":true") }
            if log.stack != 0 { text(",\"stack\":"); quoted(stackText(log.process, log.stack) ?? "unknown stack \(log.stack)") }
            text("}}")
        }
    }

    package func counter(_ counter: ExportCounter) throws {
        try event {
            text("{\"ph\":\"C\",\"name\":"); quoted(names(counter.name))
            text(",\"ts\":"); time(counter.time)
            text(",\"pid\":\(pids[counter.process] ?? 0),\"args\":{\"value\":")
            switch counter.value {
            case .integer(let value): text("\(value)")
            case .double(let value): text(value.isFinite ? "\(value)" : "null")
            }
            text("}}")
        }
    }

    package func dropped(process: UInt32, thread: UInt32, time t: Int64, count: UInt64, total: UInt64) throws {
        try event {
            text("{\"ph\":\"C\",\"name\":\"dropped events\",\"ts\":"); time(t)
            text(",\"pid\":\(pids[process] ?? 0),\"args\":{\"value\":\(total)}}")
        }
    }

    package func finish() throws {
        text("]}\n")
        try output.flush()
    }

    // MARK: Text

    private func event(_ body: () -> Void) throws {
        if first { first = false } else { text(",\n") }
        body()
        try output.boundary()
    }

    private func text(_ string: String) {
        var string = string
        string.withUTF8 { output.raw(UnsafeRawBufferPointer($0)) }
    }

    /// Microseconds with three decimals, from nanoseconds.
    private func time(_ nanoseconds: Int64) {
        let ns = max(0, nanoseconds)
        let fraction = ns % 1000
        text("\(ns / 1000).\(fraction < 10 ? "00" : fraction < 100 ? "0" : "")\(fraction)")
    }

    /// A JSON string: quotes, backslashes and control characters escaped;
    /// the rest is UTF-8 as it is.
    private func quoted(_ string: String) {
        var escaped = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        escaped += "\""
        text(escaped)
    }
}
