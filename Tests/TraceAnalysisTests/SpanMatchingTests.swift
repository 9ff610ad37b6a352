import Testing
import TestSupport
import TraceAnalysis
import TraceFormat

/// The walk pairs task creations with their ends and region begins with
/// their ends, in time order, and flags each way a region can break the
/// rules of `TraceRegion`: each test writes the events by hand and compares
/// the visitor's calls against the wanted list.
@Suite struct SpanMatchingTests {
    static let names: [UInt32: String] = [1: "order", 2: "brew", 3: "pour", 4: "beans", 5: "task.type", 6: "grind"]

    /// Walks a one-process trace whose batches `write` adds.
    static func walk(_ write: (HandWrittenTrace) throws -> Void) throws -> [String] {
        let directory = try TemporaryDirectory("span-matching")
        let path = directory.file("hand.trace")
        let trace = try HandWrittenTrace(path: path)
        try trace.process(1)
        try trace.strings(1, names)
        try write(trace)
        try trace.finish()
        let walk = try TraceWalk(paths: [path])
        var log = CallLog(catalog: walk.catalog)
        walk.run(&log)
        #expect(walk.catalog.diagnostics.isEmpty, "\(walk.catalog.diagnostics)")
        return log.lines
    }

    @Test func regionsNestInTheirTaskAndEndInOrder() throws {
        let lines = try Self.walk { trace in
            var e = EventEncoding()
            e.taskBegin(dt: 0, idDelta: 7, type: 1)
            e.context(swiftDelta: 0, taskDelta: 7)
            e.regionBegin(dt: 10, type: 2)
            e.regionBegin(dt: 10, type: 3)
            e.regionEnd(dt: 5, back: 0)
            e.log(dt: 5, category: 4, message: "arabica")
            e.regionEnd(dt: 10, back: 1)
            e.counter(dt: 1, name: 6, value: -3)
            e.taskEnd(dt: 9, idDelta: 0)
            try trace.batch(process: 1, thread: 1, base: 1000, e)
        }
        #expect(lines == [
            "taskBegan p1 #7 order parent=0 t1 1000--",
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=7 1010--",
            "regionBegan p1 t1 pour #2 parent=1 depth=1 task=7 1020--",
            "regionEnded p1 t1 pour #2 parent=1 depth=1 task=7 1020-1025 end-t1",
            "log p1 t1 1030 task=7 beans: arabica",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=7 1010-1040 end-t1",
            "counter p1 t1 1041 grind=-3.0",
            "taskEnded p1 #7 order parent=0 t1 1000-1050",
            "finish 1050",
        ])
    }

    @Test func eachMisuseOfARegionIsFlagged() throws {
        let lines = try Self.walk { trace in
            var one = EventEncoding()
            one.regionBegin(dt: 0, type: 2) // #0 brew
            one.regionBegin(dt: 10, type: 3) // #1 pour
            one.regionEnd(dt: 10, back: 1) // brew, while pour is open: out of order
            one.regionEnd(dt: 10, back: 0) // pour
            one.regionEnd(dt: 10, back: 0) // pour again: ended twice
            one.regionBegin(dt: 10, type: 6) // #2 grind: ended by thread 2
            one.regionBegin(dt: 10, type: 4) // #3 beans: never ended
            try trace.batch(process: 1, thread: 1, base: 2000, one)
            var two = EventEncoding()
            two.regionEndForeign(dt: 0, thread: 1, sequence: 2) // grind, on another thread
            two.regionEndForeign(dt: 10, thread: 1, sequence: 99) // never begun: an orphan
            try trace.batch(process: 1, thread: 2, base: 2100, two)
        }
        #expect(lines == [
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=0 2000--",
            "regionBegan p1 t1 pour #2 parent=1 depth=1 task=0 2010--",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=0 2000-2020 end-t1 endedOutOfOrder",
            "regionEnded p1 t1 pour #2 parent=1 depth=1 task=0 2010-2030 end-t1",
            "regionEndedAgain p1 t1 pour #2 parent=1 depth=1 task=0 2010-2030 end-t1 endedTwice again t1 2040",
            "regionBegan p1 t1 grind #3 parent=0 depth=0 task=0 2050--",
            "regionBegan p1 t1 beans #4 parent=3 depth=1 task=0 2060--",
            "regionEnded p1 t1 grind #3 parent=0 depth=0 task=0 2050-2100 end-t2 endedOutOfOrder,endedOnAnotherTask",
            "orphanEnd p1 t2 of t1 #99 2110",
            "regionEnded p1 t1 beans #4 parent=3 depth=1 task=0 2060-- neverEnded",
            "finish 2110",
        ])
    }

    @Test func tasksMatchAcrossThreadsAndEndOnce() throws {
        let lines = try Self.walk { trace in
            var one = EventEncoding()
            one.taskBegin(dt: 0, idDelta: 1, type: 1) // #1
            one.context(swiftDelta: 0, taskDelta: 1)
            one.taskBegin(dt: 10, idDelta: 1, type: 1) // #2, a subtask of #1
            one.log(dt: 10, category: 5, message: "/orders/{id}") // renames #1
            one.taskBegin(dt: 10, idDelta: 1, type: 1) // #3: never ended
            try trace.batch(process: 1, thread: 1, base: 3000, one)
            var two = EventEncoding()
            two.taskEnd(dt: 0, idDelta: 2) // #2, ended on thread 2
            two.taskEnd(dt: 10, idDelta: 1) // #1
            two.taskEnd(dt: 10, idDelta: 1) // #1 again
            two.taskEnd(dt: 10, idDelta: 9) // #9: never created in the trace
            try trace.batch(process: 1, thread: 2, base: 3100, two)
        }
        #expect(lines == [
            "taskBegan p1 #1 order parent=0 t1 3000--",
            "taskBegan p1 #2 order parent=1 t1 3010--",
            "log p1 t1 3020 task=1 task.type: /orders/{id}",
            "taskBegan p1 #3 order parent=1 t1 3030--",
            "taskEnded p1 #2 order parent=1 t1 3010-3100",
            "taskEnded p1 #1 /orders/{id} parent=0 t1 3000-3110",
            "taskEndWithoutBegin p1 #1 3120",
            "taskEndWithoutBegin p1 #9 3130",
            "taskEnded p1 #3 order parent=1 t1 3030--",
            "finish 3130",
        ])
    }

    @Test func regionsOfASwiftTaskNestAcrossThreads() throws {
        let lines = try Self.walk { trace in
            // Swift task 40 begins "brew" on thread 1, resumes on thread 2,
            // begins "pour" in it, and ends both there.
            var one = EventEncoding()
            one.context(swiftDelta: 40, taskDelta: 0)
            one.regionBegin(dt: 0, type: 2)
            try trace.batch(process: 1, thread: 1, base: 4000, one)
            var two = EventEncoding()
            two.context(swiftDelta: 40, taskDelta: 0)
            two.regionBegin(dt: 0, type: 3)
            two.regionEnd(dt: 10, back: 0)
            two.regionEndForeign(dt: 10, thread: 1, sequence: 0)
            try trace.batch(process: 1, thread: 2, base: 4100, two)
        }
        #expect(lines == [
            "regionBegan p1 t1 brew #1 parent=0 depth=0 task=0 4000--",
            "regionBegan p1 t2 pour #2 parent=1 depth=1 task=0 4100--",
            "regionEnded p1 t2 pour #2 parent=1 depth=1 task=0 4100-4110 end-t2",
            "regionEnded p1 t1 brew #1 parent=0 depth=0 task=0 4000-4120 end-t2",
            "finish 4120",
        ])
    }
}
