import CTraceABI
import Synchronization
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Tasks whose execution is known, for checking how the kernel's scheduler
/// events split a task's wall time into running, runnable, lock, io, sleep,
/// syscall and unknown. Waits until tracing is on (as `load` does), then runs
/// five pieces one after another, each --repeat times (1, at most 1000)
/// before the next. Every task is a TraceTask on a pthread of its own, so it
/// never changes thread and its thread does nothing else meanwhile:
///
/// - `spin` burns 10 ms of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
///   without blocking: running ≥ 10 ms.
/// - `sleep` sleeps 20 ms (clock_nanosleep): sleep ≈ 20 ms.
/// - `lock`: a holder thread takes a pthread mutex and tells the task's
///   thread so; the task begins, tells the holder, and blocks in
///   pthread_mutex_lock (a futex) while the holder sleeps 5 ms (leaving the
///   CPU free) and unlocks: lock ≈ 5 ms (a little more: the holder's own
///   wake-up), and less than `lock.held_ns`.
/// - `pipe`: the task's thread reads one byte from a pipe that a writer
///   thread writes 3 ms after the task began: io ≈ 3 ms.
/// - `crowd`: three threads bound to one CPU (`crowd.cpu`, the lowest the
///   process may use), released together by a barrier, each spin 30 ms of
///   wall time in a task: no sleep, lock or io; each one's running ≈ its
///   `cpu_ns` and runnable ≈ the rest of its wall time; their running adds
///   up to at most `crowd.span_ns` (one CPU), less what other processes
///   took of that CPU.
///
/// Prints, after `enabled=true`, `key=value` lines; a key with several
/// values lists them comma-separated, one per task or repetition in the
/// order they ran (`crowd` has three tasks per repetition, in the order its
/// threads were started, the others one):
/// - per task, for each piece X: `X.tid` (the task's thread: the waiter of
///   `lock`, the reader of `pipe`), `X.task` (its TraceTask id), `X.wall_ns`
///   (CLOCK_MONOTONIC from before the task began to after it ended: the
///   traced task lies inside) and `X.cpu_ns` (the thread's CPU time within
///   that bracket, which the kernel counts as running: at most `wall_ns`);
/// - per repetition: `lock.holder` (tid), `lock.held_ns` (from taking the
///   mutex to releasing it), `pipe.writer` (tid) and `crowd.span_ns` (from
///   the first crowd task's bracket begin to the last one's end);
/// - once: `repeat`, `crowd.cpu` and each piece's truth,
///   `X.expected_<category>_ns`.
enum ExecutionScenario {
    private static let repeatLimit = 1000
    private static let spinCPU: UInt64 = 10_000_000
    private static let sleepTime: UInt64 = 20_000_000
    private static let lockHold: UInt64 = 5_000_000
    private static let pipeDelay: UInt64 = 3_000_000
    private static let crowdWall: UInt64 = 30_000_000
    private static let crowdSize = 3

    static func run(_ options: Fixture.Options) {
        let repeats = options.number("repeat", default: 1)
        guard (1...repeatLimit).contains(repeats) else {
            Fixture.fail("--repeat \(repeats) is not between 1 and \(repeatLimit)")
        }
        let cpu = check { () throws(SystemError) in try Syscall.call("sched_getaffinity") { tc_first_allowed_cpu() } }
        Fixture.waitUntilEnabled(options)

        var lines = Lines()
        lines.add("repeat", repeats)
        lines.add("spin.expected_running_ns", spinCPU)
        lines.add("sleep.expected_sleep_ns", sleepTime)
        lines.add("lock.expected_lock_ns", lockHold)
        lines.add("pipe.expected_io_ns", pipeDelay)
        lines.add("crowd.expected_wall_ns", crowdWall)
        lines.add("crowd.cpu", cpu)
        for _ in 0..<repeats { spin(&lines) }
        for _ in 0..<repeats { sleep(&lines) }
        for _ in 0..<repeats { lock(&lines) }
        for _ in 0..<repeats { pipe(&lines) }
        for _ in 0..<repeats { crowd(on: cpu, &lines) }
        lines.print()
        fflushOut()
    }

    private static func spin(_ lines: inout Lines) {
        let task = Worker("spin") {
            measure("spin") {
                let end = threadCPUTime() + spinCPU
                while threadCPUTime() < end {}
            }
        }.join()
        lines.add("spin", task)
    }

    private static func sleep(_ lines: inout Lines) {
        let task = Worker("sleep") { measure("sleep") { sleep(nanoseconds: sleepTime) } }.join()
        lines.add("sleep", task)
    }

    private static func lock(_ lines: inout Lines) {
        let mutex = PthreadMutex(), held = BytePipe(), began = BytePipe()
        // When the waiter called lock and the holder unlocked: the waiter
        // waited for the lock in between.
        let times = TwoMoments()
        let holder = Worker("lock-holder") {
            mutex.lock()
            let taken = tc_monotonic_ns()
            held.send()
            // The 5 ms count from the task's begin, not from the lock, so
            // however late the waiter got a CPU, it waits them out.
            began.receive()
            sleep(nanoseconds: lockHold)
            let holding = Holding(tid: currentThreadID(), nanoseconds: tc_monotonic_ns() - taken)
            times.written.store(tc_monotonic_ns(), ordering: .sequentiallyConsistent)
            mutex.unlock()
            return holding
        }
        let waiter = Worker("lock-waiter") {
            // Begins its task only once the holder has the mutex, so the
            // task's lock call cannot take it first.
            held.receive()
            let task = measure("lock") {
                began.send()
                times.reading.store(tc_monotonic_ns(), ordering: .sequentiallyConsistent)
                mutex.lock()
            }
            mutex.unlock()
            return task
        }
        let holding = holder.join()
        lines.add("lock", waiter.join())
        lines.add("lock.holder", holding.tid)
        lines.add("lock.held_ns", holding.nanoseconds)
        lines.add("lock.released_after_ns", times.written.load(ordering: .sequentiallyConsistent)
            &- times.reading.load(ordering: .sequentiallyConsistent))
    }

