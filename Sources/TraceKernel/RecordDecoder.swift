import CTraceABI

/// Turns the records of one CPU's ring into `KernelRecord`s.
///
/// The ring holds up to six events' records: sched_switch (one event, or
/// three once filtered: two with callchains and one without, `SchedEvent`) and
/// sched_waking samples and CPU samples, told apart by the
/// `PERF_SAMPLE_IDENTIFIER` that starts them, and the side-band records of
/// the dummy event (fork, exit, comm, mmap2), which end with its sample id
/// fields; plus the kernel's `PERF_RECORD_LOST`. Every offset is checked
/// against the record's size (which `PerfRing` checked against the ring)
/// before it is read; a record that does not hold what its type promises,
/// or claims another CPU or an event this ring does not carry, is
/// `undecodable`, never a trap.
///
/// A sample's fields come in the order of their `PERF_SAMPLE_*` bits
/// (linux/perf_event.h), the callchain after CPU and before RAW, so the
/// raw part of a switch with a callchain starts wherever its chain ends:
///
///     0 header  8 id  16 pid:u32 tid:u32  24 time  32 cpu:u32 res:u32
///     40 [nr  ips[nr]]  raw_size:u32  raw[raw_size] (the tracepoint's fields)  padding
///
/// (switch: CALLCHAIN if `switchCallchains` and not a switch-in event,
/// then RAW; waking: RAW; CPU
/// sample: CALLCHAIN, no RAW). Side-band record (sample_id_all,
/// sample_type IDENTIFIER | TID | TIME | CPU):
///
///     0 header  8 body ...  size-32 pid:u32 tid:u32  size-24 time
///     size-16 cpu:u32 res:u32  size-8 id
///
/// Not thread-safe (its symbol cache): the thread that drains the ring owns it.
package struct RecordDecoder {
    package enum Decoded: Equatable, Sendable {
        case record(KernelRecord)
        /// Too short for its type, or not from this ring's events.
        case undecodable
        /// A record type the collector does not decode (throttling, ...).
        case otherType
        /// A CPU sample of the idle task: a CPU with nothing to run.
        case idleSample
    }

    /// What the records of one of the ring's scheduler events hold.
    package enum SchedEvent: Sendable {
        /// sched_switch, with a callchain if `switchCallchains`.
        case switches
        /// sched_switch without a callchain (a filtering collector's
        /// switches into a chosen thread from one not chosen).
        case switchIns
        case wakings
    }

    package let cpu: Int
    package let layout: SchedLayout
    /// The `PERF_EVENT_IOC_ID`s of this CPU's scheduler events and what
    /// each records: the current ones first, then those that
    /// `KernelCollector.select` replaced, until a drain has read their
    /// last records (`replace`, `forgetReplaced`).
    package private(set) var schedEvents: [(id: UInt64, kind: SchedEvent)]
    private var currentSchedEvents: Int
    package let taskID: UInt64
    /// The CPU clock's, nil without CPU samples.
    package let sampleID: UInt64?
    /// Switch samples carry a callchain (kernel and user frames).
    package let switchCallchains: Bool
    /// Classifies the switch-outs of threads that went to sleep; without
    /// it, or without callchains, their `wait` is `none`.
    package let classifier: WaitClassifier?
    /// This ring's own, in front of the classifier's symbols.
    private let symbolCache: SymbolCache?
    /// For a collector in a pid namespace of its own: the raw fields'
    /// thread ids into its namespace (shared by every CPU's decoder).
    package let translation: PidNamespaceTranslation?

    package init(cpu: Int, layout: SchedLayout, switchID: UInt64, wakingID: UInt64, taskID: UInt64,
                 sampleID: UInt64? = nil, switchCallchains: Bool = false, classifier: WaitClassifier? = nil,
                 translation: PidNamespaceTranslation? = nil) {
        self.cpu = cpu
        self.layout = layout
        schedEvents = [(switchID, .switches), (wakingID, .wakings)]
        currentSchedEvents = 2
        self.taskID = taskID
        self.sampleID = sampleID
        self.switchCallchains = switchCallchains
        self.classifier = classifier
        self.translation = translation
        symbolCache = classifier.map { SymbolCache(symbols: $0.symbols) }
    }

    /// `events` record from now on; the ones they replace may still have
    /// records in the ring, decoded as before until `forgetReplaced`.
    package mutating func replace(with events: [(id: UInt64, kind: SchedEvent)]) {
        schedEvents.insert(contentsOf: events, at: 0)
        currentSchedEvents = events.count
    }

    /// A drain read the replaced events' last records.
    package mutating func forgetReplaced() {
        schedEvents.removeSubrange(currentSchedEvents...)
    }

    /// Where the fields after CPU start.
    static let afterCPU = 40
    static let sampleIDSize = 32
    /// Trace entry flags (kernel/trace/trace.h): in a hard or soft
    /// interrupt, or an NMI.
    static let interruptFlags: UInt8 = 0x08 | 0x10 | 0x40

    /// Decodes one whole record, header included.
    package func decode(_ record: UnsafeRawBufferPointer) -> Decoded {
        guard record.count >= 8 else { return .undecodable }
        switch record.u32(0) {
        case TC_PERF_RECORD_SAMPLE: return sample(record)
        case TC_PERF_RECORD_LOST:
            guard record.count >= 24 else { return .undecodable }
            return .record(.lost(cpu: cpu, count: record.u64(16)))
        case TC_PERF_RECORD_LOST_SAMPLES:
            guard record.count >= 16 else { return .undecodable }
            return .record(.lost(cpu: cpu, count: record.u64(8)))
        case TC_PERF_RECORD_FORK, TC_PERF_RECORD_EXIT:
            guard record.count >= 32 + Self.sampleIDSize, fromTaskEvent(record) else { return .undecodable }
            let task = TaskLifecycle(time: record.u64(24), pid: record.i32(8), tid: record.i32(16),
                                     parentPID: record.i32(12), parentTID: record.i32(20))
            return .record(record.u32(0) == TC_PERF_RECORD_FORK ? .fork(task) : .exit(task))
        case TC_PERF_RECORD_COMM:
            guard record.count >= 16 + Self.sampleIDSize, fromTaskEvent(record) else { return .undecodable }
            let misc = record.u16(4)
            return .record(.name(TaskName(
                time: record.u64(record.count - 24), pid: record.i32(8), tid: record.i32(12),
                name: record.string(16..<(record.count - Self.sampleIDSize)),
                isExec: misc & UInt16(TC_PERF_RECORD_MISC_COMM_EXEC) != 0)))
        case TC_PERF_RECORD_MMAP2:
            return mapping(record)
        default:
            return .otherType
        }
    }

    private func sample(_ record: UnsafeRawBufferPointer) -> Decoded {
        guard record.count >= Self.afterCPU, Int(record.u32(32)) == cpu else { return .undecodable }
        let id = record.u64(8)
        let pid = record.i32(16), tid = record.i32(20), time = record.u64(24)
        for event in schedEvents where event.id == id {
            if case .wakings = event.kind { return wakeup(record, pid: pid, tid: tid, time: time) }
            return contextSwitch(record, event.kind, pid: pid, tid: tid, time: time)
        }
        if id == sampleID {
            guard let chain = Callchain(record, at: Self.afterCPU) else { return .undecodable }
            guard pid != 0 else { return .idleSample }
            return .record(.sample(CPUSample(time: time, cpu: cpu, pid: pid, tid: tid,
                                             stack: chain.userFrames(in: record), stackCut: chain.isCut)))
        }
        return .undecodable
    }

    /// A sched_waking sample: the running thread (`pid`, `tid`) woke the
    /// raw part's `pid`.
    private func wakeup(_ record: UnsafeRawBufferPointer, pid: Int32, tid: Int32, time: UInt64) -> Decoded {
        guard let raw = Self.raw(record, at: Self.afterCPU, minimumSize: layout.wakingMinimumSize) else { return .undecodable }
        let flags = record.load(fromByteOffset: raw + layout.wakingFlags, as: UInt8.self)
        let wakee = record.i32(raw + layout.wakeeTID)
        return .record(.wakeup(Wakeup(
            time: time, cpu: cpu, wakerTID: tid, wakerPID: pid, wakeeTID: translation?.local(wakee) ?? wakee,
            inInterrupt: flags & Self.interruptFlags != 0)))
    }

    /// A sched_switch sample of an event of `kind` (not `wakings`).
    private func contextSwitch(_ record: UnsafeRawBufferPointer, _ kind: SchedEvent, pid: Int32, tid: Int32,
                               time: UInt64) -> Decoded {
        var chain: Callchain?
        var rawSizeAt = Self.afterCPU
        if switchCallchains, kind != .switchIns {
            guard let read = Callchain(record, at: Self.afterCPU) else { return .undecodable }
            chain = read
            rawSizeAt = read.end
        }
        guard let raw = Self.raw(record, at: rawSizeAt, minimumSize: layout.switchMinimumSize) else { return .undecodable }
        var previous = record.i32(raw + layout.previousTID)
        var next = record.i32(raw + layout.nextTID)
        let bits = layout.previousStateSize == 8
            ? Int64(bitPattern: record.u64(raw + layout.previousState))
            : Int64(record.i32(raw + layout.previousState))
        let state = TaskState(reported: bits)
        if let translation {
            previous = translation.switchedOut(kernelTID: previous, tid: tid, last: state == .dead || state == .zombie)
            next = translation.local(next)
        }
        // The sample is taken in the thread switching out: its pid and
        // tid are the previous thread's, -1 once the kernel let go of it.
        let known = pid != -1 && (tid == previous || tid == -1)
        var change = ContextSwitch(
            time: time, cpu: cpu, previousTID: previous, previousPID: known ? pid : nil,
            previousState: state, preempted: bits & TaskState.preemptedBit != 0,
            nextTID: next)
        if let chain {
            change.userStack = chain.userFrames(in: record)
            change.stackCut = chain.isCut
            // A thread still runnable waits for nothing but a CPU.
            if state != .running, let cause = classify(chain, in: record, state: state) {
                change.wait = cause.kind
                change.why = cause.why
            }
        }
        return .record(.contextSwitch(change))
    }

    /// What the kernel frames of `chain` say the previous thread waits
    /// for; nil without a classifier.
    private func classify(_ chain: Callchain, in record: UnsafeRawBufferPointer, state: TaskState) -> WaitCause? {
        guard let symbolCache else { return nil }
        let kernel = chain.kernel
        return classifier?.classify(frames: kernel.count, symbol: {
            symbolCache.index(containing: chain.entry(kernel.lowerBound + $0, in: record))
        }, state: state)
    }

    /// Where the raw bytes whose u32 size is at `offset` start, if the
    /// record holds them and they are at least `minimumSize` bytes.
    private static func raw(_ record: UnsafeRawBufferPointer, at offset: Int, minimumSize: Int) -> Int? {
        guard record.count - offset >= 4 else { return nil }
        let size = Int(record.u32(offset))
        guard size >= minimumSize, size <= record.count - offset - 4 else { return nil }
        return offset + 4
    }

    /// PERF_RECORD_MMAP2: pid, tid, addr, len, pgoff, then 24 bytes that
    /// hold a build id (size:u8, 3 reserved, 20 bytes) when misc says so,
    /// the device and inode otherwise; prot, flags, the path.
    private func mapping(_ record: UnsafeRawBufferPointer) -> Decoded {
        let path = 72
        guard record.count >= path + Self.sampleIDSize, fromTaskEvent(record) else { return .undecodable }
        var buildID: [UInt8] = []
        if record.u16(4) & UInt16(TC_PERF_RECORD_MISC_MMAP_BUILD_ID) != 0 {
            let size = Int(record.load(fromByteOffset: 40, as: UInt8.self))
            guard size <= 20 else { return .undecodable }
            buildID = Array(record[44..<(44 + size)])
        }
        return .record(.mapping(ExecutableMapping(
            time: record.u64(record.count - 24), pid: record.i32(8), tid: record.i32(12), address: record.u64(16),
            length: record.u64(24), fileOffset: record.u64(32), protection: record.u32(64), buildID: buildID,
            path: record.string(path..<(record.count - Self.sampleIDSize)))))
    }

    /// Whether a side-band record's trailing sample id names this CPU's
    /// dummy event and this CPU (the caller checked it is there).
    private func fromTaskEvent(_ record: UnsafeRawBufferPointer) -> Bool {
        record.u64(record.count - 8) == taskID && Int(record.u32(record.count - 16)) == cpu
    }
}

extension UnsafeRawBufferPointer {
    // Unaligned host-order loads at offsets the caller checked.
    func u16(_ offset: Int) -> UInt16 { loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
    func u32(_ offset: Int) -> UInt32 { loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    func i32(_ offset: Int) -> Int32 { loadUnaligned(fromByteOffset: offset, as: Int32.self) }
    func u64(_ offset: Int) -> UInt64 { loadUnaligned(fromByteOffset: offset, as: UInt64.self) }

    /// The bytes of `range` up to the first NUL, as UTF-8 (invalid bytes
    /// become U+FFFD).
    func string(_ range: Range<Int>) -> String {
        let bytes = self[range]
        let end = bytes.firstIndex(of: 0) ?? range.upperBound
        return String(decoding: self[range.lowerBound..<end], as: UTF8.self)
    }
}
