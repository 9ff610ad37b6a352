/// A task in a trace: the key of its process (the trace's, not the pid)
/// and its id, which is unique within the process.
///
/// The one key every reader that matches a task's events uses (the
/// report, drilldown, the live view, traced's OTLP path and snapshot
/// triggers), hashed as one word: a task's id is a process's counter,
/// far below 2^40, so `id ^ process << 40` differs for every task a trace
/// holds, and one word costs half of hashing two.
package struct TaskKey: Hashable, Sendable {
    package var process: UInt32
    package var id: UInt64

    @inline(__always)
    package init(process: UInt32, id: UInt64) {
        self.process = process
        self.id = id
    }

    @inline(__always)
    package func hash(into hasher: inout Hasher) { hasher.combine(id ^ UInt64(process) << 40) }
}
