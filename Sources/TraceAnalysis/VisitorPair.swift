/// Two visitors in one walk: every call goes to `first`, then to `second`.
package struct VisitorPair<First: TraceVisitor, Second: TraceVisitor>: TraceVisitor {
    package var first: First
    package var second: Second

    package init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    package mutating func event(_ event: TraceEvent, catalog: TraceCatalog) {
        first.event(event, catalog: catalog)
        second.event(event, catalog: catalog)
    }
    package mutating func taskBegan(_ task: TaskSpan) {
        first.taskBegan(task)
        second.taskBegan(task)
    }
    package mutating func taskEnded(_ task: TaskSpan) {
        first.taskEnded(task)
        second.taskEnded(task)
    }
    package mutating func taskEndWithoutBegin(process: UInt32, id: UInt64, time: Int64) {
        first.taskEndWithoutBegin(process: process, id: id, time: time)
        second.taskEndWithoutBegin(process: process, id: id, time: time)
    }
    package mutating func regionBegan(_ region: RegionSpan) {
        first.regionBegan(region)
        second.regionBegan(region)
    }
    package mutating func regionEnded(_ region: RegionSpan) {
        first.regionEnded(region)
        second.regionEnded(region)
    }
    package mutating func regionEndedAgain(_ region: RegionSpan, time: Int64, thread: UInt32) {
        first.regionEndedAgain(region, time: time, thread: thread)
        second.regionEndedAgain(region, time: time, thread: thread)
    }
    package mutating func orphanEnd(_ end: OrphanEnd) {
        first.orphanEnd(end)
        second.orphanEnd(end)
    }
    package mutating func log(_ log: LogRecord) {
        first.log(log)
        second.log(log)
    }
    package mutating func counter(_ counter: CounterRecord) {
        first.counter(counter)
        second.counter(counter)
    }
    package mutating func dropped(process: UInt32, thread: UInt32, time: Int64, count: UInt64) {
        first.dropped(process: process, thread: thread, time: time, count: count)
        second.dropped(process: process, thread: thread, time: time, count: count)
    }
    package mutating func finish(last: Int64?) {
        first.finish(last: last)
        second.finish(last: last)
    }
}
