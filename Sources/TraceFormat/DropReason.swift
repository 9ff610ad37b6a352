import CTraceABI

/// Names of the drop reasons (TC_DROP_*, the columns of a buffer's drop
/// counters and the keys of a drops record), as status, dumps and reports
/// show them.
package enum DropReason {
    package static func name(_ reason: UInt32) -> String {
        switch Int(reason) {
        case TC_DROP_BUFFER_FULL: "buffer full"
        case TC_DROP_REENTRANT: "reentrant"
        case TC_DROP_THREAD_EXITING: "thread exiting"
        case TC_LOST_METADATA: "metadata lost"
        case TC_DROP_WRITE_FAILED: "write failed"
        default: "reason \(reason)"
        }
    }
}
