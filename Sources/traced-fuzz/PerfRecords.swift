import CTraceABI
import TraceKernel

/// Perf records as the kernel writes them into a collector's ring (host
/// byte order, Linux 6.18 x86_64 layouts; RecordDecoder's comment has the
/// offsets), for the kernel-ring target's structured moves and its seeds.
struct PerfRecords {
    var bytes: [UInt8] = []

    /// The event ids the target's decoder is made with, and its CPU.
    static let cpu: UInt32 = 1
    static let switchID: UInt64 = 101, wakingID: UInt64 = 102, taskID: UInt64 = 103, sampleID: UInt64 = 104

    init(type: UInt32, misc: UInt16 = 0) {
        append(type)
        append(misc)
        append(UInt16(0))  // the size, set by `finished`
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    mutating func append(bytes more: some Collection<UInt8>) { bytes.append(contentsOf: more) }

    mutating func pad() { while bytes.count % 8 != 0 { bytes.append(0) } }

    /// Padded to 8 bytes, its size in the header (cut at 16 bits, as a
    /// record past 64 KiB cannot say its size).
    func finished() -> [UInt8] {
        var result = bytes
        while result.count % 8 != 0 { result.append(0) }
        withUnsafeBytes(of: UInt16(truncatingIfNeeded: result.count)) { result.replaceSubrange(6..<8, with: $0) }
        return result
    }

    /// A sample of `id`: pid/tid, time, cpu, then the callchain (`nr`,
    /// entries) if any, then the tracepoint's `raw` bytes behind their size.
    static func sample(id: UInt64, pid: Int32, tid: Int32, time: UInt64, cpu: UInt32 = cpu, callchain: [UInt64]?,
                       raw: [UInt8]?) -> [UInt8] {
        var record = PerfRecords(type: TC_PERF_RECORD_SAMPLE)
        record.append(id)
        record.append(pid)
        record.append(tid)
        record.append(time)
        record.append(cpu)
        record.append(UInt32(0))
        if let callchain {
            record.append(UInt64(callchain.count))
            for entry in callchain { record.append(entry) }
        }
        if let raw {
            record.append(UInt32(truncatingIfNeeded: raw.count))
            record.append(bytes: raw)
        }
        return record.finished()
    }

    /// sched_switch's fields (64 bytes).
    static func switchRaw(previous: Int32, state: Int64, next: Int32) -> [UInt8] {
        raw(size: 64, [(24, le(previous)), (32, le(state)), (56, le(next))])
    }

    /// sched_waking's fields (36 bytes).
    static func wakingRaw(flags: UInt8, wakee: Int32) -> [UInt8] {
        raw(size: 36, [(2, [flags]), (24, le(wakee))])
    }

    /// A callchain's entries: each part that is there behind its marker.
    static func chain(kernel: [UInt64]?, user: [UInt64]?) -> [UInt64] {
        (kernel.map { [TC_PERF_CONTEXT_KERNEL] + $0 } ?? []) + (user.map { [TC_PERF_CONTEXT_USER] + $0 } ?? [])
    }

    /// A side-band record of the dummy event: `type`, `body` after the
    /// header, then the sample id fields (pid, tid, time, cpu, id).
    static func sideBand(type: UInt32, misc: UInt16 = 0, body: [UInt8], pid: Int32, tid: Int32, time: UInt64,
                         cpu: UInt32 = cpu, id: UInt64 = taskID) -> [UInt8] {
        var record = PerfRecords(type: type, misc: misc)
        record.append(bytes: body)
        record.pad()
        record.append(pid)
        record.append(tid)
        record.append(time)
        record.append(cpu)
        record.append(UInt32(0))
        record.append(id)
        return record.finished()
    }

    /// PERF_RECORD_FORK or _EXIT: pid, ppid, tid, ptid, time.
    static func task(exit: Bool, pid: Int32, parent: Int32, tid: Int32, time: UInt64) -> [UInt8] {
        sideBand(type: exit ? TC_PERF_RECORD_EXIT : TC_PERF_RECORD_FORK,
                 body: le(pid) + le(parent) + le(tid) + le(parent) + le(time), pid: pid, tid: tid, time: time)
    }

    /// PERF_RECORD_COMM: pid, tid, the name and its NUL.
    static func comm(pid: Int32, tid: Int32, name: [UInt8], exec: Bool, time: UInt64) -> [UInt8] {
        sideBand(type: TC_PERF_RECORD_COMM, misc: exec ? UInt16(TC_PERF_RECORD_MISC_COMM_EXEC) : 0,
                 body: le(pid) + le(tid) + name + [0], pid: pid, tid: tid, time: time)
    }

    /// PERF_RECORD_MMAP2 with a build id (misc MMAP_BUILD_ID) or device
    /// and inode: pid, tid, addr, len, pgoff, 24 bytes, prot, flags, path.
    static func mapping(pid: Int32, tid: Int32, address: UInt64, length: UInt64, buildID: [UInt8]?, path: [UInt8],
                        time: UInt64) -> [UInt8] {
        var identity = [UInt8](repeating: 0, count: 24)
        if let buildID {
            identity[0] = UInt8(truncatingIfNeeded: buildID.count)
            identity.replaceSubrange(4..<(4 + min(20, buildID.count)), with: buildID.prefix(20))
        }
        let body = le(pid) + le(tid) + le(address) + le(length) + le(UInt64(0)) + identity + le(UInt32(5)) + le(UInt32(2))
            + path + [0]
        return sideBand(type: TC_PERF_RECORD_MMAP2, misc: buildID == nil ? 0 : UInt16(TC_PERF_RECORD_MISC_MMAP_BUILD_ID),
                        body: body, pid: pid, tid: tid, time: time)
    }

    /// PERF_RECORD_LOST: the event's id and the count.
    static func lost(count: UInt64) -> [UInt8] {
        var record = PerfRecords(type: TC_PERF_RECORD_LOST)
        record.append(switchID)
        record.append(count)
        return record.finished()
    }

    static func raw(size: Int, _ values: [(offset: Int, bytes: [UInt8])]) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: size)
        for value in values where value.offset + value.bytes.count <= size {
            raw.replaceSubrange(value.offset..<(value.offset + value.bytes.count), with: value.bytes)
        }
        return raw
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}

