import CTraceABI
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

enum Fixture {
    static func fail(_ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("TraceFixture: \(message)\n".utf8))
        exit(2)
    }

    /// `--name value` pairs.
    struct Options {
        private var values: [String: String] = [:]

        init(_ arguments: ArraySlice<String>) {
            var iterator = arguments.makeIterator()
            while let name = iterator.next() {
                guard name.hasPrefix("--"), let value = iterator.next() else { Fixture.fail("bad option \(name)") }
                values[String(name.dropFirst(2))] = value
            }
        }

        func string(_ name: String) -> String {
            guard let value = values[name] else { Fixture.fail("missing --\(name)") }
            return value
        }

        func optionalString(_ name: String) -> String? { values[name] }

        func number(_ name: String, default value: Int) -> Int {
            values[name].flatMap { Int($0) } ?? value
        }
    }

    /// Runs `body` between Trace.start(writingTo: --out) and Trace.stop().
    static func traced(_ options: Options, stacks: Bool = false, _ body: () -> Void) {
        do {
            try Trace.start(writingTo: options.string("out"), options: TraceOptions(stacks: stacks))
            body()
            try Trace.stop()
        } catch {
            fail("\(error)")
        }
    }

    static func traced(_ options: Options, stacks: Bool = false, _ body: () async -> Void) async {
        do {
            try Trace.start(writingTo: options.string("out"), options: TraceOptions(stacks: stacks))
            await body()
            try Trace.stop()
        } catch {
            fail("\(error)")
        }
    }

    /// The longest --wait a scenario accepts, in seconds.
    static let waitLimit = 3600

    /// Waits until tracing is on, at most --wait seconds (10): for a client
    /// of the daemon, until a session turns it on; under TRACED_FILE, at
    /// once. Prints `enabled=true`, or `enabled=false` and exits with 3.
    /// With --delay (milliseconds, 0 by default, at most --wait's limit), it
    /// first sleeps that long without annotating: not yet a client of the
    /// daemon (the first annotation connects), so a session may record it
    /// by pid before it registers.
    static func waitUntilEnabled(_ options: Options) {
        let seconds = options.number("wait", default: 10)
        guard (0...waitLimit).contains(seconds) else { fail("--wait \(seconds) is not between 0 and \(waitLimit) seconds") }
        let delay = options.number("delay", default: 0)
        guard (0...waitLimit * 1000).contains(delay) else { fail("--delay \(delay) is not between 0 and \(waitLimit * 1000) ms") }
        if delay > 0 { usleep(UInt32(delay) * 1000) }
        // The first annotation starts the connection (or the TRACED_FILE
        // trace); tracing is off until the daemon's welcome (or control)
        // turns it on, and nothing tells this thread when: poll.
        Trace.counter("warmup", 0)
        let deadline = tc_monotonic_ns() + UInt64(seconds) * 1_000_000_000
        while !Trace.isEnabled {
            guard tc_monotonic_ns() < deadline else {
                print("enabled=false")
                exit(3)
            }
            usleep(1000)
        }
        print("enabled=true")
        fflushOut()  // a test may wait for it while the workload runs
    }

    /// Runs `body` on a new thread and waits for it.
    static func onThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        do {
            try SystemThread.spawn(name: name, body).join()
        } catch {
            fail("\(error)")
        }
    }
}
