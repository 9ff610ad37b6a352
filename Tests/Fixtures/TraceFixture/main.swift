// A traced process for tests: runs one scripted workload and prints what it
// emitted as `key=value` lines, so tests can reconcile counts exactly.
import CTraceABI
import TraceClient
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    try? FileDescriptor.standardError.writeAll(Array("TraceFixture: \(message)\n".utf8))
    exit(2)
}

func option(_ name: String, _ arguments: [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func number(_ name: String, _ arguments: [String], default value: Int) -> Int {
    option(name, arguments).flatMap { Int($0) } ?? value
}

/// Each thread emits `events` integer counters named "seq" whose values are
/// 0, 1, 2 ...: the reader checks every thread's values are strictly
/// increasing (no torn or interleaved event) and recorded + dropped = emitted.
func burst(threads: Int, events: Int) {
    let workers = (0..<threads).map { _ in
        try! SystemThread.spawn(name: "burst") {
            for value in 0..<events { Trace.counter("seq", value) }
        }
    }
    for worker in workers { worker.join() }
    print("emitted=\(threads * events)")
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let scenario = arguments.first else { fail("usage: TraceFixture SCENARIO [options]") }

switch scenario {
case "burst":
    // burst --threads N --events M --out FILE
    guard let out = option("--out", arguments) else { fail("burst needs --out FILE") }
    do {
        try Trace.start(writingTo: out)
        burst(threads: number("--threads", arguments, default: 4), events: number("--events", arguments, default: 1000))
        try Trace.stop()
    } catch {
        fail("\(error)")
    }
case "autostart":
    // Traced through TRACED_FILE only: no start or stop in code.
    let events = number("--events", arguments, default: 100)
    Trace.withTask("autostart") { _ in
        for value in 0..<events { Trace.withRegion("step") { Trace.counter("value", value) } }
    }
    print("emitted=\(events * 3 + 2)")
default:
    fail("unknown scenario \(scenario)")
}
