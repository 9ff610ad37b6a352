import CTraceABI
import TraceFormat

/// A hand-written trace whose execution is known to the nanosecond, for the
/// tests of what the report, `tracectl tasks` and the HTML page say about
/// it: process 1 (pid 42, "cafe") with thread 1 (tid 100, "main") and
/// thread 2 (tid 200, "worker").
///
/// Thread 1 runs task "order" #1 (1000-2500) with region "brew"
/// (1000-2000), then region "grind" (2000-2400). What the kernel saw:
///
/// | time | tid 100 (main) | tid 200 (worker) |
/// |---|---|---|
/// | 900 | switch-in | |
/// | 1100 | switch-out S, lock in futex, stack 1 | |
/// | 1200 | | switch-out S, sleep in nanosleep, no stack |
/// | 1290 | | woken by an interrupt |
/// | 1295 | | switch-in |
/// | 1300 | woken by tid 200 | |
/// | 1350 | switch-in | |
/// | 1500 | | switch-out S, syscall in wait4, stack 2 |
/// | 1600 | | woken by tid 100 |
/// | 1620 | | switch-in |
/// | 1700 | switch-out R (preempted) | |
/// | 1800 | switch-in | |
/// | 2100 | switch-out D (no wait told: io), stack 2 | |
/// | 2200 | woken by an interrupt | |
/// | 2300 | switch-in | |
/// | 2350 | switch-out S, lock in futex, stack 1 | |
/// | 2450 | woken by tid 200 | |
/// | 2460 | switch-in | |
///
/// So "order" splits into running 840, runnable 260, lock 300, io 100;
/// "brew" into running 650, runnable 150, lock 200; "grind" into running
/// 150, runnable 100, lock 50, io 100. The waits: lock at stack 1 in futex
/// twice (200 + 100), io at stack 2 (100), syscall at stack 2 in wait4
/// (100), sleep in nanosleep with no stack (90). Stack 1 is 0x1000, 0x2000,
/// 0x3000 and stack 2 is 0x4000, in no recorded image.
package enum ExecutionTrace {
    package static func write(_ path: String, kernel: Bool) throws {
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1, name: "cafe")
        try trace.strings(1, [1: "order", 2: "brew", 3: "grind", 0x8000_0001: "futex", 0x8000_0003: "nanosleep",
                              0x8000_0004: "wait4"])
        try trace.thread(1, index: 1, tid: 100, name: "main")
        try trace.thread(1, index: 2, tid: 200, name: "worker")
        var a = EventEncoding()
        a.taskBegin(dt: 0, idDelta: 1, type: 1) // 1000
        a.context(swiftDelta: 0, taskDelta: 1)
        a.regionBegin(dt: 0, type: 2) // 1000
        a.regionEnd(dt: 1000, back: 0) // 2000
        a.regionBegin(dt: 0, type: 3) // 2000
        a.regionEnd(dt: 400, back: 0) // 2400
        a.taskEnd(dt: 100, idDelta: 0) // 2500
        try trace.batch(process: 1, thread: 1, base: 1000, a)
        guard kernel else { return try trace.finish() }
        try trace.metadata(1, .stack(StackRecord(id: 1, frames: [0x1000, 0x2000, 0x3000])))
        try trace.metadata(1, .stack(StackRecord(id: 2, frames: [0x4000])))
        var main = KernelEventEncoding()
        main.switchIn(dt: 0, cpu: 0) // 900
        main.switchOut(dt: 200, state: TC_STATE_SLEEPING, cpu: 0, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 1) // 1100
        main.wakeup(dt: 200, wakerProcess: 1, wakerTid: 200, cpu: 1) // 1300
        main.switchIn(dt: 50, cpu: 1) // 1350
        main.switchOut(dt: 350, state: TC_STATE_RUNNABLE, cpu: 1) // 1700
        main.switchIn(dt: 100, cpu: 1) // 1800
        main.switchOut(dt: 300, state: TC_STATE_DISK, cpu: 1, stack: 2) // 2100
        main.wakeup(dt: 100, wakerProcess: 0, wakerTid: 0, cpu: 1) // 2200
        main.switchIn(dt: 100, cpu: 1) // 2300
        main.switchOut(dt: 50, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_LOCK, why: 0x8000_0001, stack: 1) // 2350
        main.wakeup(dt: 100, wakerProcess: 1, wakerTid: 200, cpu: 1) // 2450
        main.switchIn(dt: 10, cpu: 1) // 2460
        try trace.kernelBatch(process: 1, tid: 100, base: 900, main)
        var worker = KernelEventEncoding()
        worker.switchOut(dt: 0, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_SLEEP, why: 0x8000_0003) // 1200
        worker.wakeup(dt: 90, wakerProcess: 0, wakerTid: 0, cpu: 1) // 1290
        worker.switchIn(dt: 5, cpu: 1) // 1295
        worker.switchOut(dt: 205, state: TC_STATE_SLEEPING, cpu: 1, wait: TC_WAIT_SYSCALL, why: 0x8000_0004, stack: 2) // 1500
        worker.wakeup(dt: 100, wakerProcess: 1, wakerTid: 100, cpu: 0) // 1600
        worker.switchIn(dt: 20, cpu: 0) // 1620
        try trace.kernelBatch(process: 1, tid: 200, base: 1200, worker)
        try trace.finish()
    }
}
