import TraceFormat
/// The scheduler's events of a Perfetto export as the ftrace events a
/// Linux trace holds (`FtraceEventBundle`, one CPU's events), from which
/// trace_processor builds `thread_state` (and `sched`) as it does for any
/// Linux trace: a switch closes the state of the thread leaving (and opens
/// the state it left in) and opens "Running" for the thread arriving; a
/// waking turns a waiting thread runnable (R).
///
/// traced sees only the threads of the processes it records, so a switch is
/// known from one side: the thread leaving, or the thread arriving. A
/// switch-out and a switch-in on one CPU at one instant are one switch
/// (`sched_switch` from one to the other); a side traced did not see is
/// pid 0, which trace_processor takes for the idle task and draws no state
/// for. Events of one instant go out switch-outs first (each with the
/// switch-in it pairs with), then the other switch-ins, then wakings:
/// trace_processor expects a CPU's switches to chain (each `prev_pid` the
/// last `next_pid`), and a waking at the instant its thread gets a CPU is
/// no wait.
///
/// traced records no priorities: a recorded thread's is written as 120, a
/// normal thread's (the UI would call 0 real-time).
///
/// Not `compact_sched`: it leaves out `prev_pid`, which trace_processor then
/// takes from the CPU's last switch, and that is often a thread traced does
/// not record.
///
/// A waking is written on the CPU the thread is to run on (traced does not
/// know the waker's CPU, where the kernel logs it), with the waker as the
/// event's running thread when the trace records it. What the thread waits
/// in (`why`: futex, read...) goes with its switch-out as a
/// `sched_blocked_reason` whose caller is that name, interned as a kernel
/// symbol (trace_processor shows it as the state's `blocked_function`),
/// with `io_wait` for a wait the report calls io (`PerfettoKernelExport`
/// says which waits get a reason).
///
/// Memory: events are held per CPU and written as a bundle once a CPU holds
/// `bundleLimit` of them, at a change of instant (an instant's events are
/// never split, for the pairing); at most `bundleLimit` + one instant's
/// events per CPU.
final class PerfettoSchedBundles {
    typealias F = PerfettoSchema

    /// A thread as the events name it: its tid, and its name (comm) then.
    struct Identity {
        var tid: Int32
        var comm: [UInt8]
    }

    private enum Record {
        /// A switch-out: `why` a kernel symbol iid (0: none), `ioWait` nil
        /// when no blocked reason goes with it.
        case out(identity: Int32, state: Int64, why: UInt64, ioWait: Bool?)
        case `in`(identity: Int32)
        case waking(identity: Int32, waker: Int32, targetCPU: UInt32)
    }

    private struct CPU {
        var records: [(time: Int64, record: Record)] = []
    }

    private let packets: PerfettoPacketWriter
    private let bundleLimit: Int
    private var identities: [Identity] = []
    private var cpus: [CPU] = []
    /// Kernel symbol iids by name id, and those no packet defined yet.
    private var symbols: [UInt32: UInt64] = [:]
    private var pendingSymbols: [(iid: UInt64, name: String)] = []
    private var clockWritten = false
    /// CPUs are numbered below this: trace_processor refuses a bundle of a
    /// CPU past it (as a sign of a damaged trace), and a CPU number from a
    /// file must not size `cpus`.
    static let cpuLimit: UInt32 = 1024
    /// Events of CPUs numbered past `cpuLimit`, left out.
    private(set) var leftOut = 0

    init(packets: PerfettoPacketWriter, bundleLimit: Int = 4096) {
        self.packets = packets
        self.bundleLimit = bundleLimit
    }

    /// Identity `index`.
    func identity(at index: Int32) -> Identity { identities[Int(index)] }

    /// A new identity (a thread seen, or renamed): the index events name it by.
    func identity(_ identity: Identity) -> Int32 {
        identities.append(identity)
        return Int32(identities.count - 1)
    }

    /// The iid of kernel symbol `name` (a name id), defined with the next
    /// bundle written.
    func symbol(_ name: UInt32, text: () -> String) -> UInt64 {
        if let known = symbols[name] { return known }
        let iid = UInt64(symbols.count) + 1
        symbols[name] = iid
        pendingSymbols.append((iid, text()))
        return iid
    }

    func switchOut(time: Int64, cpu: UInt32, identity: Int32, state: Int64, why: UInt64, ioWait: Bool?) throws {
        try add(time, cpu, .out(identity: identity, state: state, why: why, ioWait: ioWait))
    }

    func switchIn(time: Int64, cpu: UInt32, identity: Int32) throws {
        try add(time, cpu, .in(identity: identity))
    }

    /// `waker`: the waking thread's identity, -1 when the trace does not
    /// record it (an interrupt, another process).
    func waking(time: Int64, cpu: UInt32, identity: Int32, waker: Int32) throws {
        try add(time, cpu, .waking(identity: identity, waker: waker, targetCPU: cpu))
    }

    /// Writes what every CPU still holds.
    func finish() throws {
        for cpu in cpus.indices where !cpus[cpu].records.isEmpty { try writeBundle(UInt32(cpu)) }
    }

    private func add(_ time: Int64, _ cpu: UInt32, _ record: Record) throws {
        guard cpu < Self.cpuLimit else {
            leftOut += 1
            return
        }
        let index = Int(cpu)
        if index >= cpus.count { cpus.append(contentsOf: repeatElement(CPU(), count: index + 1 - cpus.count)) }
        if cpus[index].records.count >= bundleLimit, let last = cpus[index].records.last?.time, time > last {
            try writeBundle(cpu)
        }
        cpus[index].records.append((time, record))
    }

    // MARK: Writing

