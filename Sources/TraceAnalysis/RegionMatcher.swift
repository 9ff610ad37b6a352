/// Pairs region begins with their ends and flags misuse, per the rules of
/// `TraceRegion`: a region ends once, on the task that began it, after the
/// regions nested in it.
package enum RegionMatcher {
    package struct Span: Equatable, Sendable {
        package var process: UInt32
        package var type: String
        /// The trace task the region belongs to (0: none).
        package var task: UInt64
        package var beginThread: UInt32
        package var sequence: UInt64
        package var begin: Int64
        package var end: Int64?
        package var endThread: UInt32?
        /// The Swift task that began the region (0: not in a Swift task).
        package var swiftTask: UInt64
        /// How deep it was nested in its owner's open regions at its begin.
        package var depth: Int
        package var misuse: Set<Misuse>
    }

    package enum Misuse: Hashable, Sendable {
        /// `end()` was called again on an ended region.
        case endedTwice
        /// Ended while a region begun after it (on the same task) was open.
        case endedOutOfOrder
        /// Ended on another Swift task (or, outside Swift tasks, another thread).
        case endedOnAnotherTask
        /// Never ended before the trace ended.
        case neverEnded
    }

    /// An end whose begin is not in the trace (begun before tracing started,
    /// or its begin was dropped).
    package struct OrphanEnd: Equatable, Sendable {
        package var process: UInt32
        package var thread: UInt32
        package var beginThread: UInt32
        package var beginSequence: UInt64
        package var time: Int64
    }

    package struct Result: Sendable {
        package var spans: [Span]
        package var orphanEnds: [OrphanEnd]
    }

    /// Who owns a region: its Swift task, or its thread outside Swift tasks.
    private struct Owner: Hashable {
        var process: UInt32
        var swiftTask: UInt64
        var thread: UInt32
    }

    private struct Key: Hashable {
        var process: UInt32
        var thread: UInt32
        var sequence: UInt64
    }

    package static func match(_ model: TraceModel) -> Result {
        var spans: [Span] = []
        var index: [Key: Int] = [:]
        var open: [Owner: [Int]] = [:]
        var orphans: [OrphanEnd] = []
        func owner(_ process: UInt32, _ swiftTask: UInt64, _ thread: UInt32) -> Owner {
            Owner(process: process, swiftTask: swiftTask, thread: swiftTask == 0 ? thread : 0)
        }
        for event in model.events {
            switch event.kind {
            case .regionBegin(let type, let sequence, let task, _):
                let who = owner(event.process, event.swiftTask, event.thread)
                let depth = open[who]?.count ?? 0
                index[Key(process: event.process, thread: event.thread, sequence: sequence)] = spans.count
                open[who, default: []].append(spans.count)
                spans.append(Span(process: event.process, type: type, task: task, beginThread: event.thread,
                                  sequence: sequence, begin: event.time, end: nil, endThread: nil,
                                  swiftTask: event.swiftTask, depth: depth, misuse: []))
            case .regionEnd(let beginThread, let beginSequence):
                guard let i = index[Key(process: event.process, thread: beginThread, sequence: beginSequence)] else {
                    orphans.append(OrphanEnd(process: event.process, thread: event.thread, beginThread: beginThread,
                                             beginSequence: beginSequence, time: event.time))
                    continue
                }
                if spans[i].end != nil {
                    spans[i].misuse.insert(.endedTwice)
                    continue
                }
                spans[i].end = event.time
                spans[i].endThread = event.thread
                let began = owner(spans[i].process, spans[i].swiftTask, spans[i].beginThread)
                if owner(event.process, event.swiftTask, event.thread) != began {
                    spans[i].misuse.insert(.endedOnAnotherTask)
                }
                if let stack = open[began], let position = stack.lastIndex(of: i) {
                    if position != stack.count - 1 { spans[i].misuse.insert(.endedOutOfOrder) }
                    open[began]?.remove(at: position)
                }
            default:
                continue
            }
        }
        for i in spans.indices where spans[i].end == nil {
            spans[i].misuse.insert(.neverEnded)
        }
        return Result(spans: spans, orphanEnds: orphans)
    }
}
