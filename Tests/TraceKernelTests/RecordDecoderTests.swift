import CTraceABI
import TestSupport
import Testing
import TraceKernel
import TraceSystem

/// The decoder on records written by hand as Linux 6.18 writes them, and
/// on records that do not hold what they claim; the format files it
/// takes its offsets from.
@Suite(.tags(.hostileInput)) struct RecordDecoderTests {
    static let cpu = 1
    static let switchID: UInt64 = 101, wakingID: UInt64 = 102, taskID: UInt64 = 103

    static func decoder() throws -> RecordDecoder {
        RecordDecoder(cpu: cpu, layout: try Formats.layout(), switchID: switchID, wakingID: wakingID, taskID: taskID)
    }

    static func decode(_ bytes: [UInt8]) throws -> RecordDecoder.Decoded {
        let decoder = try decoder()
        return bytes.withUnsafeBytes { decoder.decode($0) }
    }

    static func switchRaw(previous: Int32, state: Int64, next: Int32) -> [UInt8] {
        RecordBytes.raw(size: 64, [(24, RecordBytes.le(previous)), (32, RecordBytes.le(state)), (56, RecordBytes.le(next))])
    }

    @Test func theFormatFilesGiveTheOffsetsOfLinux618() throws {
        let layout = try Formats.layout()
        #expect(layout.switchID == 372)
        #expect([layout.previousTID, layout.previousState, layout.previousStateSize, layout.nextTID] == [24, 32, 8, 56])
        #expect(layout.switchMinimumSize == 60)
        #expect(layout.wakingID == 375)
        #expect([layout.wakeeTID, layout.wakingFlags, layout.wakingMinimumSize] == [24, 2, 28])
        #expect(try Formats.schedSwitch().fields["prev_comm"] == TracepointFormat.Field(offset: 8, size: 16))
    }

    @Test func aFormatWithoutAFieldTheDecoderReadsIsRefusedSayingWhich() throws {
        let text = Formats.schedSwitchText.split(separator: "\n").filter { !$0.contains("prev_state") }.joined(separator: "\n")
        let format = try TracepointFormat(parsing: text, name: "sched:sched_switch", id: 372,
                                          path: "/sys/kernel/tracing/events/sched/sched_switch/format")
        let waking = try Formats.schedWaking()
        do {
            _ = try SchedLayout(switchFormat: format, wakingFormat: waking)
            Issue.record("a format without prev_state was accepted")
        } catch {
            #expect(error.description == "tracepoint sched:sched_switch cannot be decoded: no field 'prev_state' in "
                + "'/sys/kernel/tracing/events/sched/sched_switch/format'")
        }
        let narrow = Formats.schedSwitchText.replacingOccurrences(of: "offset:24;\tsize:4;", with: "offset:24;\tsize:2;")
        let narrowFormat = try TracepointFormat(parsing: narrow, name: "sched:sched_switch", id: 372, path: "format")
        do {
            _ = try SchedLayout(switchFormat: narrowFormat, wakingFormat: waking)
            Issue.record("a 2-byte prev_pid was accepted")
        } catch {
            #expect(error.description == "tracepoint sched:sched_switch cannot be decoded: field 'prev_pid' is 2 bytes, not 4 in 'format'")
        }
    }

    @Test func formatLinesThatDoNotParseAreRefused() {
        for line in ["\tfield:int x;\toffset:4;", "\tfield:;\toffset:0;\tsize:4;", "\tfield:int x;\toffset:99999999;\tsize:4;",
                     "\tfield:int x;\toffset:0;\tsize:4;\n\tfield:int x;\toffset:4;\tsize:4;"] {
            #expect(throws: KernelError.self) { try TracepointFormat(parsing: line, name: "t:t", id: 1, path: "format") }
        }
    }

    @Test func aSwitchSampleBecomesAContextSwitch() throws {
        let bytes = RecordBytes.sample(id: Self.switchID, pid: 500, tid: 501, time: 123_456_789, cpu: UInt32(Self.cpu),
                                       raw: Self.switchRaw(previous: 501, state: 0x1, next: 0))
        #expect(try Self.decode(bytes) == .record(.contextSwitch(ContextSwitch(
            time: 123_456_789, cpu: 1, previousTID: 501, previousPID: 500, previousState: .sleeping, preempted: false, nextTID: 0))))
    }

    @Test func aPreemptedSwitchIsRunnableAndPreempted() throws {
        let bytes = RecordBytes.sample(id: Self.switchID, pid: 500, tid: 502, time: 1, cpu: UInt32(Self.cpu),
                                       raw: Self.switchRaw(previous: 502, state: 0x100, next: 7))
        guard case .record(.contextSwitch(let record)) = try Self.decode(bytes) else {
            Issue.record("not a context switch")
            return
        }
        #expect(record.previousState == .running)
        #expect(record.preempted)
        #expect(record.nextTID == 7)
    }

    @Test func aThreadSwitchingOutDeadHasNoKnownProcessOnceTheKernelLetGo() throws {
        // As recorded: the dying thread's sample carries tid -1, its process still known.
        let dying = RecordBytes.sample(id: Self.switchID, pid: 25602, tid: -1, time: 1, cpu: UInt32(Self.cpu),
                                       raw: Self.switchRaw(previous: 25611, state: 0x10, next: 0))
        guard case .record(.contextSwitch(let record)) = try Self.decode(dying) else {
            Issue.record("not a context switch")
            return
        }
        #expect(record.previousState == .dead)
        #expect(record.previousPID == 25602)
        let gone = RecordBytes.sample(id: Self.switchID, pid: -1, tid: -1, time: 1, cpu: UInt32(Self.cpu),
                                      raw: Self.switchRaw(previous: 25611, state: 0x10, next: 0))
        guard case .record(.contextSwitch(let last)) = try Self.decode(gone) else {
            Issue.record("not a context switch")
            return
        }
        #expect(last.previousPID == nil)
    }

    @Test func everyReportedStateHasItsName() {
        let states: [(Int64, TaskState)] = [
            (0, .running), (0x1, .sleeping), (0x2, .uninterruptible), (0x4, .stopped), (0x8, .traced), (0x10, .dead),
            (0x20, .zombie), (0x40, .parked), (0x80, .idle), (0x101, .sleeping), (0x3, .other(0x3)), (0x200, .other(0x200)),
        ]
        for (bits, state) in states { #expect(TaskState(reported: bits) == state) }
    }

    @Test func aWakingSampleSaysWhetherAnInterruptWokeTheThread() throws {
        for (flags, inInterrupt) in [(UInt8(0x01), false), (0x09, true), (0x11, true), (0x35, true), (0x41, true), (0x81, false)] {
            let raw = RecordBytes.raw(size: 36, [(2, [flags]), (24, RecordBytes.le(Int32(777)))])
            let bytes = RecordBytes.sample(id: Self.wakingID, pid: 10, tid: 11, time: 99, cpu: UInt32(Self.cpu), raw: raw)
            #expect(try Self.decode(bytes) == .record(.wakeup(Wakeup(
                time: 99, cpu: 1, wakerTID: 11, wakerPID: 10, wakeeTID: 777, inInterrupt: inInterrupt))))
        }
    }

    @Test func samplesThatDoNotHoldTheirFieldsAreUndecodable() throws {
        let good = RecordBytes.sample(id: Self.switchID, pid: 1, tid: 1, time: 1, cpu: UInt32(Self.cpu),
                                      raw: Self.switchRaw(previous: 1, state: 0, next: 2))
        // Raw part shorter than the fields the format places.
        let short = RecordBytes.sample(id: Self.switchID, pid: 1, tid: 1, time: 1, cpu: UInt32(Self.cpu),
                                       raw: [UInt8](repeating: 0, count: 59))
        // A raw size beyond the record.
        var beyond = good
        withUnsafeBytes(of: UInt32(4000)) { beyond.replaceSubrange(40..<44, with: $0) }
        let otherCPU = RecordBytes.sample(id: Self.switchID, pid: 1, tid: 1, time: 1, cpu: 0,
                                          raw: Self.switchRaw(previous: 1, state: 0, next: 2))
        let otherEvent = RecordBytes.sample(id: 999, pid: 1, tid: 1, time: 1, cpu: UInt32(Self.cpu),
                                            raw: Self.switchRaw(previous: 1, state: 0, next: 2))
        let truncated = Array(good[0..<40])
        for bytes in [short, beyond, otherCPU, otherEvent, truncated, [1, 0, 0, 0]] {
            #expect(try Self.decode(bytes) == .undecodable)
        }
        // Every prefix of a good record: undecodable, never a trap.
        for end in 0..<good.count { _ = try Self.decode(Array(good[0..<end])) }
    }

    static func lifecycle(_ type: UInt32, pid: Int32, ppid: Int32, tid: Int32, ptid: Int32, time: UInt64, id: UInt64 = taskID) -> [UInt8] {
        var record = RecordBytes(type: type)
        for value in [pid, ppid, tid, ptid] { record.append(value) }
        record.append(time)
        record.appendSampleID(pid: pid, tid: tid, time: time, cpu: UInt32(cpu), id: id)
        return record.finished()
    }

    @Test func forkAndExitRecordsBecomeLifecycleEvents() throws {
        let fork = Self.lifecycle(TC_PERF_RECORD_FORK, pid: 40, ppid: 30, tid: 41, ptid: 31, time: 5)
        #expect(try Self.decode(fork) == .record(.fork(TaskLifecycle(time: 5, pid: 40, tid: 41, parentPID: 30, parentTID: 31))))
        let exit = Self.lifecycle(TC_PERF_RECORD_EXIT, pid: 40, ppid: 30, tid: 40, ptid: 30, time: 6)
        #expect(try Self.decode(exit) == .record(.exit(TaskLifecycle(time: 6, pid: 40, tid: 40, parentPID: 30, parentTID: 30))))
        let foreign = Self.lifecycle(TC_PERF_RECORD_FORK, pid: 40, ppid: 30, tid: 41, ptid: 31, time: 5, id: 7)
        #expect(try Self.decode(foreign) == .undecodable)
    }

    static func comm(_ name: [UInt8], exec: Bool) -> [UInt8] {
        var record = RecordBytes(type: TC_PERF_RECORD_COMM, misc: exec ? UInt16(TC_PERF_RECORD_MISC_COMM_EXEC) : 0)
        record.append(Int32(40))
        record.append(Int32(41))
        record.append(bytes: name + [0])
        record.appendSampleID(pid: 40, tid: 41, time: 77, cpu: UInt32(cpu), id: taskID)
        return record.finished()
    }

    @Test func aCommRecordGivesTheNameAndWhetherAnExecSetIt() throws {
        #expect(try Self.decode(Self.comm(Array("sleep".utf8), exec: true))
            == .record(.name(TaskName(time: 77, pid: 40, tid: 41, name: "sleep", isExec: true))))
        #expect(try Self.decode(Self.comm(Array("renamed-thr".utf8), exec: false))
            == .record(.name(TaskName(time: 77, pid: 40, tid: 41, name: "renamed-thr", isExec: false))))
        // No NUL before the sample id: the name stops there, not beyond.
        var unterminated = RecordBytes(type: TC_PERF_RECORD_COMM)
        unterminated.append(Int32(40))
        unterminated.append(Int32(41))
        unterminated.append(bytes: Array("abcdefgh".utf8))
        unterminated.appendSampleID(pid: 40, tid: 41, time: 77, cpu: UInt32(Self.cpu), id: Self.taskID)
        #expect(try Self.decode(unterminated.finished()) == .record(.name(TaskName(time: 77, pid: 40, tid: 41, name: "abcdefgh", isExec: false))))
    }

    static func mmap2(buildID: [UInt8]?, path: String) -> [UInt8] {
        var record = RecordBytes(type: TC_PERF_RECORD_MMAP2, misc: buildID == nil ? 0x2 : 0x2 | UInt16(TC_PERF_RECORD_MISC_MMAP_BUILD_ID))
        record.append(Int32(25544))
        record.append(Int32(25544))
        record.append(UInt64(0x5564_f128_3000))
        record.append(UInt64(0x4000))
        record.append(UInt64(0x2000))
        if let buildID {
            record.append(UInt8(buildID.count))
            record.append(bytes: [0, 0, 0] + buildID + [UInt8](repeating: 0, count: 20 - min(buildID.count, 20)))
        } else {
            record.append(bytes: [UInt8](repeating: 0, count: 24))
        }
        record.append(UInt32(5))
        record.append(UInt32(2))
        record.append(bytes: Array(path.utf8) + [0])
        record.appendSampleID(pid: 25544, tid: 25544, time: 88, cpu: UInt32(cpu), id: taskID)
        return record.finished()
    }

    @Test func anMmap2RecordGivesTheMappingWithItsBuildID() throws {
        let id: [UInt8] = [0xc8, 0x91, 0x56, 0xeb, 0xda, 0xbf, 0x85, 0x9f, 0x4e, 0xe7, 0x0c, 0xb0, 0xc3, 0x03, 0x00, 0x4d, 0xcc, 0xf1, 0xae, 0x51]
        #expect(try Self.decode(Self.mmap2(buildID: id, path: "/tmp/perfspike/true_warm")) == .record(.mapping(ExecutableMapping(
            time: 88, pid: 25544, tid: 25544, address: 0x5564_f128_3000, length: 0x4000, fileOffset: 0x2000, protection: 5,
            buildID: id, path: "/tmp/perfspike/true_warm"))))
        guard case .record(.mapping(let vdso)) = try Self.decode(Self.mmap2(buildID: nil, path: "[vdso]")) else {
            Issue.record("not a mapping")
            return
        }
        #expect(vdso.buildID.isEmpty)
        #expect(vdso.path == "[vdso]")
        var long = Self.mmap2(buildID: id, path: "/x")
        long[40] = 21
        #expect(try Self.decode(long) == .undecodable)
    }

    @Test func lostRecordsCarryTheirCount() throws {
        var lost = RecordBytes(type: TC_PERF_RECORD_LOST)
        lost.append(Self.switchID)
        lost.append(UInt64(462_560))
        #expect(try Self.decode(lost.finished()) == .record(.lost(cpu: 1, count: 462_560)))
        var lostSamples = RecordBytes(type: TC_PERF_RECORD_LOST_SAMPLES)
        lostSamples.append(UInt64(3))
        #expect(try Self.decode(lostSamples.finished()) == .record(.lost(cpu: 1, count: 3)))
        #expect(try Self.decode(RecordBytes(type: 5).finished()) == .otherType)
    }

    @Test func cpuListsParseAndImpossibleOnesAreRefused() {
        #expect(OnlineCPUs.parse("0-1\n") == [0, 1])
        #expect(OnlineCPUs.parse("0-3,6,8-9\n") == [0, 1, 2, 3, 6, 8, 9])
        #expect(OnlineCPUs.parse("5") == [5])
        for bad in ["", "\n", "3-1", "-1", "0-", "a", "0-99999999", "1-2-3"] {
            #expect(OnlineCPUs.parse(bad) == nil)
        }
    }
}
