import TraceFormat

/// Pairs task creations with their ends. Only the first end counts for the
/// task's latency; later ends are counted and otherwise ignored.
package enum TaskMatcher {
    package struct TaskSpan: Equatable, Sendable {
        package var process: UInt32
        package var id: UInt64
        package var parent: UInt64
        package var type: String
        package var begin: Int64?
        /// The first end.
        package var end: Int64?
        package var extraEnds: Int
        /// Creation to first end, when both are in the trace.
        package var latency: Int64? {
            guard let begin, let end else { return nil }
            // Both times come from the file: the difference may pass Int64.
            return end.saturatingSubtract(begin)
        }
    }

    private struct Key: Hashable {
        var process: UInt32
        var id: UInt64
    }

    package static func match(_ model: TraceModel) -> [TaskSpan] {
        var tasks: [TaskSpan] = []
        var index: [Key: Int] = [:]
        for event in model.events {
            switch event.kind {
            case .taskBegin(let id, let parent, let type, _):
                index[Key(process: event.process, id: id)] = tasks.count
                tasks.append(TaskSpan(process: event.process, id: id, parent: parent, type: type, begin: event.time,
                                      end: nil, extraEnds: 0))
            case .taskEnd(let id):
                let key = Key(process: event.process, id: id)
                if let i = index[key] {
                    if tasks[i].end == nil { tasks[i].end = event.time } else { tasks[i].extraEnds += 1 }
                } else {
                    // Created before the trace began (or its creation dropped).
                    index[key] = tasks.count
                    tasks.append(TaskSpan(process: event.process, id: id, parent: 0, type: "", begin: nil,
                                          end: event.time, extraEnds: 0))
                }
            default:
                continue
            }
        }
        return tasks
    }
}
