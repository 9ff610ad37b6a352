import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// The walk's timeline: one order across threads, processes and files, the
/// losses where they happened, and the same calls whether the visitor runs
/// on the walk's thread or behind it (`runPipelined`).
@Suite(.tags(.concurrency)) struct WalkOrderTests {
    @Test func eventsOfThreadsProcessesAndFilesComeInTimeOrder() throws {
        let directory = try TemporaryDirectory("walk-order")
        let paths = [directory.file("order-0.trace"), directory.file("order-1.trace")]
        for (index, path) in paths.enumerated() {
            let trace = try HandWrittenTrace(path: path, fileIndex: UInt64(index))
            for process: UInt32 in [1, 2] {
                try trace.process(process, pid: Int32(process) + 100)
                try trace.strings(process, [1: "depth \(process)"])
            }
            // File 0: process 1's thread 1 at 0, 20, 40 and process 2's
            // thread 1 at 10, 30; file 1: process 1's thread 2 at 5, 35.
            func counters(_ base: UInt64, _ count: Int, step: UInt64) -> EventEncoding {
                var e = EventEncoding()
                for i in 0..<count { e.counter(dt: i == 0 ? 0 : step, name: 1, value: Int64(base + UInt64(i) * step)) }
                return e
            }
            if index == 0 {
                try trace.batch(process: 1, thread: 1, base: 0, counters(0, 3, step: 20))
                try trace.batch(process: 2, thread: 1, base: 10, droppedBefore: 4, counters(10, 2, step: 20))
            } else {
                try trace.batch(process: 1, thread: 2, base: 5, counters(5, 2, step: 30))
            }
            try trace.finish()
        }
        let walk = try TraceWalk(paths: paths)
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        #expect(log.lines == [
            "counter p1 t1 0 depth 1=0.0",
            "counter p1 t2 5 depth 1=5.0",
            "dropped p2 t1 10 4",
            "counter p2 t1 10 depth 2=10.0",
            "counter p1 t1 20 depth 1=20.0",
            "counter p2 t1 30 depth 2=30.0",
            "counter p1 t2 35 depth 1=35.0",
            "counter p1 t1 40 depth 1=40.0",
            "finish 40",
        ])
        // Only the processes asked for.
        var two = CallLog(catalog: walk.catalog)
        walk.run(&two, processes: [2])
        #expect(two.lines == ["dropped p2 t1 10 4", "counter p2 t1 10 depth 2=10.0", "counter p2 t1 30 depth 2=30.0", "finish 30"])
    }

    /// Random but well-formed and misused spans on four threads of two
    /// processes, whose batches interleave in time.
    static func writeRandomTrace(_ path: String, seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let trace = try HandWrittenTrace(path: path)
        for process: UInt32 in [1, 2] {
            try trace.process(process)
            try trace.strings(process, SpanMatchingTests.names)
        }
        for process: UInt32 in [1, 2] {
            for thread: UInt32 in [1, 2] {
                var time: UInt64 = 1000 + UInt64(thread)
                var sequence: UInt64 = 0
                // Task ids apart per thread, as a client's are per process.
                let firstTask = UInt64(thread) * 1000
                var lastTask = firstTask
                for _ in 0..<20 {
                    var e = EventEncoding()
                    let base = time
                    let batchSequence = sequence
                    var batchLastTask: UInt64 = 0
                    for i in 0..<Int.random(in: 1...60, using: &random) {
                        let dt = i == 0 ? 0 : UInt64.random(in: 0...50, using: &random)
                        time += dt
                        let choice = Int.random(in: 0..<10, using: &random)
                        if choice < 2 {
                            e.regionBegin(dt: dt, type: UInt32.random(in: 2...4, using: &random))
                            sequence += 1
                        } else if choice < 4, sequence > 0 {
                            e.regionEnd(dt: dt, back: UInt64.random(in: 0..<sequence, using: &random))
                        } else if choice == 4, sequence > 0 {
                            e.regionEndForeign(dt: dt, thread: 3 - thread, sequence: UInt64.random(in: 0..<sequence, using: &random))
                        } else if choice == 5 {
                            lastTask += 1
                            e.taskBegin(dt: dt, idDelta: Int64(lastTask) - Int64(batchLastTask), type: 1)
                            batchLastTask = lastTask
                        } else if choice == 6, lastTask > firstTask {
                            let id = UInt64.random(in: firstTask + 1...lastTask + 1, using: &random)
                            e.taskEnd(dt: dt, idDelta: Int64(id) - Int64(batchLastTask))
                        } else if choice == 7 {
                            e.context(swiftDelta: Int64.random(in: -2...2, using: &random),
                                      taskDelta: Int64.random(in: -1...1, using: &random))
                            e.log(dt: dt, category: 4, message: String(repeating: "x", count: Int.random(in: 0...40, using: &random)))
                        } else {
                            e.counter(dt: dt, name: 6, value: Int64.random(in: -9...9, using: &random))
                        }
                    }
                    try trace.batch(process: process, thread: thread, base: base, regionSequence: batchSequence,
                                    droppedBefore: UInt64.random(in: 0...1, using: &random), e)
                    time += UInt64.random(in: 0...100, using: &random)
                }
            }
        }
        try trace.finish()
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func aPipelinedWalkMakesTheSameCallsAsTheWalk(seed: UInt64) throws {
        let directory = try TemporaryDirectory("walk-pipelined")
        let path = directory.file("random.trace")
        try Self.writeRandomTrace(path, seed: seed)
        let walk = try TraceWalk(paths: [path])
        var direct = CallLog(catalog: walk.catalog), pipelined = CallLog(catalog: walk.catalog)
        walk.run(&direct)
        walk.runPipelined(&pipelined)
        #expect(direct.lines.count > 1000)
        // The first call that differs, rather than two lists of thousands.
        let first = direct.lines.indices.first { $0 >= pipelined.lines.count || direct.lines[$0] != pipelined.lines[$0] }
        if let first {
            Issue.record("call \(first) of the walk, \(direct.lines[first]), is \(first < pipelined.lines.count ? pipelined.lines[first] : "missing") pipelined")
        }
        #expect(direct.lines.count == pipelined.lines.count)
        for kind in ["taskBegan", "taskEnded", "taskEndWithoutBegin", "regionBegan", "regionEnded", "regionEndedAgain",
                     "orphanEnd", "log", "counter", "dropped"] {
            #expect(direct.lines.contains { $0.hasPrefix(kind + " ") }, "no \(kind) in seed \(seed)'s walk")
        }
    }
}
