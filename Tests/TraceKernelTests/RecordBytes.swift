import CTraceABI
import TraceKernel
import TraceSystem

/// Perf records written by hand, in host byte order, as the kernel writes them.
struct RecordBytes {
    var bytes: [UInt8] = []

    init(type: UInt32, misc: UInt16 = 0) {
        append(type)
        append(misc)
        append(UInt16(0))  // size, set by `finished`
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    mutating func append(bytes more: [UInt8]) { bytes.append(contentsOf: more) }

    /// Pads to 8 bytes and writes the size into the header.
    func finished() -> [UInt8] {
        var result = bytes
        while result.count % 8 != 0 { result.append(0) }
        withUnsafeBytes(of: UInt16(result.count)) { result.replaceSubrange(6..<8, with: $0) }
        return result
    }

    /// A tracepoint sample: id, pid/tid, time, cpu, the callchain's `nr`
    /// and entries if there is one, then `raw` behind its size.
    static func sample(id: UInt64, pid: Int32, tid: Int32, time: UInt64, cpu: UInt32, callchain: [UInt64]? = nil,
                       raw: [UInt8]) -> [UInt8] {
        var record = RecordBytes(type: TC_PERF_RECORD_SAMPLE)
        record.appendSampleStart(id: id, pid: pid, tid: tid, time: time, cpu: cpu)
        if let callchain { record.append(callchain: callchain) }
        record.append(UInt32(raw.count))
        record.append(bytes: raw)
        return record.finished()
    }

    /// A CPU clock sample: id, pid/tid, time, cpu, callchain.
    static func cpuSample(id: UInt64, pid: Int32, tid: Int32, time: UInt64, cpu: UInt32, callchain: [UInt64]) -> [UInt8] {
        var record = RecordBytes(type: TC_PERF_RECORD_SAMPLE)
        record.appendSampleStart(id: id, pid: pid, tid: tid, time: time, cpu: cpu)
        record.append(callchain: callchain)
        return record.finished()
    }

    /// A callchain's entries as the kernel writes them: each part that is
    /// there behind its context marker.
    static func chain(kernel: [UInt64]?, user: [UInt64]?) -> [UInt64] {
        (kernel.map { [TC_PERF_CONTEXT_KERNEL] + $0 } ?? []) + (user.map { [TC_PERF_CONTEXT_USER] + $0 } ?? [])
    }

    mutating func appendSampleStart(id: UInt64, pid: Int32, tid: Int32, time: UInt64, cpu: UInt32) {
        append(id)
        append(pid)
        append(tid)
        append(time)
        append(cpu)
        append(UInt32(0))
    }

    mutating func append(callchain: [UInt64]) {
        append(UInt64(callchain.count))
        for entry in callchain { append(entry) }
    }

    /// The sample id fields a side-band record of the dummy event ends with.
    mutating func appendSampleID(pid: Int32, tid: Int32, time: UInt64, cpu: UInt32, id: UInt64) {
        while bytes.count % 8 != 0 { bytes.append(0) }
        append(pid)
        append(tid)
        append(time)
        append(cpu)
        append(UInt32(0))
        append(id)
    }

    /// A raw record of `size` bytes with `values` written at their offsets.
    static func raw(size: Int, _ values: [(offset: Int, bytes: [UInt8])]) -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: size)
        for value in values { raw.replaceSubrange(value.offset..<(value.offset + value.bytes.count), with: value.bytes) }
        return raw
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
}

/// The format files of Linux 6.18 (x86_64), as tracefs gives them.
enum Formats {
    static let schedSwitchText = """
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

        print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d"

        """

    static let schedWakingText = """
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

        print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu

        """

    static func schedSwitch() throws -> TracepointFormat {
        try TracepointFormat(parsing: schedSwitchText, name: "sched:sched_switch", id: 372, path: "sched_switch/format")
    }

