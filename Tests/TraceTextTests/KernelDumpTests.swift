import CTraceABI
import Testing
import TestSupport
import TraceFormat
import TraceText

/// `tracectl dump` prints kernel batches and their events, naming threads
/// by tid and strings as for any event.
@Suite struct KernelDumpTests {
    @Test func kernelEventsPrintOneLineEach() throws {
        let directory = try TemporaryDirectory("kernel-dump")
        let path = directory.file("kernel.trace")
        let trace = try HandWrittenTrace(path: path, session: "k")
        try trace.process(1, name: "svc")
        try trace.strings(1, [0x8000_0001: "futex", 0x8000_0002: "worker"])
        var e = KernelEventEncoding()
        e.name(dt: 0, name: 0x8000_0002)
        e.switchOut(dt: 10, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 3)
        e.wakeup(dt: 20, wakerProcess: 1, wakerTid: 9, cpu: 0)
        e.wakeup(dt: 1, wakerProcess: 0, wakerTid: 0, cpu: 0)
        e.switchIn(dt: 5, cpu: 0)
        e.sample(dt: 7, cpu: 0, stack: 4)
        e.switchOut(dt: 1, state: TC_STATE_RUNNABLE, cpu: 0)
        e.stat(dt: 1, what: TC_STAT_OPEN_FDS, value: 12)
        e.exit(dt: 2)
        try trace.kernelBatch(process: 1, tid: 4243, base: 5000, e)
        try trace.finish()
        var lines: [String] = []
        let dump = TraceDump(content: .events) { lines += $0.split(separator: "\n").map(String.init) }
        try dump.collectNames(path: path)
        try dump.dump(path: path)
        dump.finish()
        #expect(!dump.sawFatalProblem)
        #expect(Array(lines.prefix(9)) == [
            "5000 p1 tid4243 thread-name worker",
            "5010 p1 tid4243 switch-out S cpu1 wait=lock in=futex stack=3",
            "5030 p1 tid4243 wakeup by p1 tid9 to cpu0",
            "5031 p1 tid4243 wakeup by an interrupt or another process to cpu0",
            "5036 p1 tid4243 switch-in cpu0",
            "5043 p1 tid4243 cpu-sample cpu0 stack=4",
            "5044 p1 tid4243 switch-out R cpu0",
            "5045 p1 tid4243 stat open-fds=12",
            "5047 p1 tid4243 thread-exit",
        ])
        #expect(lines.contains("events: 9 in 1 batches"))

        var batches: [String] = []
        let batchDump = TraceDump(content: .batches) { batches += $0.split(separator: "\n").map(String.init) }
        try batchDump.dump(path: path)
        batchDump.finish()
        #expect(batches.first == "kernel batch p1 tid4243 base 5000")
    }
}
