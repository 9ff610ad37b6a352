import CTraceABI
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Swift tasks suspended at `await` inside a region, for checking the
/// report's "suspended" part (docs/analysis.md, "Where the time went:
/// execution"). Waits until tracing is on (as `execution` does), then runs
/// two pieces, each --repeat times (1, at most 1000), one after another.
/// Each is a TraceTask in a detached Swift task (the global concurrent
/// executor, whose worker threads wait idle when it has no job), with one
/// region around one `await`:
///
/// - `sleep`: the region `awaitSleep` awaits `Task.sleep(for: .milliseconds(20))`;
/// - `resume`: the region `awaitResume` awaits a continuation that a plain
///   pthread resumes 20 ms after the task suspended.
///
/// Either way the task is on no thread for about 20 ms and runs a few µs.
///
/// Prints, after `enabled=true`, `key=value` lines, comma-separated per
/// repetition: per piece X, `X.task` (its TraceTask id), `X.await_ns`
/// (CLOCK_MONOTONIC from just before the `await` to just after it, inside
/// the region: the region lies around it, the suspension inside it),
/// `X.before` and `X.after` (the tid the task ran on before and after the
/// `await`); once, `repeat` and `X.expected_suspended_ns`.
enum SuspensionScenario {
    private static let repeatLimit = 1000
    private static let pause: UInt64 = 20_000_000

    static func run(_ options: Fixture.Options) async {
        let repeats = options.number("repeat", default: 1)
        guard (1...repeatLimit).contains(repeats) else {
            Fixture.fail("--repeat \(repeats) is not between 1 and \(repeatLimit)")
        }
        Fixture.waitUntilEnabled(options)
        print("repeat=\(repeats)")
        print("sleep.expected_suspended_ns=\(pause)")
        print("resume.expected_suspended_ns=\(pause)")
        var sleeps: [Awaited] = [], resumes: [Awaited] = []
        for _ in 0..<repeats {
            sleeps.append(await Task.detached { await sleep() }.value)
        }
        for _ in 0..<repeats {
            resumes.append(await Task.detached { await resume() }.value)
        }
        printLines("sleep", sleeps)
        printLines("resume", resumes)
        fflushOut()
    }

    private static func sleep() async -> Awaited {
        await Trace.withTask("suspendedSleep") { task in
            await Trace.withRegion("awaitSleep") {
                let before = currentThreadID(), begin = tc_monotonic_ns()
                try? await Task.sleep(for: .nanoseconds(pause))
                let end = tc_monotonic_ns()
                return Awaited(task: task.id, nanoseconds: end - begin, before: before, after: currentThreadID())
            }
        }
    }

    private static func resume() async -> Awaited {
        var resumer: Worker<Bool>?
        let awaited = await Trace.withTask("suspendedResume") { task in
            await Trace.withRegion("awaitResume") {
                let before = currentThreadID(), begin = tc_monotonic_ns()
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    // The 20 ms count from here, as the task is about to
                    // leave its thread: it resumes no sooner.
                    resumer = Worker("resumer") {
                        let deadline = tc_monotonic_ns() + pause
                        while tc_monotonic_ns() < deadline { usleep(1000) }
                        continuation.resume()
                        return true
                    }
                }
                let end = tc_monotonic_ns()
                return Awaited(task: task.id, nanoseconds: end - begin, before: before, after: currentThreadID())
            }
        }
        // Joined after the task: the join is not the task's.
        _ = resumer?.join()
        return awaited
    }

    private static func printLines(_ piece: String, _ all: [Awaited]) {
        func line(_ key: String, _ value: (Awaited) -> String) {
            print("\(piece).\(key)=\(all.map(value).joined(separator: ","))")
        }
        line("task") { "\($0.task)" }
        line("await_ns") { "\($0.nanoseconds)" }
        line("before") { "\($0.before)" }
        line("after") { "\($0.after)" }
    }
}

/// One `await` as its task measured it.
private struct Awaited: Sendable {
    var task: UInt64
    var nanoseconds: UInt64
    var before: Int32
    var after: Int32
}
