import CTraceABI
import TraceFormat
import TraceProtocol

/// A session's execution events (docs/design.md, "Execution events"): the
/// processes whose threads it records as the kernel saw them, and their
/// events waiting for the next frame, per thread.
///
/// `ExecutionRecorder` hands it every event of a recorded thread in time
/// order (it holds back what a CPU not yet drained could still precede);
/// `flush` appends one kernel batch per thread that has events, so a
/// thread's batches follow each other in time and never overlap, as the
/// format requires.
final class SessionExecution {
    /// A process the session records: a client (its key is the client's,
    /// so the kernel's events merge with its annotations) or a process that
    /// does not link TraceClient (`--pid`), which traced describes itself.
    struct Process {
        let key: UInt32
        let pid: Int32
        /// The process record traced writes for a process that is not a
        /// client; nil for a client (the member writes its own).
        let record: ProcessRecord?
        /// Strings traced defined for the process (thread names, syscall
        /// names), from TC_KERNEL_STRING_BASE.
        var strings: [String: UInt32] = [:]
        var ended = false
    }

    private struct ThreadKey: Hashable {
        var pid: Int32
        var tid: Int32
    }

    let sessionStart: UInt64
    private(set) var processes: [Int32: Process] = [:]
    private var threads: [ThreadKey: KernelEventWriter] = [:]
    /// Strings defined since the last flush: they go out before its batches.
    private var newStrings: [(process: UInt32, record: StringRecord)] = []
    /// Processes (not clients) added since the last flush.
    private var newProcesses: [ProcessRecord] = []
    private(set) var events: UInt64 = 0
    var lost: UInt64 = 0
    private(set) var leftOut: [String] = []
    private var leftOutPIDs = Set<Int32>()

    /// Notes a process the session selects but does not record, once.
    func leaveOut(_ pid: Int32, _ why: String) {
        guard leftOutPIDs.insert(pid).inserted else { return }
        leftOut.append(why)
    }

    func isLeftOut(_ pid: Int32) -> Bool { leftOutPIDs.contains(pid) }
    /// Set while the kernel's events cannot be recorded, with the setting
    /// that would enable them.
    var problem = ""

    init(sessionStart: UInt64) {
        self.sessionStart = sessionStart
    }

    var recordedPIDs: [Int32] { processes.values.filter { !$0.ended }.map(\.pid).sorted() }

    func key(of pid: Int32) -> UInt32? { processes[pid].map(\.key) }

    /// Starts recording `pid`, keyed `key`; `record` for a process that is
    /// not a client.
    func add(pid: Int32, key: UInt32, record: ProcessRecord?) {
        guard processes[pid] == nil else { return }
        processes[pid] = Process(key: key, pid: pid, record: record)
        if let record { newProcesses.append(record) }
    }

    /// Stops recording `pid` (its client left, or it exited): what it
    /// recorded so far stays.
    func remove(pid: Int32) {
        processes[pid]?.ended = true
    }

    /// The writer of `tid`'s events, nil if the session does not record its
    /// process or the event is older than the session.
    private func withThread(pid: Int32, tid: Int32, at time: UInt64, _ body: (inout KernelEventWriter, UInt32) -> Void) {
        guard time >= sessionStart, let process = processes[pid], !process.ended else { return }
        let key = ThreadKey(pid: pid, tid: tid)
        var writer = threads[key] ?? KernelEventWriter(baseTime: time)
        let before = writer.count
        body(&writer, process.key)
        events &+= UInt64(writer.count - before)
        threads[key] = writer
    }

    /// The id of `value` among the strings traced defined for `pid`.
    private func string(_ value: String, pid: Int32) -> UInt32 {
        guard !value.isEmpty, var process = processes[pid] else { return 0 }
        if let id = process.strings[value] { return id }
        let id = UInt32(TC_KERNEL_STRING_BASE) &+ UInt32(process.strings.count)
        process.strings[value] = id
        processes[pid] = process
        newStrings.append((process.key, StringRecord(id: id, value: value)))
        return id
    }

    // MARK: Events

    func switchOut(pid: Int32, tid: Int32, at time: UInt64, state: Int, cpu: Int, wait: Int, why: String) {
        let why = string(why, pid: pid)
        withThread(pid: pid, tid: tid, at: time) { writer, _ in
            writer.switchOut(at: time, state: state, cpu: UInt32(clamping: cpu), wait: wait, why: why)
        }
    }

    func switchIn(pid: Int32, tid: Int32, at time: UInt64, cpu: Int) {
        withThread(pid: pid, tid: tid, at: time) { writer, _ in writer.switchIn(at: time, cpu: UInt32(clamping: cpu)) }
    }

    /// Woken by `waker` (pid, tid): named only when the session records
    /// that process too (its members are those the requester may see).
    func wakeup(pid: Int32, tid: Int32, at time: UInt64, cpu: Int, waker: (pid: Int32, tid: Int32)?) {
        let wakerKey = waker.flatMap { processes[$0.pid] }.map(\.key)
        withThread(pid: pid, tid: tid, at: time) { writer, _ in
            writer.wakeup(at: time, wakerProcess: wakerKey ?? 0, wakerTID: wakerKey == nil ? 0 : UInt32(clamping: waker?.tid ?? 0),
                          cpu: UInt32(clamping: cpu))
        }
    }

    func name(pid: Int32, tid: Int32, at time: UInt64, _ name: String) {
        let id = string(name, pid: pid)
        withThread(pid: pid, tid: tid, at: time) { writer, _ in writer.name(at: time, name: id) }
    }

    /// The process's counters, in its main thread's batch.
    func stats(pid: Int32, at time: UInt64, _ values: [(what: Int, value: UInt64)]) {
        withThread(pid: pid, tid: pid, at: time) { writer, _ in
            for (what, value) in values { writer.stat(at: time, what: what, value: value) }
        }
    }

    /// When the counters are next due (CLOCK_MONOTONIC ns).
    var nextStats: UInt64 = 0

    func exit(pid: Int32, tid: Int32, at time: UInt64) {
        withThread(pid: pid, tid: tid, at: time) { writer, _ in writer.exit(at: time) }
    }

    // MARK: Output

    /// New process records and strings, then a kernel batch per thread with
    /// events; the next batch of a thread starts where its last ended.
    func flush(into w: inout ByteWriter) {
        for record in newProcesses { record.encode(into: &w) }
        newProcesses.removeAll()
        for (process, record) in newStrings { MetadataRecord.string(record).encode(process: process, into: &w) }
        newStrings.removeAll()
        for (key, writer) in threads where writer.count > 0 {
            guard let process = processes[key.pid] else { continue }
            writer.encode(process: process.key, tid: UInt32(clamping: key.tid), into: &w)
            threads[key] = KernelEventWriter(baseTime: writer.lastTime)
        }
    }

    /// What a new file needs before the kernel batches it will take: the
    /// records of the processes traced describes, and every string it
    /// defined (a file decodes alone). A string also waiting for the next
    /// flush is then written twice, which readers accept (the copies are
    /// the same).
    func preamble(into w: inout ByteWriter) {
        for process in processes.values.sorted(by: { $0.key < $1.key }) {
            process.record?.encode(into: &w)
            for (value, id) in process.strings.sorted(by: { $0.value < $1.value }) {
                MetadataRecord.string(StringRecord(id: id, value: value)).encode(process: process.key, into: &w)
            }
        }
    }

    func status(recording: Bool) -> SessionStatus.Execution {
        SessionStatus.Execution(recording: recording, problem: problem, events: events, lost: lost, processes: recordedPIDs,
                                leftOut: leftOut)
    }
}
