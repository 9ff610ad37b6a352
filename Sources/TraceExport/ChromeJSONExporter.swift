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
    private var quotedNames: [[UInt8]?] = []
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
        let pid = Int64(pids[slice.process] ?? 0), tid = tid(lane)
        try event {
            text(slice.kind == .task ? "{\"ph\":\"B\",\"cat\":\"task\",\"name\":" : "{\"ph\":\"B\",\"cat\":\"region\",\"name\":")
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
        let pid = Int64(pids[slice.process] ?? 0), tid = tid(lane)
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
                let begin = tids[ThreadKey(process: slice.process, index: slice.beginThread)] ?? 0
                let end = tids[ThreadKey(process: slice.process, index: slice.endThread)] ?? 0
                parts.append("\"begin_thread\":\(begin),\"end_thread\":\(end)")
            }
            text(",\"args\":{")
            text(parts.joined(separator: ","))
            text("}}")
        }
    }

    /// `,"pid":P,"tid":T`
    private func place(_ pid: Int64, _ tid: Int64) {
        text(",\"pid\":"); number(pid)
        text(",\"tid\":"); number(tid)
    }

    // MARK: Logs, counters, drops

    package func log(_ log: ExportLog) throws {
        let tid = try ensureThread(log.process, log.thread)
        try event {
            text("{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"log\",\"name\":"); name(log.category)
            text(",\"ts\":"); time(log.time)
            place(Int64(pids[log.process] ?? 0), Int64(tid))
            text(",\"args\":{\"category\":"); name(log.category)
            text(",\"message\":"); quoted(log.message)
            if log.task != 0 { text(",\"task\":"); number(log.task) }
            if log.truncated { text(",\"truncated\":true") }
            if log.stack != 0 { text(",\"stack\":"); quoted(stackText(log.process, log.stack) ?? "unknown stack \(log.stack)") }
            text("}}")
        }
    }

    package func counter(_ counter: ExportCounter) throws {
        try event {
            text("{\"ph\":\"C\",\"name\":"); name(counter.name)
            text(",\"ts\":"); time(counter.time)
            text(",\"pid\":"); number(Int64(pids[counter.process] ?? 0))
            text(",\"args\":{\"value\":")
            switch counter.value {
            case .integer(let value): number(value)
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

    private func text(_ string: StaticString) {
        output.raw(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    private func text(_ string: String) {
        var string = string
        string.withUTF8 { output.raw(UnsafeRawBufferPointer($0)) }
    }

    private func number(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = value, at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            output.raw(UnsafeRawBufferPointer(rebasing: buffer[at...]))
        }
    }

    private func number(_ value: Int64) {
        if value < 0 { text("-") }
        number(value.magnitude)
    }

    /// Microseconds with three decimals, from nanoseconds.
    private func time(_ nanoseconds: Int64) {
        let ns = UInt64(max(0, nanoseconds))
        number(ns / 1000)
        let fraction = ns % 1000
        text(fraction < 10 ? ".00" : fraction < 100 ? ".0" : ".")
        number(fraction)
    }

    /// A name, quoted: escaped once per name id.
    private func name(_ id: UInt32) {
        let index = Int(id)
        if index >= quotedNames.count { quotedNames.append(contentsOf: repeatElement(nil, count: index + 1 - quotedNames.count)) }
        if quotedNames[index] == nil { quotedNames[index] = Array(escape(names(id)).utf8) }
        quotedNames[index]?.withUnsafeBytes { output.raw($0) }
    }

    /// A JSON string: quotes, backslashes and control characters escaped;
    /// the rest is UTF-8 as it is.
    private func quoted(_ string: String) { text(escape(string)) }

    private func escape(_ string: String) -> String {
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
        return escaped
    }
}
