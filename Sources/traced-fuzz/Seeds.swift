import CTraceABI
import Foundation
import TraceFormat
import TraceProtocol
import TraceRing

/// The seed corpus: well-formed inputs of each target built with the real
/// encoders, so fuzzing starts from what peers and files really hold.
/// `traced-fuzz seeds DIR` writes them into DIR/TARGET/NAME.
enum Seeds {
    static func write(into directory: String) throws -> Int {
        var written = 0
        for (target, seeds) in [(FuzzTarget.producerMessages, producer()), (.controlMessages, control()),
                                (.bufferConsumer, buffer()), (.traceFile, traceFile()), (.elfFile, elfFile()),
                                (.kernelRing, kernelRing())] {
            let folder = directory + "/" + target.rawValue
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, bytes) in seeds {
                try Data(bytes).write(to: URL(fileURLWithPath: folder + "/seed-" + name))
                written += 1
            }
        }
        return written
    }

    /// A FuzzInput run: a 16-bit length, then the bytes.
    static func run(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8(truncatingIfNeeded: bytes.count), UInt8(truncatingIfNeeded: bytes.count >> 8)] + bytes
    }

    static func producer() -> [(String, [UInt8])] {
        let hello = Hello(abiMajor: UInt64(TC_ABI_MAJOR), abiMinor: UInt64(TC_ABI_MINOR), processName: "cafe", bufferSize: 4 << 20)
        let fromClient = hello.encode() + ControlAck(sequence: 3).encode() + Goodbye(reason: .tracingInProcess).encode()
        let fromDaemon = Welcome(clientID: 7, control: ControlWord(enabled: true, stacks: false), sequence: 1).encode()
            + Control(sequence: 2, control: ControlWord(enabled: true, stacks: true)).encode()
            + Refused(reason: "buffer of 1 bytes is smaller than its header").encode()
        return [("client", [0] + run(fromClient)), ("daemon", [0] + run(fromDaemon)),
                ("split-hello", [0] + run(Array(hello.encode().prefix(7))) + run(Array(hello.encode().dropFirst(7))))]
    }

    static func control() -> [(String, [UInt8])] {
        var config = SessionConfig()
        config.pids = [42, 7]
        config.processNames = ["cafe*", "?rew"]
        config.categories = ["orders"]
        config.stacks = true
        config.mode = .flightRecorder
        config.windowBytes = 1 << 20
        config.windowSeconds = 30
        var otlp = SessionConfig.OTLP(endpoint: "http://127.0.0.1:4318")
        otlp.sampleEvery = 10
        config.otlp = otlp
        var snapshots = SessionConfig.Snapshots(triggers: [SessionConfig.Trigger(type: "/orders/{id}", thresholdNanoseconds: 250_000_000)])
        snapshots.maximum = 3
        config.snapshots = snapshots
        let requests = ControlHello().encode() + ControlRequest.start(name: "s", config: config).encode()
            + ControlRequest.stop(name: "s").encode() + ControlRequest.list.encode() + ControlRequest.status(name: "s").encode()
            + ControlRequest.fetch(name: "s").encode() + ControlRequest.listSnapshots(name: "s").encode()
            + ControlRequest.fetchSnapshot(name: "s", index: 2).encode() + ControlRequest.takeSnapshot(name: "s").encode()
            + ControlRequest.watch(name: "s").encode()
        let client = SessionStatus.Client(pid: 42, name: "cafe", connected: true, events: 1000,
                                          dropped: ["buffer full": 3], bytes: 20_000, malformed: 1)
        var sending = SessionStatus.OTLP(url: "http://127.0.0.1:4318/v1/traces")
        sending.spans = 30
        sending.sent = 20
        sending.dropped = ["queue full": 10]
        let status = SessionStatus(name: "s", state: .running, mode: .streaming, owner: 0, startedRealtimeNanoseconds: 1,
                                   stoppedRealtimeNanoseconds: 0, events: 1000, dropped: ["buffer full": 3, "metadata lost": 1],
                                   bytesRaw: 20_000, bytesCompressed: 5000, files: 1, filesDeleted: 0, diskBytes: 5000,
                                   clients: [client], otlp: sending)
        let daemon = DaemonStatus(version: "0.1.0", pid: 1, uptimeSeconds: 5, clients: 1, runtimeDirectory: "/run/traced",
                                  stateDirectory: "/var/lib/traced", diskBytes: 5000, diskQuota: 1 << 30)
        let replies = ControlReply.started(name: "s").encode() + ControlReply.stopped(status).encode()
            + ControlReply.sessions([status, status]).encode() + ControlReply.status(daemon, [status]).encode()
            + ControlReply.fetchData([1, 2, 3]).encode() + ControlReply.fetchEnd(bytes: 3, files: 1).encode()
            + ControlReply.error(.limitReached("too many sessions")).encode()
            + ControlReply.error(.unsupportedVersion(2)).encode()
        var list = SnapshotList()
        let entry = SnapshotList.Entry(index: 1, file: "000001.trace", realtimeNanoseconds: 7, trigger: "/orders/{id}>250ms",
                                       taskType: "/orders/{id}", taskID: 9, pid: 42, latencyNanoseconds: 300_000_000, bytes: 4096)
        list.snapshots = [entry]
        list.triggers = [SnapshotList.Trigger(trigger: "/orders/{id}>250ms")]
        list.heldBack = 2
        let snapshotReplies = ControlReply.snapshots(list).encode() + ControlReply.snapshotTaken(entry).encode()
            + ControlReply.liveData([4, 34, 77, 24]).encode() + ControlReply.liveLost(LiveLoss(frames: 2, bytes: 9000, events: 3000)).encode()
            + ControlReply.liveStatus(status).encode()
        return [("requests", [0] + run(requests)), ("replies", [1] + run(replies + snapshotReplies))]
    }

    /// Buffer programs: op codes as `BufferConsumerTarget.Program.step` reads them.
    static func buffer() -> [(String, [UInt8])] {
        var counters = ByteWriter()
        for value in 0..<20 {
            counters.byte(TraceEventKind.counterInteger.tag)
            counters.varint(UInt64(1))
            counters.varint(UInt64(1))
            counters.zigzag(Int64(value))
        }
        var regions = ByteWriter()
        regions.byte(TraceEventKind.regionBegin.tag); regions.varint(UInt64(5)); regions.varint(UInt64(2))
        regions.byte(TraceEventKind.context.tag); regions.zigzag(Int64(9)); regions.zigzag(Int64(4))
        regions.byte(TraceEventKind.log.tag); regions.varint(UInt64(1)); regions.varint(UInt64(3)); regions.varint(UInt64(4 << 1))
        regions.raw(Array("brew".utf8))
        regions.byte(TraceEventKind.regionEnd.tag); regions.varint(UInt64(5)); regions.varint(UInt64(0))
        var metadata = ByteWriter()
        MetadataRecord.string(StringRecord(id: 1, value: "queue depth")).encodeForBuffer(into: &metadata)
        MetadataRecord.thread(ThreadRecord(index: 1, tid: 100, name: "main")).encodeForBuffer(into: &metadata)
        MetadataRecord.stack(StackRecord(id: 1, frames: [0x1000, 0x2000, 0x3001], syncDepth: 2)).encodeForBuffer(into: &metadata)
        func header(chunk: UInt8, thread: UInt8, sequence: UInt8) -> [UInt8] {
            // op 2: thread, (no wide thread), sequence (+2 bias), base ticks, regions, dropped, count.
            [2, chunk, thread, 0, sequence &+ 2] + [UInt8](repeating: 0, count: 8) + [0] + [UInt8](repeating: 0, count: 8)
                + [20, 0, 0, 0]
        }
        let writeAndComplete: [UInt8] =
            [1, 0, 1] + header(chunk: 0, thread: 1, sequence: 0) + [3, 0] + run(counters.bytes) // WRITING, fields, events
            + [10]                                                         // scrape
            + [7] + run(metadata.bytes) + [0] + [11]                       // metadata, take it
            + [1, 0, 2, 5, 0, 9]                                           // COMPLETE, mark, drain
            + [8, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 12]                        // a drop counter, read them
        let twoThreads: [UInt8] =
            [1, 1, 1] + header(chunk: 1, thread: 2, sequence: 1) + [3, 1] + run(regions.bytes) + [1, 1, 2, 5, 1, 9]
            + [1, 0, 1] + header(chunk: 0, thread: 2, sequence: 0) + [3, 0] + run(counters.bytes) + [1, 0, 2, 5, 0, 9]
            + [13, 14, 15, 10]
        return [("complete-chunk", [1] + writeAndComplete), ("out-of-order", [1] + twoThreads),
                ("scribbled-header", [5, 2, 10, 0, 0, 0] + run([0xFF, 0xFF]) + [100, 0, 0, 0] + run([9]) + writeAndComplete)]
    }

    static func traceFile() -> [(String, [UInt8])] {
        var w = ByteWriter()
        FileHeader(createdRealtimeNanoseconds: 1, producer: "traced-fuzz", session: "s", fileIndex: 0).encode(into: &w)
        ProcessRecord(process: 1, pid: 42, uid: 0, name: "cafe", clockKind: UInt32(TC_CLOCK_TSC),
                      nominalTicksPerSecond: 2_000_000_000).encode(into: &w)
        ClockSync(clockKind: UInt32(TC_CLOCK_TSC), ticks: 1000, monotonicNanoseconds: 500, realtimeNanoseconds: 9000).encode(into: &w)
        MetadataRecord.thread(ThreadRecord(index: 1, tid: 100, name: "main")).encode(process: 1, into: &w)
        MetadataRecord.stack(StackRecord(id: 1, frames: [0x1000, 0x2000, 0x3001], syncDepth: 2)).encode(process: 1, into: &w)
        MetadataRecord.stack(StackRecord(id: 2, frames: [0x1000, 0x4000], cut: true)).encode(process: 1, into: &w)
        MetadataRecord.image(ImageRecord(bias: 0x1000, textLow: 0, textHigh: 0x5000, buildID: [1, 2], path: "/bin/cafe"))
            .encode(process: 1, into: &w)
        var events = ByteWriter()
        events.byte(TraceEventKind.taskBegin.tag | TraceEventKind.stackBit); events.varint(UInt64(1)); events.zigzag(Int64(1))
        events.varint(UInt64(2)); events.varint(UInt64(1))
        events.byte(TraceEventKind.context.tag); events.zigzag(Int64(9)); events.zigzag(Int64(1))
        events.byte(TraceEventKind.regionBegin.tag); events.varint(UInt64(5)); events.varint(UInt64(3))
        events.byte(TraceEventKind.log.tag); events.varint(UInt64(1)); events.varint(UInt64(4)); events.varint(UInt64(4 << 1 | 1))
        events.raw(Array("brew".utf8))
        events.byte(TraceEventKind.counterDouble.tag); events.varint(UInt64(1)); events.varint(UInt64(5)); events.double(2.5)
        events.byte(TraceEventKind.regionEnd.tag); events.varint(UInt64(5)); events.varint(UInt64(0))
        events.byte(TraceEventKind.regionEndForeign.tag); events.varint(UInt64(5)); events.varint(UInt64(2)); events.varint(UInt64(0))
        events.byte(TraceEventKind.taskEnd.tag); events.varint(UInt64(7)); events.zigzag(Int64(0))
        events.byte(UInt8(0x40)); events.varint(UInt64(1)); events.varint(UInt64(2)); events.raw([7, 7])
        events.bytes.withUnsafeBytes {
            BatchHeader(process: 1, thread: 1, chunkSequence: 0, segmentOffset: 0, baseTicks: 1000, regionSequence: 0,
                        droppedBefore: 2).encode(events: $0, into: &w)
        }
        // A kernel batch of the same thread (tid 100) and of a thread only the kernel saw.
        var kernel = ByteWriter()
        kernel.byte(UInt8(TC_KEV_SWITCH_OUT) | TraceEventKind.stackBit); kernel.varint(UInt64(0)); kernel.varint(UInt64(1))
        kernel.varint(UInt64(0)); kernel.varint(UInt64(1)); kernel.varint(UInt64(0x8000_0001)); kernel.varint(UInt64(1))
        kernel.byte(UInt8(TC_KEV_WAKEUP)); kernel.varint(UInt64(300)); kernel.varint(UInt64(1)); kernel.varint(UInt64(101))
        kernel.varint(UInt64(1))
        kernel.byte(UInt8(TC_KEV_SWITCH_IN)); kernel.varint(UInt64(20)); kernel.varint(UInt64(1))
        kernel.byte(UInt8(TC_KEV_SAMPLE) | TraceEventKind.stackBit); kernel.varint(UInt64(5)); kernel.varint(UInt64(1))
        kernel.varint(UInt64(1))
        kernel.byte(UInt8(TC_KEV_STAT)); kernel.varint(UInt64(1)); kernel.varint(UInt64(TC_STAT_THREADS)); kernel.varint(UInt64(2))
        kernel.bytes.withUnsafeBytes { KernelBatchHeader(process: 1, tid: 100, baseTime: 600).encode(events: $0, into: &w) }
        var other = ByteWriter()
        other.byte(UInt8(TC_KEV_NAME)); other.varint(UInt64(0)); other.varint(UInt64(0x8000_0001))
        other.byte(UInt8(TC_KEV_EXIT)); other.varint(UInt64(40))
        other.bytes.withUnsafeBytes { KernelBatchHeader(process: 1, tid: 101, baseTime: 650).encode(events: $0, into: &w) }
        MetadataRecord.string(StringRecord(id: 0x8000_0001, value: "futex")).encode(process: 1, into: &w)
        // Names after the events that use them, as a consumer may write them.
        for (id, name) in [(2, "order"), (3, "brew"), (4, "orders"), (5, "queue depth")] {
            MetadataRecord.string(StringRecord(id: UInt32(id), value: name)).encode(process: 1, into: &w)
        }
        ClockSync(clockKind: UInt32(TC_CLOCK_TSC), ticks: 90_000, monotonicNanoseconds: 45_000, realtimeNanoseconds: 53_500).encode(into: &w)
        DropCounts(process: 1, counts: [UInt32(TC_DROP_BUFFER_FULL): 2, UInt32(TC_LOST_METADATA): 1]).encode(into: &w)
        DropCounts(process: DropCounts.kernelCollector, counts: [UInt32(TC_DROP_KERNEL_RING_FULL): 7]).encode(into: &w)
        ProcessEnd(process: 1, ticks: 90_000, reason: .exited).encode(into: &w)
        let records = w.bytes
        var end = ByteWriter()
        end.record(TC_REC_FILE_END) { _ in }
        let whole = records + end.bytes
        let compressor = LZ4FrameCompressor()
        let file = records.withUnsafeBytes { Array(compressor.frame(of: $0)) } + end.bytes.withUnsafeBytes { Array(compressor.frame(of: $0)) }
        let cut = UInt16(records.count / 2)
        return [
            ("records", [0, 0] + [UInt8(truncatingIfNeeded: whole.count), UInt8(truncatingIfNeeded: whole.count >> 8)] + whole),
            ("records-two-files", [2 | 4, 1, UInt8(truncatingIfNeeded: cut), UInt8(truncatingIfNeeded: cut >> 8)]
                + [0xFF, 0xFF] + whole),
            ("raw-file", [1] + file),
            ("raw-damaged", [1 | 8] + Array(file.prefix(20)) + [0x55] + Array(file.dropFirst(21)) + Array(file.prefix(30))),
        ]
    }

    /// A 64-bit ELF file's headers as lld lays them out (a read-only
    /// segment, then text a page further in addresses than in the file, a
    /// note segment aligned to 8 with a property note before the build
    /// id), and the same as a 32-bit file.
    static func elfFile() -> [(String, [UInt8])] {
        func file(wide: Bool) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 0x400)
            func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
                withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + $0.count), with: $0) }
            }
            func word(_ value: UInt64, at offset: Int) { wide ? put(value, at: offset) : put(UInt32(value), at: offset) }
            bytes.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, wide ? 2 : 1, 1])
            let table = wide ? 64 : 52, entry = wide ? 56 : 32
            word(UInt64(table), at: wide ? 32 : 28)
            put(UInt16(entry), at: wide ? 54 : 42)
            put(UInt16(3), at: wide ? 56 : 44)
            func header(_ index: Int, type: UInt32, flags: UInt32, offset: UInt64, address: UInt64, size: UInt64, align: UInt64) {
                let at = table + index * entry
                put(type, at: at)
                put(flags, at: at + (wide ? 4 : 24))
                word(offset, at: at + (wide ? 8 : 4))
                word(address, at: at + (wide ? 16 : 8))
                word(size, at: at + (wide ? 32 : 16))
                word(size, at: at + (wide ? 40 : 20))
                word(align, at: at + (wide ? 48 : 28))
            }
            header(0, type: 1, flags: 4, offset: 0, address: 0, size: 0x300, align: 0x1000)
            header(1, type: 1, flags: 5, offset: 0x300, address: 0x1300, size: 0x100, align: 0x1000)
            let notes = 0x200, gnu: [UInt8] = [0x47, 0x4E, 0x55, 0]
            put(UInt32(4), at: notes); put(UInt32(16), at: notes + 4); put(UInt32(5), at: notes + 8)
            bytes.replaceSubrange((notes + 12)..<(notes + 16), with: gnu)
            put(UInt32(4), at: notes + 32); put(UInt32(20), at: notes + 36); put(UInt32(3), at: notes + 40)
            bytes.replaceSubrange((notes + 44)..<(notes + 48), with: gnu)
            bytes.replaceSubrange((notes + 48)..<(notes + 68), with: (1...20).map { UInt8($0) })
            header(2, type: 4, flags: 4, offset: UInt64(notes), address: UInt64(notes), size: 68, align: 8)
            return bytes
        }
        return [("lld-64", file(wide: true)), ("lld-32", file(wide: false))]
    }

    /// Ring programs: op codes as `KernelRingTarget.Program.step` reads
    /// them, over records as Linux 6.18 writes them for the collector's
    /// events, the first ones straddling the end of the data area.
    static func kernelRing() -> [(String, [UInt8])] {
        typealias R = PerfRecords
        func write(_ record: [UInt8]) -> [UInt8] { [0] + run(record) }
        func le(_ value: UInt64) -> [UInt8] { R.le(value) }
        let publish: UInt8 = 3, drain: UInt8 = 6
        let futexWait = R.chain(
            kernel: ["__schedule", "schedule", "futex_wait", "__x64_sys_futex", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"]
                .map(FuzzKernel.address(of:)),
            user: [0x5555_0000_1234, 0x5555_0000_2345, 0x7fff_0000_0010])
        let pipeRead = R.chain(
            kernel: ["__schedule", "schedule", "anon_pipe_read", "ksys_read", "do_syscall_64"].map(FuzzKernel.address(of:)),
            user: [0x5555_0000_3456])
        let preempted = R.chain(kernel: ["__schedule", "perf_trace_sched_switch"].map(FuzzKernel.address(of:)),
                                user: [0x5555_0000_4567, 0x5555_0000_5678])
        let sideBand = [
            R.task(exit: false, pid: 500, parent: 1, tid: 501, time: 1_000),
            R.comm(pid: 500, tid: 501, name: Array("pingpong".utf8), exec: false, time: 1_010),
            R.mapping(pid: 500, tid: 500, address: 0x5555_0000_0000, length: 0x10_0000, buildID: Array(1...20),
                      path: Array("/usr/bin/TraceFixture".utf8), time: 1_020),
            R.mapping(pid: 500, tid: 500, address: 0x7fff_0000_0000, length: 0x1000, buildID: nil,
                      path: Array("/usr/lib/libc.so.6".utf8), time: 1_030),
        ]
        let scheduler = [
            R.sample(id: R.switchID, pid: 500, tid: 501, time: 2_000, callchain: futexWait,
                     raw: R.switchRaw(previous: 501, state: 0x1, next: 502)),
            R.sample(id: R.wakingID, pid: 500, tid: 502, time: 2_500, callchain: nil, raw: R.wakingRaw(flags: 0x01, wakee: 501)),
            R.sample(id: R.switchID, pid: 500, tid: 502, time: 3_000, callchain: pipeRead,
                     raw: R.switchRaw(previous: 502, state: 0x1, next: 501)),
            R.sample(id: R.switchID, pid: 500, tid: 501, time: 3_500, callchain: preempted,
                     raw: R.switchRaw(previous: 501, state: 0x100, next: 0)),
            R.sample(id: R.wakingID, pid: 0, tid: 0, time: 3_600, callchain: nil, raw: R.wakingRaw(flags: 0x09, wakee: 502)),
            R.sample(id: R.sampleID, pid: 500, tid: 502, time: 4_000, callchain: R.chain(kernel: nil, user: [0x5555_0000_6789]),
                     raw: nil),
            R.sample(id: R.sampleID, pid: 0, tid: 0, time: 4_100, callchain: [], raw: nil),
            R.lost(count: 17),
            R.task(exit: true, pid: 500, parent: 1, tid: 501, time: 5_000),
        ]
        // Callchains, CPU samples and the classifier on, one page; the
        // first record starts 24 bytes before the end.
        let collector: [UInt8] = [4 | 8 | 16] + le(3 * 4096 - 24) + sideBand.flatMap(write) + [publish, drain]
            + scheduler.flatMap(write) + [publish, drain] + scheduler.reversed().flatMap(write) + [publish, drain]
        // No callchains, no CPU samples (their records are then another
        // event's), two pages; and a record type the decoder skips.
        let plain = [1] + le(0) + [
            R.sample(id: R.switchID, pid: 600, tid: 601, time: 10, callchain: nil, raw: R.switchRaw(previous: 601, state: 0x2, next: 0)),
            R.sample(id: R.wakingID, pid: 600, tid: 602, time: 20, callchain: nil, raw: R.wakingRaw(flags: 0x01, wakee: 601)),
            R.sample(id: R.sampleID, pid: 600, tid: 601, time: 30, callchain: [], raw: nil),
            { var throttle = R(type: 5); throttle.append(UInt64(40)); throttle.append(R.switchID); return throttle.finished() }(),
        ].flatMap(write) + [publish, drain]
        // The head jumps far ahead, then behind the tail: both dropped
        // whole; then a record whose size is below a header, and one whose
        // size runs past the head.
        var short = scheduler[1]
        short[6] = 4
        short[7] = 0
        var long = scheduler[1]
        long[6] = 0xF0
        let lying: [UInt8] = [4 | 8 | 16] + le(4096 - 8) + scheduler.prefix(3).flatMap(write) + [publish, drain]
            + [4] + le(1 << 20) + [drain] + [4] + le(UInt64.max - 7) + [drain]
            + scheduler.prefix(2).flatMap(write) + [publish, drain] + write(scheduler[0]) + write(short) + write(scheduler[2]) + [publish, drain]
            + write(scheduler[0]) + write(long) + [publish, drain] + write([1, 2, 3, 4, 5]) + [publish, drain]
        // Structured records from fields (16 pages): a switch with a
        // callchain (futex_wait's kernel frames, a user frame), a waking, a
        // comm, an mmap2.
        let structured: [UInt8] = [2 | 4 | 16] + le(65536 - 40) + [2, 3]
            + [10, 11, 0, 0, 0, 0, 0, 0] + [1, 0, 8, 0, 27, 32, 22, 17, 12, 1, 3, 0x34, 0x12, 3] // switch: state, chain, next
            + [10, 12, 0, 1, 0, 0, 0, 1] + [1, 11]                                   // waking: flags, wakee
            + [10, 11, 0, 2, 0, 0, 0, 5] + [4, 0] + Array("brew".utf8) + [1]         // comm, exec
            + [10, 11, 0, 3, 0, 0, 0, 6] + [1] + [3, 0, 9, 9, 9] + le(0x5555_0000_0000) + [0, 16, 0, 0]
            + [4, 0] + Array("/bin".utf8)                                            // mmap2 with a build id
            + [publish, drain, 7]
        return [("collector-records", collector), ("no-callchains", plain), ("lying-ring", lying), ("structured", structured)]
    }
}
