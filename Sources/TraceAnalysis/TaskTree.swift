/// One task opened up: its regions nested, its logs in place, its child
/// tasks, where it ran, and where its time went. Times are CLOCK_MONOTONIC
/// nanoseconds. What `tracectl tasks` prints and the HTML page draws.
package struct TaskTree: Codable, Sendable {
    package struct Thread: Codable, Hashable, Sendable {
        package var tid: Int32
        package var name: String
    }

    package struct Region: Codable, Sendable {
        package var type: String
        package var begin: Int64
        /// nil: never ended in the trace.
        package var end: Int64?
        package var thread: Int32
        package var swiftTask: UInt64
        package var misuse: [String]
        package var stack: [String]
        package var children: [Region]
    }

    package struct Log: Codable, Sendable {
        package var time: Int64
        package var category: String
        package var message: String
        package var truncated: Bool
        package var thread: Int32
        package var stack: [String]
    }

    package struct SelfTime: Codable, Sendable {
        package var region: String
        package var ns: Int64
    }

    package var process: UInt32
    package var pid: Int32
    package var id: UInt64
    package var type: String
    package var parent: UInt64
    package var begin: Int64?
    package var end: Int64?
    package var latency: Int64?
    package var threads: [Thread]
    package var swiftTasks: [UInt64]
    package var stack: [String]
    package var regions: [Region]
    package var logs: [Log]
    package var children: [TaskTree]
    /// Per region type, its time minus the time of regions nested in it.
    package var selfTime: [SelfTime]
    /// Time of the task (creation to end) that no region of it covers.
    package var uncovered: Int64?
    /// Regions and logs beyond the per-task limits, not shown.
    package var omittedRegions: Int
    package var omittedLogs: Int
}
