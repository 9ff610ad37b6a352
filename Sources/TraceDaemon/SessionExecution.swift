import CTraceABI
import TraceFormat
import TraceProtocol

/// A session's execution events (docs/design.md, "Execution events"): the
/// processes whose threads it records as the kernel saw them, and their
/// events waiting for the next frame, per thread.
///
/// `ExecutionRecorder` hands it every event of a recorded thread in time
/// order (it holds back what a CPU not yet drained could still precede),
/// addressed to the thread's writer slot;
/// `flush` appends one kernel batch per thread that has events, so a
/// thread's batches follow each other in time and never overlap, as the
/// format requires.
///
/// A process's life here (docs/design.md, "Execution events", "A recorded
/// process's end"): recorded from `add` until `until`, a moment in the
/// kernel's time (CLOCK_MONOTONIC ns; `UInt64.max` while nothing ends it):
/// `end` sets it when its client leaves (at once if it stopped tracing,
/// `exitGrace` later if it exited or disconnected), when its main thread
/// exits (`exitGrace` later, at the latest) and when its last thread
/// switched out for good. Events after `until` are left out, in time
/// order whichever drain brings them; once the recorder handed every event
/// up to `until`, `retire` forgets the pid (`recordedPIDs`, `status`). A
/// client that joins while traced records its pid under a key of its own
/// takes the pid over (`add`): the kernel's events go under the client's
/// key from then on.
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
        /// User stacks traced defined for the process, ids from
        /// TC_KERNEL_STRING_BASE + 1.
        var stacks: [StackRecord] = []
        /// Image records traced wrote for the process (not for a client,
        /// which writes its own), each once, at most `maximumImages`.
        var images: [ImageRecord] = []
        var imageSet: Set<ImageRecord> = []
        /// Its kernel events up to this moment are recorded (`end`).
        var until = UInt64.max
        /// The end of a process traced described itself until a client of
        /// the same pid took it over: "tracing stopped" under this key.
        var handedOver: ProcessEnd?
    }

    /// How long a client that exited or disconnected stays recorded at
    /// most, and a process whose main thread exited: its threads' last
    /// switches come after the kernel closed its socket (do_exit closes
    /// files before the threads' last schedule), and threads that
    /// exit_group killed may wait for a CPU a scheduling period or two
    /// first (6-24 ms with CFS's defaults), or, on a loaded host, much
    /// longer: a thread preempted after its exit record waited more than
    /// 50 ms for its last switch under the full test suite on 2 CPUs.
    /// 250 drain margins (500 ms); normally the last thread's final
    /// switch-out ends the process sooner. A client that disconnects and
    /// lives on is recorded this much longer, not forever.
    static let exitGrace: UInt64 = 250 * ExecutionRecorder.margin

    /// Images kept per process: a process that maps ever new files (dlopen
    /// and dlclose in a loop) gets no more, and frames in later ones show
    /// as addresses. Real processes map tens to a few hundred.
    static let maximumImages = 1024

    /// A thread of a process key: after a handover the same tid has a
    /// writer under each key.
    private struct ThreadKey: Hashable {
        var process: UInt32
        var tid: Int32
    }

    let sessionStart: UInt64
    /// Every process the session recorded, by key (the preamble names them
    /// all: a file may hold batches of one that ended).
    private(set) var processes: [UInt32: Process] = [:]
    /// One writer per recorded thread, by slot (`slot(pid:tid:)`), with its
    /// thread and process key.
    private var writers: [KernelEventWriter] = []
    private var slotThreads: [ThreadKey] = []
    private var slotOf: [ThreadKey: Int32] = [:]
    /// The slots of each process key.
    private var slotsOf: [UInt32: [Int32]] = [:]
    /// Per slot: its process's `until`.
    private var slotUntil: [UInt64] = []
    /// The key each pid is recorded under now, until `retire` (bit
    /// patterns: a `ThreadTable`, for the waker lookup on the hot path).
    private var recordedKeys = ThreadTable()
    /// Ends of handed-over processes since the last flush.
    private var newEnds: [ProcessEnd] = []
    /// Strings defined since the last flush: they go out before its batches.
    private var newStrings: [(process: UInt32, record: StringRecord)] = []
    /// Processes (not clients) added since the last flush.
    private var newProcesses: [ProcessRecord] = []
    /// Images defined since the last flush.
    private var newImages: [(process: UInt32, record: ImageRecord)] = []
    private(set) var events: UInt64 = 0
    /// Records the collector lost (PERF_RECORD_LOST) while the session
    /// recorded: every loss a drain reads goes to each session recording
    /// execution events at that drain, since what was lost cannot be told
    /// apart by process (docs/design.md, "Losses").
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

    /// CPU samples a second the session asked for (0: none).
    let sampleHertz: UInt32

    init(sessionStart: UInt64, sampleHertz: UInt32) {
        self.sessionStart = sessionStart
        self.sampleHertz = sampleHertz
    }

    /// The pids recorded now, a process that left or exited included until
    /// `retire`.
    var recordedPIDs: [Int32] { recordedKeys.entries.map(\.key).sorted() }

    func key(of pid: Int32) -> UInt32? { recordedKeys[pid].map { UInt32(bitPattern: $0) } }

    /// Starts recording `pid`, keyed `key`; `record` for a process that is
    /// not a client. A client (`record` nil) takes over a pid recorded
    /// under another key: that process ends `now` (events up to the
    /// handover stay under its key: they were recorded so, and the reader
    /// needs no rewrite), a process traced described with a "tracing
    /// stopped" end, and its threads get writers under the client's key.
    func add(pid: Int32, key: UInt32, record: ProcessRecord?, now: UInt64) {
        if let previous = self.key(of: pid) {
            guard record == nil, previous != key else { return }
            end(pid: pid, at: now)
            if processes[previous]?.record != nil {
                let ended = ProcessEnd(process: previous, ticks: now, reason: .tracingStopped)
                processes[previous]?.handedOver = ended
                newEnds.append(ended)
            }
        }
        processes[key] = Process(key: key, pid: pid, record: record)
        recordedKeys[pid] = Int32(bitPattern: key)
        if let record { newProcesses.append(record) }
    }

    /// Whether traced describes `pid` itself (a recorded process that is
    /// not a client): its images are traced's to write.
    func describes(_ pid: Int32) -> Bool {
        guard let key = key(of: pid) else { return false }
        return processes[key]?.record != nil
    }

    /// An image of `pid`, if traced describes the process and has not
    /// written this image yet; written before the next flush's batches.
    func image(pid: Int32, _ image: ImageRecord) {
        // In place: a copy of the process would copy its tables.
        guard describes(pid), let key = key(of: pid), (processes[key]?.images.count ?? 0) < Self.maximumImages,
              processes[key]?.imageSet.insert(image).inserted == true else { return }
        processes[key]?.images.append(image)
        newImages.append((key, image))
    }

    /// Records `pid`'s kernel events up to `time` at most (its client
    /// left, or it exited): what it recorded so far stays, and so do its
    /// events up to `time` that a later drain brings. With `key`, only if
    /// the pid is recorded under that key (a client leaving ends its own
    /// recording, not a later one's).
    func end(pid: Int32, key wanted: UInt32? = nil, at time: UInt64) {
        guard let key = key(of: pid), wanted == nil || wanted == key, let process = processes[key],
              time < process.until else { return }
        processes[key]?.until = time
        for slot in slotsOf[key] ?? [] { slotUntil[Int(slot)] = time }
    }

    /// Forgets the pids whose `until` the recorder handed every event up
    /// to (`through`: the kernel's events before it are all handed on).
    /// Returns whether one was.
    func retire(through: UInt64) -> Bool {
        var retired = false
        recordedKeys.removeAll { _, key in
            let ended = processes[UInt32(bitPattern: key)].map { $0.until < through } ?? true
            retired = retired || ended
            return ended
        }
        return retired
    }

    /// Whether a batch of process `key` may still come: it is recorded, or
    /// a writer of it holds events for the next flush (the preamble of a
    /// new file names a departed client then).
    func mayWrite(process key: UInt32) -> Bool {
        if let process = processes[key], self.key(of: process.pid) == key { return true }
        return (slotsOf[key] ?? []).contains { writers[Int($0)].count > 0 }
    }

    /// The writer slot of thread `tid` of `pid`, made on first use; nil
    /// if the session does not record `pid`.
    func slot(pid: Int32, tid: Int32) -> Int32? {
        guard let key = key(of: pid), let process = processes[key] else { return nil }
        let thread = ThreadKey(process: key, tid: tid)
        if let slot = slotOf[thread] { return slot }
        let slot = Int32(writers.count)
        writers.append(KernelEventWriter(baseTime: sessionStart))
        slotThreads.append(thread)
        slotUntil.append(process.until)
        slotOf[thread] = slot
        slotsOf[key, default: []].append(slot)
        return slot
    }

    /// The id of `value` among the strings traced defined for process `key`.
    private func string(_ value: String, process key: UInt32) -> UInt32 {
        // Changed in place (`processes[key]?.…`): a copy taken out of the
        // dictionary would share its table, so each insert would copy it.
        guard !value.isEmpty, let count = processes[key]?.strings.count else { return 0 }
        if let id = processes[key]?.strings[value] { return id }
        let id = UInt32(TC_KERNEL_STRING_BASE) &+ UInt32(count)
        processes[key]?.strings[value] = id
        newStrings.append((key, StringRecord(id: id, value: value)))
        return id
    }

    // MARK: Events

    /// Writes routed events, in time order, into their threads' writers:
    /// `strings` are the recorder's (`RoutedEvent.text`). Events older than
    /// the session, or after their process's `until`, are left out.
    func apply(_ routed: [RoutedEvent], strings: [String], stacks: [ExecutionRecorder.UserStack]) {
        // The writers are moved into a local for the loop: no copy, and
        // no exclusivity check per event.
        var writers: [KernelEventWriter] = []
        swap(&writers, &self.writers)
        defer { swap(&writers, &self.writers) }
        var written = 0
        for event in routed where event.time >= sessionStart {
            let slot = Int(event.slot)
            guard event.time <= slotUntil[slot] else { continue }
            let thread = slotThreads[slot]
            let before = writers[slot].count
            switch event.kind {
            case .switchOut:
                let why = event.text >= 0 ? text(Int(event.text), strings, process: thread.process) : 0
                let stack = event.stack >= 0 ? stackID(Int(event.stack), stacks, process: thread.process) : nil
                writers[slot].switchOut(at: event.time, state: Int(event.state), cpu: event.cpu, wait: Int(event.wait), why: why,
                                        stack: stack)
            case .switchIn:
                writers[slot].switchIn(at: event.time, cpu: event.cpu)
            case .wakeup:
                // The waker is named only when the session records its
                // process too (its members are those the requester may see).
                let waker = event.wakerPID > 0 ? recordedKeys[event.wakerPID].map { UInt32(bitPattern: $0) } : nil
                writers[slot].wakeup(at: event.time, wakerProcess: waker ?? 0,
                                     wakerTID: waker == nil ? 0 : UInt32(clamping: event.wakerTID), cpu: event.cpu)
            case .name:
                guard event.text >= 0 else { continue }
                writers[slot].name(at: event.time, name: text(Int(event.text), strings, process: thread.process))
            case .exit:
                writers[slot].exit(at: event.time)
            case .sample:
                // The collector samples at the highest rate a session asked
                // for; a session that asked for none takes none.
                guard sampleHertz > 0, event.stack >= 0,
                      let stack = stackID(Int(event.stack), stacks, process: thread.process) else { continue }
                writers[slot].sample(at: event.time, cpu: event.cpu, stack: stack)
            }
            written += writers[slot].count - before
        }
        events &+= UInt64(written)
    }

    /// The id for the recorder's string `index`, per process key (a
    /// process taken over defines its strings again), cached.
    private func text(_ index: Int, _ strings: [String], process: UInt32) -> UInt32 {
        let key = ProcessScopedIndex(process: process, index: Int32(index))
        if let id = textIDs[key] { return id }
        let id = string(strings[index], process: process)
        textIDs[key] = id
        return id
    }

    private struct ProcessScopedIndex: Hashable {
        var process: UInt32
        var index: Int32
    }

    private var textIDs: [ProcessScopedIndex: UInt32] = [:]

    /// The id of the recorder's stack `index` in process `key`, defined on
    /// first use (a stack record, from TC_KERNEL_STRING_BASE like the strings).
    private func stackID(_ index: Int, _ stacks: [ExecutionRecorder.UserStack], process processKey: UInt32) -> UInt32? {
        let key = ProcessScopedIndex(process: processKey, index: Int32(index))
        if let id = stackIDs[key] { return id }
        // Appended in place, as in `string`: a copy of the process would
        // copy every stack it holds on each new one.
        guard let count = processes[processKey]?.stacks.count else { return nil }
        let stack = stacks[index]
        let id = UInt32(TC_KERNEL_STRING_BASE) &+ UInt32(count) &+ 1
        let record = StackRecord(id: id, frames: Array(stack.frames.prefix(StackRecord.maximumDepth)),
                                 cut: stack.cut || stack.frames.count > StackRecord.maximumDepth)
        processes[processKey]?.stacks.append(record)
        newStacks.append((processKey, record))
        stackIDs[key] = id
        return id
    }

    private var stackIDs: [ProcessScopedIndex: UInt32] = [:]
    /// Stacks defined since the last flush.
    private var newStacks: [(process: UInt32, record: StackRecord)] = []

    /// A name read from /proc (a process's threads when it starts being
    /// recorded).
    func name(pid: Int32, tid: Int32, at time: UInt64, _ name: String) {
        guard let slot = slot(pid: pid, tid: tid) else { return }
        let id = string(name, process: slotThreads[Int(slot)].process)
        writers[Int(slot)].name(at: time, name: id)
        events &+= 1
    }

    /// The process's counters, in its main thread's batch.
    func stats(pid: Int32, at time: UInt64, _ values: [(what: Int, value: UInt64)]) {
        guard let slot = slot(pid: pid, tid: pid) else { return }
        for (what, value) in values { writers[Int(slot)].stat(at: time, what: what, value: value) }
        events &+= UInt64(values.count)
    }

    /// When the counters are next due (CLOCK_MONOTONIC ns).
    var nextStats: UInt64 = 0

    // MARK: Output

    /// New process records and strings, then a kernel batch per thread with
    /// events; the next batch of a thread starts where its last ended.
    func flush(into w: inout ByteWriter) {
        for record in newProcesses { record.encode(into: &w) }
        newProcesses.removeAll()
        for end in newEnds { end.encode(into: &w) }
        newEnds.removeAll()
        for (process, record) in newStrings { MetadataRecord.string(record).encode(process: process, into: &w) }
        newStrings.removeAll()
        for (process, record) in newStacks { MetadataRecord.stack(record).encode(process: process, into: &w) }
        newStacks.removeAll()
        for (process, record) in newImages { MetadataRecord.image(record).encode(process: process, into: &w) }
        newImages.removeAll()
        for slot in writers.indices where writers[slot].count > 0 {
            writers[slot].encode(process: slotThreads[slot].process, tid: UInt32(clamping: slotThreads[slot].tid), into: &w)
            writers[slot] = KernelEventWriter(baseTime: writers[slot].lastTime)
        }
    }

    /// What a new file needs before the kernel batches it will take: the
    /// records of the processes traced describes, every string and stack
    /// it defined and the images of those processes (a file decodes alone). A string also waiting for the next
    /// flush is then written twice, which readers accept (the copies are
    /// the same).
    func preamble(into w: inout ByteWriter) {
        for process in processes.values.sorted(by: { $0.key < $1.key }) {
            process.record?.encode(into: &w)
            process.handedOver?.encode(into: &w)
            for (value, id) in process.strings.sorted(by: { $0.value < $1.value }) {
                MetadataRecord.string(StringRecord(id: id, value: value)).encode(process: process.key, into: &w)
            }
            for stack in process.stacks { MetadataRecord.stack(stack).encode(process: process.key, into: &w) }
            for image in process.images { MetadataRecord.image(image).encode(process: process.key, into: &w) }
        }
    }

    /// `lost` as a drops record of the kernel collector (process 0,
    /// reason "kernel ring full"), once there is a loss: cumulative, so a
    /// file's last one holds the total so far. The session writes it at
    /// every scrape, at the start and end of every file, so rotation, a
    /// write failure and the stop lose none of it.
    func writeDrops(into w: inout ByteWriter) {
        guard lost > 0 else { return }
        DropCounts(process: DropCounts.kernelCollector, counts: [UInt32(TC_DROP_KERNEL_RING_FULL): lost]).encode(into: &w)
    }

    func status(recording: Bool) -> SessionStatus.Execution {
        SessionStatus.Execution(recording: recording, problem: problem, events: events, lost: lost, processes: recordedPIDs,
                                leftOut: leftOut)
    }
}
