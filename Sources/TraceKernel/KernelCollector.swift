import CTraceABI
package import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Records, system-wide, what the scheduler did and which processes came
/// and went: per online CPU, sched:sched_switch (with its callchain: what
/// a thread that sleeps waits for, and its user stack; three events once
/// `select` filters) and
/// sched:sched_waking (every one, `sample_period` 1), a dummy software
/// event that carries fork, exit, comm and executable mmap records, and
/// optionally the CPU clock sampling user stacks, all on CLOCK_MONOTONIC,
/// all into one perf ring per CPU (docs/design.md, "Kernel events: the
/// collector").
///
///     let collector = try KernelCollector(tracepoints: try Tracepoints.locate(), cpuSampleHertz: 99)
///     try collector.enable()
///     while running {
///         try collector.wait(timeoutMilliseconds: 10)
///         collector.drain { record in ... }     // per CPU, in ring order
///     }
///     try collector.disable()
///     collector.drain { record in ... }
///
/// Needs CAP_PERFMON (or root), root to read tracefs, and CAP_SYSLOG to
/// see the kernel's symbols (without it every wait is classified by the
/// thread's state alone). Not thread-safe: one thread opens, drains and
/// closes it; closing is deinit.
package final class KernelCollector {
    /// 512 KiB per CPU, drained whenever `wait` returns, lost nothing at
    /// ~600,000 records a second on one CPU without callchains, and up to
    /// 0.3 % at 300,000-400,000 with them, when records are ~60 % larger
    /// (docs/design.md); a fixed 10 ms between drains is not enough there. With its control page it is also
    /// the 516 KiB per online CPU that a user without CAP_IPC_LOCK may lock
    /// for perf rings by default (kernel.perf_event_mlock_kb; beyond it
    /// RLIMIT_MEMLOCK counts).
    package static let defaultRingSize = 512 << 10
    /// The most CPU samples a second asked for: the kernel's own default
    /// limit (kernel.perf_event_max_sample_rate, which it lowers when
    /// sampling takes too long) is 100,000, far past what a tracer needs.
    package static let maximumSampleHertz = 10_000

    /// What was collected and dropped on one CPU.
    package struct CPUStatistics: Equatable, Sendable {
        package var cpu: Int
        /// Records handed to `drain`'s body, `lost` ones included.
        package var records = 0
        /// Records the kernel had no room for in this CPU's ring, as its
        /// PERF_RECORD_LOST records counted them.
        package var lost: UInt64 = 0
        /// Records too short for their type or not from this ring's events.
        package var undecodable = 0
        /// Records of types not decoded (throttling and the like).
        package var otherTypes = 0
        /// CPU samples of the idle task, dropped.
        package var idleSamples = 0
        /// Switches and wakings recorded twice while `select` replaced
        /// their events, dropped.
        package var duplicates = 0
        package var ring = PerfRing.Statistics()

        package init(cpu: Int) { self.cpu = cpu }
    }

    /// One CPU's events and the ring they share: mapped on the task
    /// event (the last of `others`), which is never replaced, so that
    /// `select` can replace the scheduler's events (`sched`).
    private struct CPURing {
        var cpu: Int
        /// The switch event(s) and the waking one.
        var sched: [(name: String, event: PerfEvent)]
        /// The CPU clock's, if it samples, and the task event.
        var others: [(name: String, event: PerfEvent)]
        var ring: PerfRing
        var decoder: RecordDecoder
        /// `select` replaced the scheduler's events since the last drain:
        /// for a moment both old and new recorded (`Duplicates`).
        var replaced = false
        var ringEvent: PerfEvent { others[others.count - 1].event }
        var events: [(name: String, event: PerfEvent)] { sched + others }
    }

    package let cpus: [Int]
    /// Each CPU's ring, in bytes.
    package let ringSize: Int
    package private(set) var statistics: [CPUStatistics]
    private var rings: [CPURing]
    /// The threads whose switches and wakings are recorded (`select`); nil: all.
    package private(set) var filter: ThreadFilter?
    /// Between `enable` and `disable`: events `select` opens are enabled.
    private var isEnabled = false
    private let layout: SchedLayout
    private let options: Options

    package static let switchName = "sched:sched_switch"
    /// The other switch events of a filtering collector (`select`).
    package static let switchInName = "sched:sched_switch (switch-ins)"
    package static let runnableName = "sched:sched_switch (runnable)"
    package static let wakingName = "sched:sched_waking"
    package static let taskName = "software:dummy"
    package static let cpuClockName = "software:cpu-clock"

    /// What each CPU's events record besides the scheduler's records.
    struct Options {
        var callchains: Bool
        var cpuSampleHertz: Int
        var classifier: WaitClassifier?
        var translation: PidNamespaceTranslation?
    }

    /// Opens the events, disabled, on every CPU of `cpus` (the online ones
    /// if nil), each CPU's into a ring of `ringSize` bytes (a power of two
    /// number of pages) that `wait` reports readable once it holds
    /// `ringSize / 4` bytes.
    ///
    /// With `callchains`, every switch carries the previous thread's
    /// kernel and user frames, and the switch-out of one that went to sleep
    /// is classified by `classifier` (if nil, one made from /proc/kallsyms:
    /// ~150 ms in a release build, so a process that opens collectors
    /// again and again makes one and hands it to each).
    /// `cpuSampleHertz` above 0 samples what runs on each CPU that many
    /// times a second, with its user stack.
    package init(tracepoints: Tracepoints, cpus: [Int]? = nil, ringSize: Int = defaultRingSize,
                 callchains: Bool = true, classifier: WaitClassifier? = nil, cpuSampleHertz: Int = 0) throws(KernelError) {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard ringSize >= pageSize, ringSize <= PerfRing.maximumDataSize, ringSize & (ringSize - 1) == 0 else {
            throw .ringSize(bytes: ringSize, pageSize: pageSize)
        }
        guard (0...Self.maximumSampleHertz).contains(cpuSampleHertz) else { throw .cpuSampleRate(hertz: cpuSampleHertz) }
        let layout = try SchedLayout(switchFormat: try tracepoints.format("sched", "sched_switch"),
                                     wakingFormat: try tracepoints.format("sched", "sched_waking"))
        var classifier = classifier
        if callchains && classifier == nil { classifier = WaitClassifier(symbols: try KernelSymbols.load()) }
        let options = Options(callchains: callchains, cpuSampleHertz: cpuSampleHertz, classifier: callchains ? classifier : nil,
                              translation: PidNamespaceTranslation.ifNeeded())
        let chosen: [Int]
        if let cpus { chosen = cpus } else { chosen = try OnlineCPUs.read() }
        var rings: [CPURing] = []
        do {
            for cpu in chosen {
                rings.append(try Self.open(cpu: cpu, layout: layout, options: options, ringSize: ringSize, pageSize: pageSize))
            }
        } catch {
            for ring in rings { ring.events.forEach { $0.event.close() } }
            throw error
        }
        self.cpus = chosen
        self.ringSize = ringSize
        self.rings = rings
        self.layout = layout
        self.options = options
        statistics = chosen.map(CPUStatistics.init(cpu:))
    }

    deinit {
        for ring in rings { ring.events.forEach { $0.event.close() } }
    }

    private static let samples = TC_PERF_SAMPLE_IDENTIFIER | TC_PERF_SAMPLE_TID | TC_PERF_SAMPLE_TIME | TC_PERF_SAMPLE_CPU

    /// The switch and waking events' attributes, and those of a switch
    /// event without callchains and one with user callchains only.
    private static func schedAttributes(layout: SchedLayout, options: Options)
        -> (switch: tc_perf_attr, waking: tc_perf_attr, switchIn: tc_perf_attr, runnable: tc_perf_attr) {
        let tracepoint = tc_perf_attr(
            type: TC_PERF_TYPE_TRACEPOINT, flags: TC_PERF_ATTR_DISABLED | TC_PERF_ATTR_USE_CLOCKID,
            config: 0, sample_period: 1, sample_type: samples | TC_PERF_SAMPLE_RAW, read_format: TC_PERF_FORMAT_LOST,
            wakeup_watermark: 0, clockid: CLOCK_MONOTONIC, sample_max_stack: 0)
        var switchAttributes = tracepoint
        switchAttributes.config = layout.switchID
        if options.callchains {
            switchAttributes.sample_type |= TC_PERF_SAMPLE_CALLCHAIN
            switchAttributes.sample_max_stack = UInt16(Callchain.limit)
        }
        var wakingAttributes = tracepoint
        wakingAttributes.config = layout.wakingID
        var switchInAttributes = tracepoint
        switchInAttributes.config = layout.switchID
        var runnableAttributes = switchAttributes
        runnableAttributes.flags |= TC_PERF_ATTR_EXCLUDE_CALLCHAIN_KERNEL
        return (switchAttributes, wakingAttributes, switchInAttributes, runnableAttributes)
    }

    private static func open(cpu: Int, layout: SchedLayout, options: Options, ringSize: Int,
                             pageSize: Int) throws(KernelError) -> CPURing {
        let (switchAttributes, wakingAttributes, _, _) = schedAttributes(layout: layout, options: options)
        // Timer samples of what runs, at a frequency the kernel keeps by
        // adjusting the period; the user stack only, since the kernel's
        // at a timer interrupt says nothing about the thread.
        let clockAttributes = tc_perf_attr(
            type: TC_PERF_TYPE_SOFTWARE,
            flags: TC_PERF_ATTR_DISABLED | TC_PERF_ATTR_USE_CLOCKID | TC_PERF_ATTR_FREQ | TC_PERF_ATTR_EXCLUDE_CALLCHAIN_KERNEL,
            config: TC_PERF_COUNT_SW_CPU_CLOCK, sample_period: UInt64(options.cpuSampleHertz),
            sample_type: samples | TC_PERF_SAMPLE_CALLCHAIN, read_format: TC_PERF_FORMAT_LOST, wakeup_watermark: 0,
            clockid: CLOCK_MONOTONIC, sample_max_stack: UInt16(Callchain.limit))
        // The ring's owner: its watermark is the ring's.
        let taskAttributes = tc_perf_attr(
            type: TC_PERF_TYPE_SOFTWARE,
            flags: TC_PERF_ATTR_DISABLED | TC_PERF_ATTR_USE_CLOCKID | TC_PERF_ATTR_SAMPLE_ID_ALL | TC_PERF_ATTR_TASK
                | TC_PERF_ATTR_COMM | TC_PERF_ATTR_COMM_EXEC | TC_PERF_ATTR_MMAP | TC_PERF_ATTR_MMAP2 | TC_PERF_ATTR_BUILD_ID
                | TC_PERF_ATTR_WATERMARK,
            config: TC_PERF_COUNT_SW_DUMMY, sample_period: 0, sample_type: samples, read_format: TC_PERF_FORMAT_LOST,
            wakeup_watermark: UInt32(ringSize / 4), clockid: CLOCK_MONOTONIC, sample_max_stack: 0)

        // The task event last, so that `enable` starts it first; its ring
        // is the one mapped.
        var opening = [(switchName, switchAttributes), (wakingName, wakingAttributes)]
        if options.cpuSampleHertz > 0 { opening.append((cpuClockName, clockAttributes)) }
        opening.append((taskName, taskAttributes))
        var events: [(name: String, event: PerfEvent)] = []
        var handedOver = false
        defer { if !handedOver { events.forEach { $0.event.close() } } }
        for (name, attributes) in opening {
            do {
                events.append((name, try PerfEvent.open(attributes, pid: -1, cpu: Int32(clamping: cpu), name: name)))
            } catch {
                throw .open(event: name, cpu: cpu, error)
            }
        }
        let mapping: MemoryMapping
        do {
            mapping = try MemoryMapping(descriptor: events[events.count - 1].event.descriptor, size: pageSize + ringSize)
        } catch {
            throw .map(cpu: cpu, bytes: pageSize + ringSize, error)
        }
        let ring: PerfRing
        do {
            ring = try PerfRing(mapping: mapping, pageSize: pageSize)
        } catch {
            throw .ringGeometry(cpu: cpu, problem: error.problem)
        }
        var ids: [UInt64] = []
        for (index, (name, event)) in events.enumerated() {
            do {
                if index < events.count - 1 { try event.setOutput(to: events[events.count - 1].event) }
                ids.append(try event.id())
            } catch {
                throw .control(event: name, cpu: cpu, error)
            }
        }
        handedOver = true
        let decoder = RecordDecoder(
            cpu: cpu, layout: layout, switchID: ids[0], wakingID: ids[1], taskID: ids[ids.count - 1],
            sampleID: options.cpuSampleHertz > 0 ? ids[2] : nil, switchCallchains: options.callchains,
            classifier: options.classifier, translation: options.translation)
        return CPURing(cpu: cpu, sched: Array(events[0..<2]), others: Array(events[2...]), ring: ring, decoder: decoder)
    }

    /// Starts recording: the task events first, so that a thread's fork
    /// or name is not missed while its switches or samples are already
    /// recorded.
    package func enable() throws(KernelError) {
        for ring in rings {
            for (name, event) in ring.events.reversed() {
                do { try event.enable() } catch { throw .control(event: name, cpu: ring.cpu, error) }
            }
        }
        isEnabled = true
    }

    /// Stops recording; what is in the rings stays there for `drain`.
    package func disable() throws(KernelError) {
        for ring in rings {
            for (name, event) in ring.events {
                do { try event.disable() } catch { throw .control(event: name, cpu: ring.cpu, error) }
            }
        }
        isEnabled = false
    }

    /// Whether `select` can filter: thread ids are the kernel's (no pid
    /// namespace of its own).
    package var canSelect: Bool { options.translation == nil }

    /// The rings' descriptors, one per CPU: each is readable (`poll`,
    /// `epoll`) once its ring holds a quarter of its size.
    package var descriptors: [FileDescriptor] { rings.map { $0.ringEvent.descriptor } }

    /// Waits until a ring holds a quarter of its size, or the timeout
    /// passes (`poll(2)`; a signal returns early).
    package func wait(timeoutMilliseconds: Int32) throws(SystemError) {
        _ = try Poll.wait(for: descriptors, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// Hands every record the rings hold to `body`: CPU by CPU, each CPU's
    /// in ring order (near time order, not exactly: sort by `time`), and
    /// gives their space back to the kernel. Returns how many.
    @discardableResult
    package func drain(_ body: (KernelRecord) -> Void) -> Int {
        var handed = 0
        for index in rings.indices {
            let cpuRing = rings[index]
            // A local copy: `body` may read `statistics` meanwhile.
            var counts = statistics[index]
            if cpuRing.replaced {
                var duplicates = Duplicates()
                var dropped = 0
                handed += Self.drain(cpuRing.ring, decoder: cpuRing.decoder, counts: &counts) { record in
                    if duplicates.repeats(record) { dropped += 1 } else { body(record) }
                }
                counts.duplicates += dropped
                counts.records -= dropped
                handed -= dropped
                // The replaced events were closed before this read: the
                // ring held their last records.
                rings[index].replaced = false
                rings[index].decoder.forgetReplaced()
            } else {
                handed += Self.drain(cpuRing.ring, decoder: cpuRing.decoder, counts: &counts, body)
            }
            statistics[index] = counts
        }
        return handed
    }

    /// Records only the switches and wakings of `threads` (host thread ids;
    /// nil: every thread's), by the kernel's filter (`ThreadFilter`); the
    /// task events and CPU samples stay unfiltered. With callchains, a
    /// filtered collector records switches with three events: one with
    /// callchains for the switches out of chosen threads that go to wait,
    /// one with user callchains only for those still runnable (preempted),
    /// and one without for the switches into a chosen thread from one that
    /// is not, so that the kernel never unwinds the stacks of a thread not
    /// chosen when it hands its CPU to one that is, nor the kernel stack of
    /// a preempted one; each switch is recorded once. Each CPU's scheduler events are opened anew with the
    /// filter, enabled, and only then the old ones closed: a switch in
    /// between is recorded twice and the next drain hands it on once.
    /// Returns false, changing nothing, if `filter` is the one in place,
    /// or if the collector cannot filter (`canSelect`).
    @discardableResult
    package func select(_ filter: ThreadFilter?) throws(KernelError) -> Bool {
        guard filter != self.filter else { return false }
        // The filter compares the kernel's thread ids, not those of a pid
        // namespace of the collector's own.
        guard filter == nil || canSelect else { return false }
        let (switchAttributes, wakingAttributes, switchInAttributes, runnableAttributes)
            = Self.schedAttributes(layout: layout, options: options)
        typealias Planned = (name: String, attributes: tc_perf_attr, kind: RecordDecoder.SchedEvent, filter: String?)
        var plan: [Planned] = [(Self.switchName, switchAttributes, .switches, filter?.switchFilter)]
        if let filter, options.callchains {
            plan = [(Self.switchName, switchAttributes, .switches, filter.switchOutFilter),
                    (Self.runnableName, runnableAttributes, .switches, filter.runnableOutFilter),
                    (Self.switchInName, switchInAttributes, .switchIns, filter.switchInFilter)]
        }
        plan.append((Self.wakingName, wakingAttributes, .wakings, filter?.wakingFilter))
        for index in rings.indices {
            let cpu = rings[index].cpu
            var opened: [(name: String, event: PerfEvent)] = []
            var ids: [(id: UInt64, kind: RecordDecoder.SchedEvent)] = []
            for planned in plan {
                do {
                    let event = try PerfEvent.open(planned.attributes, pid: -1, cpu: Int32(clamping: cpu), name: planned.name)
                    opened.append((planned.name, event))
                    if let expression = planned.filter { try event.setFilter(expression) }
                    try event.setOutput(to: rings[index].ringEvent)
                    ids.append((try event.id(), planned.kind))
                } catch {
                    opened.forEach { $0.event.close() }
                    throw .control(event: planned.name, cpu: cpu, error)
                }
            }
            for (name, event) in opened where isEnabled {
                do { try event.enable() } catch {
                    opened.forEach { $0.event.close() }
                    throw .control(event: name, cpu: cpu, error)
                }
            }
            let old = rings[index].sched
            rings[index].sched = opened
            rings[index].decoder.replace(with: ids)
            rings[index].replaced = true
            // Disabled first: closing an event of a mapped ring's output
            // would do, but a disabled one writes nothing more at once.
            for (_, event) in old {
                try? event.disable()
                event.close()
            }
        }
        self.filter = filter
        return true
    }

    /// One CPU's part of `drain`: every record `ring` holds, decoded by
    /// `decoder`, to `body`, or counted in `counts` as skipped. Apart from
    /// the events, so that a ring the caller writes itself (the fuzz
    /// target, in a memfd) goes through the collector's own code.
    @inline(__always)
    package static func drain(_ ring: PerfRing, decoder: RecordDecoder, counts: inout CPUStatistics,
                              _ body: (KernelRecord) -> Void) -> Int {
        var handed = 0
        ring.read { bytes in
            switch decoder.decode(bytes) {
            case .record(let record):
                if case .lost(_, let count) = record { counts.lost = counts.lost.saturatingAdd(count) }
                counts.records += 1
                handed += 1
                body(record)
            case .undecodable: counts.undecodable += 1
            case .otherType: counts.otherTypes += 1
            case .idleSample: counts.idleSamples += 1
            }
        }
        counts.ring = ring.statistics
        return handed
    }

    /// The kernel's own count, per CPU of `cpus`, of records its rings had
    /// no room for (`read(2)` of each event with `PERF_FORMAT_LOST`). The
    /// kernel reports losses in the ring only ahead of the next record
    /// that fits, so after `disable()` and a last `drain` this minus
    /// `statistics[i].lost` is what was lost too late to be reported.
    package func kernelLostCounts() throws(KernelError) -> [UInt64] {
        var counts: [UInt64] = []
        for ring in rings {
            var total: UInt64 = 0
            for (name, event) in ring.events {
                do {
                    total = total.saturatingAdd(try event.readCountAndLost()?.lost ?? 0)
                } catch {
                    throw .control(event: name, cpu: ring.cpu, error)
                }
            }
            counts.append(total)
        }
        return counts
    }
}