    private func writeBundle(_ cpu: UInt32) throws {
        let records = cpus[Int(cpu)].records
        cpus[Int(cpu)].records.removeAll(keepingCapacity: true)
        if !clockWritten, let first = records.first?.time {
            // trace_processor reads ftrace times as CLOCK_BOOTTIME; ours are
            // CLOCK_MONOTONIC. One snapshot where both read the same makes
            // it take them as they are.
            try packets.clockSnapshot(monotonic: UInt64(clamping: first), boottime: UInt64(clamping: first))
            clockWritten = true
        }
        let output = packets.output
        let packet = output.begin(F.Trace.packet)
        output.varint(F.TracePacket.trustedPacketSequenceID, packets.sequence)
        output.varint(F.TracePacket.sequenceFlags, F.TracePacket.sequenceNeedsIncrementalState)
        if !pendingSymbols.isEmpty {
            let data = output.begin(F.TracePacket.internedData)
            for symbol in pendingSymbols {
                let entry = output.begin(F.InternedData.kernelSymbols)
                output.varint(F.Interned.iid, symbol.iid)
                output.string(F.Interned.name, symbol.name)
                output.end(entry)
            }
            output.end(data)
            pendingSymbols.removeAll()
        }
        let bundle = output.begin(F.TracePacket.ftraceEvents)
        output.varint(F.FtraceEventBundle.cpu, UInt64(cpu))
        var start = records.startIndex
        while start < records.endIndex {
            var end = start + 1
            while end < records.endIndex, records[end].time == records[start].time { end += 1 }
            writeInstant(records[start].time, records[start..<end])
            start = end
        }
        output.end(bundle)
        output.end(packet)
        try output.boundary()
    }

    /// One instant's events of a CPU, in the order the type's comment gives.
    private func writeInstant(_ time: Int64, _ records: ArraySlice<(time: Int64, record: Record)>) {
        var ins: [Int32] = []
        for entry in records { if case .in(let identity) = entry.record { ins.append(identity) } }
        var paired = 0
        for entry in records {
            guard case .out(let identity, let state, let why, let ioWait) = entry.record else { continue }
            let next: Int32? = paired < ins.count ? ins[paired] : nil
            if next != nil { paired += 1 }
            writeSwitch(time, prev: identity, state: state, next: next)
            if let ioWait { writeBlockedReason(time, identity, why: why, ioWait: ioWait) }
        }
        for next in ins.dropFirst(paired) { writeSwitch(time, prev: nil, state: F.TaskState.runnable, next: next) }
        for entry in records {
            guard case .waking(let identity, let waker, let cpu) = entry.record else { continue }
            writeWaking(time, identity, waker: waker, targetCPU: cpu)
        }
    }

    /// `prev` or `next` nil: the idle task (pid 0), for a side not recorded.
    private func writeSwitch(_ time: Int64, prev: Int32?, state: Int64, next: Int32?) {
        let output = packets.output
        let event = beginEvent(time, running: prev.map { identities[Int($0)].tid } ?? 0)
        let body = output.begin(F.FtraceEvent.schedSwitch)
        if let prev {
            comm(F.SchedSwitch.prevComm, prev)
            output.int64(F.SchedSwitch.prevPID, Int64(identities[Int(prev)].tid))
            output.varint(F.SchedSwitch.prevPrio, F.SchedSwitch.normalPriority)
        }
        output.int64(F.SchedSwitch.prevState, state)
        if let next {
            comm(F.SchedSwitch.nextComm, next)
            output.int64(F.SchedSwitch.nextPID, Int64(identities[Int(next)].tid))
            output.varint(F.SchedSwitch.nextPrio, F.SchedSwitch.normalPriority)
        }
        output.end(body)
        output.end(event)
    }

    private func writeBlockedReason(_ time: Int64, _ identity: Int32, why: UInt64, ioWait: Bool) {
        let output = packets.output
        let tid = identities[Int(identity)].tid
        let event = beginEvent(time, running: tid)
        let body = output.begin(F.FtraceEvent.schedBlockedReason)
        output.int64(F.SchedBlockedReason.pid, Int64(tid))
        if why != 0 { output.varint(F.SchedBlockedReason.caller, why) }
        output.bool(F.SchedBlockedReason.ioWait, ioWait)
        output.end(body)
        output.end(event)
    }

    private func writeWaking(_ time: Int64, _ identity: Int32, waker: Int32, targetCPU: UInt32) {
        let output = packets.output
        let event = beginEvent(time, running: waker >= 0 ? identities[Int(waker)].tid : 0)
        let body = output.begin(F.FtraceEvent.schedWaking)
        comm(F.SchedWaking.comm, identity)
        output.int64(F.SchedWaking.pid, Int64(identities[Int(identity)].tid))
        output.varint(F.SchedWaking.targetCPU, UInt64(targetCPU))
        output.end(body)
        output.end(event)
    }

    /// A thread's name, left out while it has none (trace_processor would
    /// name the thread "").
    private func comm(_ field: UInt32, _ identity: Int32) {
        let comm = identities[Int(identity)].comm
        if !comm.isEmpty { packets.output.bytes(field, comm) }
    }

    /// An `FtraceEvent` at `time` while `running` (a tid) ran; trace_processor
    /// refuses an event without one.
    private func beginEvent(_ time: Int64, running: Int32) -> ProtobufWriter.Mark {
        let output = packets.output
        let event = output.begin(F.FtraceEventBundle.event)
        output.varint(F.FtraceEvent.timestamp, UInt64(clamping: time))
        output.varint(F.FtraceEvent.pid, UInt64(UInt32(bitPattern: running)))
        return event
    }
}