/// The kernel the target decodes for: the format files of Linux 6.18
/// (x86_64) and a few text symbols, at made-up addresses, that the wait
/// classifier knows.
enum FuzzKernel {
    static let schedSwitch = """
        name: sched_switch
        ID: 372
        format:
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

        \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
        \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
        \tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
        \tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
        \tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
        \tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
        \tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

        """

    static let schedWaking = """
        name: sched_waking
        ID: 375
        format:
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

        \tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;
        \tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;
        \tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;
        \tfield:int target_cpu;\toffset:32;\tsize:4;\tsigned:1;

        """

    static let layout: SchedLayout = {
        do {
            return try SchedLayout(
                switchFormat: try TracepointFormat(parsing: schedSwitch, name: "sched:sched_switch", id: 372, path: "sched_switch"),
                wakingFormat: try TracepointFormat(parsing: schedWaking, name: "sched:sched_waking", id: 375, path: "sched_waking"))
        } catch {
            fatalError("the built-in format files do not parse: \(error)")
        }
    }()

    /// Kernel functions on the ways a thread goes to sleep.
    static let functions = [
        "_stext", "entry_SYSCALL_64_after_hwframe", "do_syscall_64", "__x64_sys_futex", "futex_wait", "__schedule",
        "schedule", "schedule_timeout", "io_schedule", "ksys_read", "anon_pipe_read", "do_nanosleep", "worker_thread",
        "perf_trace_sched_switch",
    ]

    static let base: UInt64 = 0xffff_ffff_8100_0000

    /// A return address 0x10 bytes into function `index` (modulo their count).
    static func address(_ index: Int) -> UInt64 { base + UInt64(index % functions.count) * 0x100 + 0x10 }

    static func address(of function: String) -> UInt64 { address(functions.firstIndex(of: function) ?? 0) }

    static let classifier: WaitClassifier = {
        let text = functions.enumerated().map { String(base + UInt64($0.offset) * 0x100, radix: 16) + " T " + $0.element }
            .joined(separator: "\n") + "\n"
        return WaitClassifier(symbols: KernelSymbols(parsing: Array(text.utf8)))
    }()
}
