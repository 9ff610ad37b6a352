import Synchronization
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A client whose last acts come after it said goodbye to traced, for
/// checking that the kernel's events of an exiting client are recorded to
/// its threads' ends (docs/design.md, "Execution events", "A recorded
/// process's end"). It registers an atexit handler before its first
/// annotation, so the handler runs after TraceClient's (the last registered
/// runs first), which says goodbye: there the main thread sleeps 10 ms, its
/// last act. --threads threads (2, at most 64) wait in pause() until
/// exit_group kills them. Waits until tracing is on, runs the task
/// `lastTask` (a 5 ms sleep), prints, and returns from main.
///
/// Prints, after `enabled=true`, `tids=` (the main thread's, then the
/// waiting threads', comma-separated).
enum ExitScenario {
    private static let threadLimit = 64

    static func run(_ options: Fixture.Options) {
        let count = options.number("threads", default: 2)
        guard (0...threadLimit).contains(count) else { Fixture.fail("--threads \(count) is not between 0 and \(threadLimit)") }
        _ = atexit { usleep(10_000) }
        let tids = Mutex<[Int32]>([])
        for index in 0..<count {
            do {
                _ = try SystemThread.spawn(name: "waiter-\(index)") {
                    tids.withLock { $0.append(currentThreadID()) }
                    while true { pause() }
                }
            } catch {
                Fixture.fail("\(error)")
            }
        }
        while tids.withLock({ $0.count }) < count { usleep(1000) }
        Fixture.waitUntilEnabled(options)
        _ = Trace.withTask("lastTask") { _ in usleep(5000) }
        print("tids=\(([currentThreadID()] + tids.withLock { $0 }).map(String.init).joined(separator: ","))")
        fflushOut()
    }
}