    private static func pipe(_ lines: inout Lines) {
        let began = BytePipe(), pipe = BytePipe()
        // When the reader began to read and the writer wrote
        // (CLOCK_MONOTONIC ns): the reader waited for I/O in between.
        let times = TwoMoments()
        let writer = Worker("pipe-writer") {
            began.receive()
            sleep(nanoseconds: pipeDelay)
            times.written.store(tc_monotonic_ns(), ordering: .sequentiallyConsistent)
            pipe.send()
            return currentThreadID()
        }
        let reader = Worker("pipe-reader") {
            measure("pipe") {
                began.send()
                times.reading.store(tc_monotonic_ns(), ordering: .sequentiallyConsistent)
                pipe.receive()
            }
        }
        lines.add("pipe", reader.join())
        lines.add("pipe.writer", writer.join())
        lines.add("pipe.written_after_ns", times.written.load(ordering: .sequentiallyConsistent)
            &- times.reading.load(ordering: .sequentiallyConsistent))
    }

    /// Two moments of a piece, from two threads (CLOCK_MONOTONIC ns): the
    /// reader's read (the waiter's lock call) and the write (the unlock).
    private final class TwoMoments: Sendable {
        let reading = Atomic<UInt64>(0)
        let written = Atomic<UInt64>(0)
    }

    private static func crowd(on cpu: CInt, _ lines: inout Lines) {
        let barrier = PthreadBarrier(count: crowdSize)
        let workers = (1...crowdSize).map { index in
            Worker("crowd-\(index)") {
                check { () throws(SystemError) in
                    try Syscall.call("sched_setaffinity", subject: "cpu \(cpu)") { tc_pin_to_cpu(cpu) }
                }
                // All three are bound before any begins: from here on they
                // share the one CPU for their whole task.
                barrier.wait()
                return measure("crowd") {
                    let end = tc_monotonic_ns() + crowdWall
                    while tc_monotonic_ns() < end {}
                }
            }
        }
        let tasks = workers.map { $0.join() }
        for task in tasks { lines.add("crowd", task) }
        let begin = tasks.map(\.begin).min() ?? 0, end = tasks.map(\.end).max() ?? 0
        lines.add("crowd.span_ns", end - begin)
    }

    /// Runs `body` as a task of `type` on the calling thread.
    private static func measure(_ type: StaticString, _ body: () -> Void) -> MeasuredTask {
        // A thread's first annotation registers it, on a slow path that may
        // lock or make system calls: done here, so that the task holds only
        // what the piece scripts.
        Trace.counter("warmup", 0)
        // The CPU bracket inside the wall one: cpu ≤ wall.
        let begin = tc_monotonic_ns(), cpu = threadCPUTime()
        let id = Trace.withTask(type) { task in
            body()
            return task.id
        }
        let cpuEnd = threadCPUTime(), end = tc_monotonic_ns()
        return MeasuredTask(tid: currentThreadID(), id: id, begin: begin, end: end, cpu: cpuEnd - cpu)
    }

    /// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), in ns.
    private static func threadCPUTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Sleeps until `nanoseconds` from now on CLOCK_MONOTONIC: to an
    /// absolute deadline, so a signal that interrupts it cannot stretch it.
    private static func sleep(nanoseconds: UInt64) {
        let deadline = tc_monotonic_ns() + nanoseconds
        var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while true {
            let rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nil)
            if rc == 0 { return }
            if rc != EINTR { Fixture.fail("\(SystemError("clock_nanosleep", errno: Errno(rawValue: rc)))") }
        }
    }
}

/// One task as its thread measured it (CLOCK_MONOTONIC and thread CPU ns).
private struct MeasuredTask: Sendable {
    var tid: Int32
    var id: UInt64
    var begin: UInt64
    var end: UInt64
    var cpu: UInt64
}

/// The lock holder's thread and how long it held the mutex.
private struct Holding: Sendable {
    var tid: Int32
    var nanoseconds: UInt64
}

/// `key=value` lines, keys in the order first added; a key added several
/// times prints its values comma-separated, in the order added.
private struct Lines {
    private var keys: [String] = []
    private var values: [String: [String]] = [:]

    mutating func add(_ key: String, _ value: some CustomStringConvertible) {
        if values[key] == nil { keys.append(key) }
        values[key, default: []].append(value.description)
    }

    /// The per-task keys of piece `piece`.
    mutating func add(_ piece: String, _ task: MeasuredTask) {
        add("\(piece).tid", task.tid)
        add("\(piece).task", task.id)
        add("\(piece).wall_ns", task.end - task.begin)
        add("\(piece).cpu_ns", task.cpu)
    }

    func print() {
        for key in keys { Swift.print("\(key)=\(values[key, default: []].joined(separator: ","))") }
    }
}

/// The value of `body`, or the fixture fails with its error.
@discardableResult
private func check<Value>(_ body: () throws(SystemError) -> Value) -> Value {
    do {
        return try body()
    } catch {
        Fixture.fail("\(error)")
    }
}
