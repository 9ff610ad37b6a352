import CTraceABI
package import TraceFormat
package import TraceSystem

/// A whole trace in memory: events with names resolved and timestamps on
/// one CLOCK_MONOTONIC nanosecond timeline, sorted by time. For traces that
/// fit in memory (reports, tests); `TraceReader` streams larger ones.
package struct TraceModel: Sendable {
    package struct Event: Equatable, Sendable {
        package var process: UInt32
        /// Trace index of the thread (ThreadRecord.index).
        package var thread: UInt32
        /// CLOCK_MONOTONIC nanoseconds (raw ticks if the file cannot convert).
        package var time: Int64
        /// Swift task id the event ran on (0: none).
        package var swiftTask: UInt64
        package var kind: Kind

        package init(process: UInt32, thread: UInt32, time: Int64, swiftTask: UInt64, kind: Kind) {
            self.process = process
            self.thread = thread
            self.time = time
            self.swiftTask = swiftTask
            self.kind = kind
        }
    }

    package enum Kind: Equatable, Sendable {
        case regionBegin(type: String, sequence: UInt64, task: UInt64, stack: UInt32)
        case regionEnd(beginThread: UInt32, beginSequence: UInt64)
        case taskBegin(id: UInt64, parent: UInt64, type: String, stack: UInt32)
        case taskEnd(id: UInt64)
        case log(task: UInt64, category: String, message: String, truncated: Bool, stack: UInt32)
        case counter(name: String, value: CounterValue)
    }

    package enum CounterValue: Equatable, Sendable {
        case integer(Int64)
        case double(Double)
    }

    package var events: [Event] = []
    package var processes: [UInt32: ProcessRecord] = [:]
    package var threads: [TraceReader.ProcessScoped: ThreadRecord] = [:]
    package var stacks: [TraceReader.ProcessScoped: [UInt64]] = [:]
    package var images: [UInt32: [ImageRecord]] = [:]
    package var drops: [UInt32: DropCounts] = [:]
    package var diagnostics: [ReaderDiagnostic] = []
    package var headers: [FileHeader] = []
    package var clock: ClockConverter = ClockConverter(syncs: [])

    package init() {}

    /// Loads the files of one trace (a session's files in order).
    package static func load(paths: [String]) throws(SystemError) -> TraceModel {
        let reader = TraceReader()
        var pending: [(BatchHeader, PendingEvent)] = []
        for path in paths {
            try reader.read(path: path) { header, event in pending.append((header, PendingEvent(event))) }
        }
        return build(reader, pending)
    }

    /// Loads one trace from bytes.
    package static func load(bytes: [UInt8]) -> TraceModel { load(files: [bytes]) }

    /// Loads one trace from the bytes of its files, in order.
    package static func load(files: [[UInt8]]) -> TraceModel {
        let reader = TraceReader()
        var pending: [(BatchHeader, PendingEvent)] = []
        for bytes in files {
            reader.read(bytes: bytes) { header, event in pending.append((header, PendingEvent(event))) }
        }
        return build(reader, pending)
    }

    /// A decoded event with its message copied out of the frame buffer.
    private struct PendingEvent {
        var raw: RawEvent
        var message: String
        init(_ raw: RawEvent) {
            self.raw = raw
            self.message = raw.kind == .log ? String(decoding: raw.message, as: UTF8.self) : ""
            self.raw.message = UnsafeRawBufferPointer(start: nil, count: 0)
        }
    }

    private static func build(_ reader: TraceReader, _ pending: [(BatchHeader, PendingEvent)]) -> TraceModel {
        var model = TraceModel()
        model.processes = reader.processes
        model.threads = reader.threads
        model.stacks = reader.stacks
        model.images = reader.images
        model.drops = reader.drops
        model.diagnostics = reader.diagnostics
        model.headers = reader.headers
        let nominal = reader.processes.values.map(\.nominalTicksPerSecond).max() ?? 0
        model.clock = ClockConverter(syncs: reader.clockSyncs, nominalTicksPerSecond: nominal)
        model.events.reserveCapacity(pending.count)
        for (header, event) in pending {
            let p = header.process
            func name(_ id: UInt32) -> String { reader.string(p, id) ?? "<string \(id)>" }
            let raw = event.raw
            let kind: Kind
            switch raw.kind {
            case .regionBegin:
                kind = .regionBegin(type: name(raw.name), sequence: raw.regionSequence, task: raw.task, stack: raw.stack)
            case .regionEnd, .regionEndForeign:
                kind = .regionEnd(beginThread: raw.regionThread, beginSequence: raw.regionSequence)
            case .taskBegin:
                kind = .taskBegin(id: raw.task, parent: raw.parentTask, type: name(raw.name), stack: raw.stack)
            case .taskEnd:
                kind = .taskEnd(id: raw.task)
            case .log:
                kind = .log(task: raw.task, category: name(raw.name), message: event.message, truncated: raw.truncated, stack: raw.stack)
            case .counterInteger:
                kind = .counter(name: name(raw.name), value: .integer(raw.integerValue))
            case .counterDouble:
                kind = .counter(name: name(raw.name), value: .double(raw.doubleValue))
            case .context, .extension:
                continue
            }
            let clockKind = reader.processes[p]?.clockKind ?? UInt32(TC_CLOCK_MONOTONIC_NS)
            let time = model.clock.monotonicNanoseconds(ticks: raw.ticks, clockKind: clockKind) ?? Int64(bitPattern: raw.ticks)
            model.events.append(Event(process: p, thread: header.thread, time: time, swiftTask: raw.swiftTask, kind: kind))
        }
        // Stable: events of one thread keep their recorded order at equal times.
        model.events = model.events.enumerated().sorted {
            ($0.element.time, $0.offset) < ($1.element.time, $1.offset)
        }.map(\.element)
        return model
    }

    /// Events dropped by all processes (not counting lost metadata).
    package var droppedEvents: UInt64 { drops.values.map(\.droppedEvents).saturatingSum() }

    /// The kernel thread id and name of a trace thread.
    package func thread(_ process: UInt32, _ index: UInt32) -> ThreadRecord? {
        threads[TraceReader.ProcessScoped(process, UInt64(index))]
    }
}
