import CTraceABI
import Synchronization
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// The workloads tests run in a real process. Each prints what a test needs
/// to check the trace exactly.
enum Scenarios {
    /// Each of --threads threads emits --events integer counters "seq" with
    /// values 0, 1, 2 ...: a reader checks each thread's values increase
    /// (no torn or interleaved event) and recorded + dropped = emitted.
    static func burst(_ options: Fixture.Options) {
        let threads = options.number("threads", default: 4)
        let events = options.number("events", default: 1000)
        // --regions 1: each counter inside a region of its own (3 events).
        let regions = options.number("regions", default: 0) != 0
        Fixture.traced(options) {
            let workers = (0..<threads).map { _ in
                try! SystemThread.spawn(name: "burst") {
                    if regions {
                        for value in 0..<events { Trace.withRegion("step") { Trace.counter("seq", value) } }
                    } else {
                        for value in 0..<events { Trace.counter("seq", value) }
                    }
                }
            }
            for worker in workers { worker.join() }
        }
        print("emitted=\(threads * events * (regions ? 3 : 1))")
    }

    /// Traced only through TRACED_FILE: no start or stop in code.
    static func autostart(_ options: Fixture.Options) {
        let events = options.number("events", default: 100)
        Trace.withTask("autostart") { _ in
            for value in 0..<events { Trace.withRegion("step") { Trace.counter("value", value) } }
        }
        print("emitted=\(events * 3 + 2)")
    }

    /// The seeds' running example, on one thread, with known contents.
    static func cappuccino(_ options: Fixture.Options) {
        var ids: (order: UInt64, grind: UInt64) = (0, 0)
        Fixture.traced(options) {
            let order = TraceTask("makeCappuccino")
            order.withCurrent {
                Trace.log("orderID", "42")
                Trace.withRegion("makeCappuccino") {
                    Trace.withRegion("steamMilk") { Trace.counter("milkTemperature", 65) }
                    Trace.withRegion("extractCoffee") { Trace.counter("pressure", 9.5) }
                    Trace.withRegion("mixMilkCoffee") {}
                }
                let grind = TraceTask("grindBeans")
                grind.end()
                ids.grind = grind.id
            }
            order.end()
            ids.order = order.id
        }
        print("order=\(ids.order)")
        print("grind=\(ids.grind)")
    }

