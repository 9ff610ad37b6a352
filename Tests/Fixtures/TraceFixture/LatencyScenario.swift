import TraceClient
#if canImport(Glibc)
import Glibc
#endif

extension Scenarios {
    /// Tasks of known latencies with regions nested in a known way, for
    /// checking the report's figures: --tasks "request" tasks one after
    /// another, task i sleeping --base-us × (1, 2, 3, 5)[i % 4] in region
    /// "work" and --reply-us (200) in "reply", both inside "handle", with a log
    /// before "reply". Prints, per task, clock_gettime(CLOCK_MONOTONIC)
    /// brackets around its creation and end and around "work"'s begin and
    /// end: the traced times lie inside them.
    static func latencies(_ options: Fixture.Options) {
        let tasks = options.number("tasks", default: 200)
        let base = options.number("base-us", default: 1300)
        let reply = options.number("reply-us", default: 200)
        let factors = [1, 2, 3, 5]
        var lines: [String] = []
        Fixture.traced(options) {
            for i in 0..<tasks {
                let b0 = monotonicNow()
                let task = TraceTask("request")
                let b1 = monotonicNow()
                var work = (0 as Int64, 0 as Int64, 0 as Int64, 0 as Int64)
                task.withCurrent {
                    Trace.withRegion("handle") {
                        work.0 = monotonicNow()
                        Trace.withRegion("work") {
                            work.1 = monotonicNow()
                            sleepMicroseconds(base * factors[i % factors.count])
                            work.2 = monotonicNow()
                        }
                        work.3 = monotonicNow()
                        Trace.log("step", "replying \(i)")
                        Trace.withRegion("reply") { sleepMicroseconds(reply) }
                    }
                }
                let e0 = monotonicNow()
                task.end()
                let e1 = monotonicNow()
                lines.append("task.\(task.id)=\(b0),\(b1),\(e0),\(e1)")
                lines.append("work.\(task.id)=\(work.0),\(work.1),\(work.2),\(work.3)")
            }
        }
        for line in lines { print(line) }
        print("tasks=\(tasks)")
    }

    private static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    private static func sleepMicroseconds(_ microseconds: Int) {
        guard microseconds > 0 else { return }
        var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
    }
}
