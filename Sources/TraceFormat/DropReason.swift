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
        case TC_DROP_KERNEL_RING_FULL: "kernel ring full"
        default: "reason \(reason)"
        }
    }

    /// `counts` keyed by name, zeros left out; reasons sharing a name
    /// ("reason N" never does) add up without overflowing.
    package static func named(_ counts: [UInt32: UInt64]) -> [String: UInt64] {
        var named: [String: UInt64] = [:]
        for (reason, count) in counts where count > 0 {
            named[name(reason), default: 0] = named[name(reason), default: 0].saturatingAdd(count)
        }
        return named
    }
}