    static func schedWaking() throws -> TracepointFormat {
        try TracepointFormat(parsing: schedWakingText, name: "sched:sched_waking", id: 375, path: "sched_waking/format")
    }

    static func layout() throws -> SchedLayout {
        try SchedLayout(switchFormat: try schedSwitch(), wakingFormat: try schedWaking())
    }
}

/// A kernel's text symbols in kallsyms' format, at made-up addresses, and
/// return addresses inside them (`Kallsyms.at("futex_wait")`).
enum Kallsyms {
    static let functions = [
        "_stext", "entry_SYSCALL_64_after_hwframe", "do_syscall_64", "x64_sys_call", "__x64_sys_futex", "do_futex",
        "futex_wait", "futex_do_wait", "__schedule", "schedule", "schedule_timeout", "io_schedule", "folio_wait_bit",
        "ksys_read", "vfs_read", "anon_pipe_read", "__x64_sys_clock_nanosleep", "do_nanosleep", "worker_thread",
        "__traceiter_sched_switch", "perf_trace_sched_switch", "ksys_msgctl.constprop.0",
    ]

    static let base: UInt64 = 0xffff_ffff_8100_0000

    /// The kallsyms text: the functions 0x100 bytes apart, in reverse
    /// order (the table must sort them), with a data symbol and a module's
    /// function among them.
    static var text: String {
        var lines = functions.enumerated().reversed().map { index, name in
            String(base + UInt64(index) * 0x100, radix: 16) + (index % 2 == 0 ? " T " : " t ") + name
        }
        lines.insert(String(base + 0x8000, radix: 16) + " D some_data", at: 3)
        lines.append("ffffffffc0001000 t module_function\t[mymodule]")
        return lines.joined(separator: "\n") + "\n"
    }

    static func symbols() -> KernelSymbols { KernelSymbols(parsing: Array(text.utf8)) }

    /// A return address 0x10 bytes into `function`.
    static func at(_ function: String) -> UInt64 {
        base + UInt64(functions.firstIndex(of: function) ?? 0) * 0x100 + 0x10
    }
}

/// A perf ring in a memfd, its control page written by hand: the test
/// plays the kernel.
final class HandRing {
    let descriptor: FileDescriptor
    let mapping: MemoryMapping
    let dataSize: Int
    static let pageSize = 4096
    var head: UInt64 = 0

    init(dataSize: Int, startingAt start: UInt64 = 0) throws {
        self.dataSize = dataSize
        descriptor = try SharedMemory.create(name: "traced-test-perf-ring", size: Self.pageSize + dataSize)
        mapping = try MemoryMapping(descriptor: descriptor, size: Self.pageSize + dataSize)
        store(UInt64(Self.pageSize), at: Int(TC_PERF_PAGE_DATA_OFFSET))
        store(UInt64(dataSize), at: Int(TC_PERF_PAGE_DATA_SIZE))
        store(start, at: Int(TC_PERF_PAGE_DATA_TAIL))
        head = start
        publish()
    }

    deinit { descriptor.close() }

    func ring() throws -> PerfRing { try PerfRing(mapping: mapping, pageSize: Self.pageSize) }

    func store(_ value: UInt64, at offset: Int) { mapping.base.storeBytes(of: value, toByteOffset: offset, as: UInt64.self) }

    var tail: UInt64 { mapping.base.load(fromByteOffset: Int(TC_PERF_PAGE_DATA_TAIL), as: UInt64.self) }

    /// Writes `bytes` at the head, wrapping at the end of the data area,
    /// without publishing them.
    func write(_ bytes: [UInt8]) {
        for (index, byte) in bytes.enumerated() {
            let position = Int((head + UInt64(index)) % UInt64(dataSize))
            mapping.base.storeBytes(of: byte, toByteOffset: Self.pageSize + position, as: UInt8.self)
        }
        head += UInt64(bytes.count)
    }

    /// Stores the head, as the kernel does after its records.
    func publish() { store(head, at: Int(TC_PERF_PAGE_DATA_HEAD)) }
}