    /// Tasks across async child tasks and plain threads; regions that hop
    /// threads within one Swift task.
    static func asyncTasks(_ options: Fixture.Options) async {
        let a = ThreadExecutor(name: "exec-a"), b = ThreadExecutor(name: "exec-b")
        var ids: (order: UInt64, shared: UInt64) = (0, 0)
        await Fixture.traced(options) {
            let order = TraceTask("order")
            await order.withCurrent {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            Trace.withRegion("child") {}
                            TraceTask("sub").end()
                        }
                    }
                }
            }
            order.end()
            ids.order = order.id

            let shared = TraceTask("shared")
            Fixture.onThread("worker-1") { shared.withCurrent { Trace.withRegion("onWorker") {} } }
            Fixture.onThread("worker-2") { shared.end() }
            ids.shared = shared.id

            await Task(executorPreference: a) {
                let region = Trace.startRegion("hop")
                await withTaskExecutorPreference(b) { region.end() }
            }.value

            await Task(executorPreference: a) {
                await Trace.withRegion("asyncRegion") {
                    await withTaskExecutorPreference(b) { Trace.log("where", "on exec-b") }
                }
            }.value
        }
        print("order=\(ids.order)")
        print("shared=\(ids.shared)")
    }

    /// --tasks short-lived Swift tasks, one after another, each beginning a
    /// region on exec-a and ending it on exec-b; between two of them this
    /// (long-lived) task logs on exec-b. A task ends before the next is
    /// created, so the allocator may give the next the same address: then
    /// exec-a sees the same task pointer as before, exec-b a different one.
    /// Prints each task's runtime id (`ids=`, in order), this task's
    /// (`main=`) and how many tasks got the address of the one before
    /// (`reused=`: the case this scenario is about).
    static func shortLivedTasks(_ options: Fixture.Options) async {
        let a = ThreadExecutor(name: "exec-a"), b = ThreadExecutor(name: "exec-b")
        let count = options.number("tasks", default: 1000)
        var ids: [UInt64] = [], reused = 0, previous: UInt = 0
        let main = tc_swift_task_id(tc_swift_current_task())
        await Fixture.traced(options) {
            for _ in 0..<count {
                let (id, address) = await Task(executorPreference: a) {
                    let address = tc_swift_current_task()
                    let region = Trace.startRegion("shortLived")
                    await withTaskExecutorPreference(b) { region.end() }
                    return (tc_swift_task_id(address), address)
                }.value
                ids.append(id)
                if address == previous { reused += 1 }
                previous = address
                await withTaskExecutorPreference(b) { Trace.log("between", "") }
            }
        }
        print("ids=\(ids.map(String.init).joined(separator: ","))")
        print("main=\(main)")
        print("reused=\(reused)")
        // ThreadSanitizer's allocator holds freed memory back: no task gets
        // its predecessor's address there, and the test says so.
        // Its runtime's symbol, or the options scripts/sanitize sets for it.
        let tsan = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil || getenv("TSAN_OPTIONS") != nil
        print("threadSanitizer=\(tsan ? 1 : 0)")
    }

    /// Counters bracketed by CLOCK_MONOTONIC readings, spread over ~300 ms
    /// so the trace holds several clock syncs: prints `i=before,after`.
    static func clock(_ options: Fixture.Options) {
        var lines: [String] = []
        Fixture.traced(options) {
            for i in 0..<300 {
                let before = tc_monotonic_ns()
                Trace.counter("tick", i)
                let after = tc_monotonic_ns()
                lines.append("\(i)=\(before),\(after)")
                usleep(1000)
            }
        }
        print(lines.joined(separator: "\n"))
    }

    /// Every misuse the API allows; none may crash.
    static func misuse(_ options: Fixture.Options) async {
        await Fixture.traced(options) {
            let twice = Trace.startRegion("endedTwice")
            twice.end()
            twice.end()

            let outer = Trace.startRegion("outer")
            let inner = Trace.startRegion("inner")
            outer.end()
            inner.end()

            let crossThread = Trace.startRegion("endedOnAnotherThread")
            Fixture.onThread("ender") { crossThread.end() }

            let crossTask = await Task.detached { Trace.startRegion("endedOnAnotherTask") }.value
            await Task.detached { crossTask.end() }.value

            _ = Trace.startRegion("neverEnded")

            let task = TraceTask("endedTwiceTask")
            task.end()
            task.end()
        }
    }

    @inline(never)
    static func stackMarkerFunction() {
        Trace.withRegion("stacked") {}
        Trace.log("stacked", "with a stack")
    }

    /// Stacks on: region begins, logs and task creations carry stack ids.
    static func stacks(_ options: Fixture.Options) {
        Fixture.traced(options, stacks: true) {
            for _ in 0..<3 { stackMarkerFunction() }
            TraceTask("stackedTask").end()
        }
    }

    /// Stacks on in async code: a task begun (with a log in it) by an async
    /// function that another async function awaits, each resumed after an
    /// await of its own, so that neither is on the thread's stack when the
    /// task begins: only their async contexts lead to them.
    static func asyncStacks(_ options: Fixture.Options) async {
        await Fixture.traced(options, stacks: true) {
            await AsyncStackCallers.awaitingCaller()
        }
    }

    /// Log contents: empty, Unicode, truncated, and a message never built.
    static func logs(_ options: Fixture.Options) {
        nonisolated(unsafe) var built = 0
        func message() -> String {
            built += 1
            return "built"
        }
        Trace.log("off", message())
        Fixture.traced(options) {
            Trace.log("short", "hello")
            Trace.log("empty", "")
            Trace.log("unicode", "café ☕️")
            Trace.log("long", String(repeating: "x", count: 5000))
            Trace.log("longUnicode", String(repeating: "é", count: 1000))
            Trace.log("lazy", message())
        }
        print("built=\(built)")
    }

    /// start/stop rules: Stop without Start, Start twice, two traces in a
    /// row, a descriptor output, an unwritable path.
    static func lifecycle(_ options: Fixture.Options) {
        do {
            try Trace.stop()
            try Trace.start(writingTo: options.string("out"))
            do {
                try Trace.start(writingTo: options.string("out") + ".never")
                print("second start: succeeded")
            } catch {
                print("second start: \(error)")
            }
            Trace.counter("first", 1)
            try Trace.stop()
            Trace.counter("between", 2)
            print("enabled after stop: \(Trace.isEnabled)")

            let fd = open(options.string("out2"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            try Trace.start(fileDescriptor: fd)
            Trace.counter("second", 3)
            try Trace.stop()
            print("descriptor still open: \(fcntl(fd, F_GETFD) != -1)")
            close(fd)

            do {
                try Trace.start(writingTo: "/nonexistent-directory/x.trace")
            } catch {
                print("bad path: \(error)")
            }
        } catch {
            Fixture.fail("\(error)")
        }
    }

    /// A forked child must not write into its parent's buffer.
    static func fork(_ options: Fixture.Options) {
        Fixture.traced(options) {
            Trace.counter("parentBefore", 1)
            let pid = Glibc.fork()
            if pid == 0 {
                // The child of a threaded process may only do what needs no
                // lock another thread could have held at the fork: no print
                // (the Swift runtime's metadata lock once hung a child here,
                // under ThreadSanitizer), a plain write(2), then _exit. exit
                // would run atexit handlers for a process whose other threads
                // are gone (LeakSanitizer's among them, which then counts what
                // those threads held as leaked).
                for value in 0..<100_000 { Trace.counter("child", value) }
                let line: StaticString = Trace.isEnabled ? "child enabled: true\n" : "child enabled: false\n"
                _ = Glibc.write(1, line.utf8Start, line.utf8CodeUnitCount)
                _exit(0)
            }
            var status: CInt = 0
            waitpid(pid, &status, 0)
            Trace.counter("parentAfter", 2)
        }
    }

    /// A client of the traced daemon (TRACED_RUNTIME_DIR): waits until a
    /// session turns tracing on, then --threads threads each emit --events
    /// counters "seq" 0, 1, 2 ... (with --mixed, also regions and logs of
    /// categories "keep" and "drop"); prints `emitted=`. With --forever the
    /// threads go on until the process is killed (sleeping --pause µs per
    /// 1000 events), printing `progress=N worst=NS` (the slowest annotation
    /// of the last second) every second. Without it, --pause paces the
    /// threads the same way.
    static func load(_ options: Fixture.Options) {
        if let name = options.optionalString("name") { _ = tc_set_thread_name(name) }
        let threads = options.number("threads", default: 4)
        let events = options.number("events", default: 1000)
        let mixed = options.number("mixed", default: 0) != 0
        // --logs 1: each event a log "tail" ("value N"), nothing else.
        let logs = options.number("logs", default: 0) != 0
        let forever = options.number("forever", default: 0) != 0
        // Microseconds each thread sleeps per 1000 events (with --forever,
        // 1000 unless given).
        let pacing = forever || options.optionalString("pause") != nil
        let pause = UInt32(options.number("pause", default: 1000))
        Fixture.waitUntilEnabled(options)
        // In a class: Atomics captured directly by the thread closures crash
        // the Swift 6.3.1 optimizer (SemanticARCOpts) in release builds.
        let meter = LoadMeter()
        let workers = (0..<threads).map { _ in
            try! SystemThread.spawn(name: "load") {
                var value = 0
                while forever || value < events {
                    let before = tc_monotonic_ns()
                    if mixed {
                        Trace.withRegion("work") {
                            Trace.counter("seq", value)
                            Trace.log(value % 2 == 0 ? "keep" : "drop", "value \(value)")
                        }
                    } else if logs {
                        Trace.log("tail", "value \(value)")
                    } else {
                        Trace.counter("seq", value)
                    }
                    let took = Int(tc_monotonic_ns() - before)
                    if took > meter.worst.load(ordering: .relaxed) { meter.worst.store(took, ordering: .relaxed) }
                    value += 1
                    if pacing && value % 1000 == 0 {
                        meter.progress.wrappingAdd(1000, ordering: .relaxed)
                        usleep(pause)
                    }
                }
            }
        }
        if forever {
            while true {
                sleep(1)
                print("progress=\(meter.progress.load(ordering: .relaxed)) worst=\(meter.worst.exchange(0, ordering: .relaxed))")
                fflushOut()
            }
        }
        for worker in workers { worker.join() }
        print("emitted=\(threads * events * (mixed ? 4 : 1))")
    }

    /// Shares its buffer with the test process over the socket at --socket
    /// (an inherited descriptor), then --threads threads emit counters "seq"
    /// 0, 1, 2 ... until the process is killed.
    static func producer(_ options: Fixture.Options) {
        let socket = FileDescriptor(rawValue: CInt(options.number("socket", default: 3)))
        let threads = options.number("threads", default: 2)
        do {
            let (memory, wake) = try BufferSharing.descriptors()
            try UnixSocket.send([1], descriptors: [memory, wake], on: socket)
        } catch {
            Fixture.fail("\(error)")
        }
        BufferSharing.setEnabled(true)
        for _ in 0..<threads {
            _ = try? SystemThread.spawn(name: "producer") {
                var value = 0
                while true {
                    Trace.counter("seq", value)
                    value += 1
                }
            }
        }
        while true { pause() }
    }
}

/// Standard output is a pipe in tests: make each line visible at once.
func fflushOut() {
    fflush(nil)
}

/// What --forever threads report: events so far and the slowest annotation.
private final class LoadMeter: Sendable {
    let progress = Atomic<Int>(0)
    let worst = Atomic<Int>(0)
}

/// The two async functions of the asyncStacks scenario.
enum AsyncStackCallers {
    @inline(never)
    static func awaitingCaller() async {
        await Task.yield()
        await taskCreatingCallee()
        // Work after the call, so that it is not the function's tail.
        Trace.counter("asyncStacks.returned", 1)
    }

    @inline(never)
    static func taskCreatingCallee() async {
        await Task.yield()
        await Trace.withTask("asyncStackedTask") { _ async in
            Trace.log("asyncStacked", "inside the task")
        }
    }
}
