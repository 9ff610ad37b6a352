package import CTraceABI

/// A perf event (`perf_event_open(2)`) and the ioctls TraceKernel makes on
/// it. Like `FileDescriptor`, it does not close itself: its owner calls
/// `close()` once.
package struct PerfEvent: Sendable {
    package let descriptor: FileDescriptor

    package init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    /// `perf_event_open(2)` of `attributes` for task `pid` (-1: every task)
    /// on `cpu`, close-on-exec, in no group. `name` says which event in the
    /// error: `perf_event_open('sched:sched_switch, cpu 0'): Permission denied`.
    package static func open(_ attributes: tc_perf_attr, pid: Int32, cpu: Int32, name: String) throws(SystemError) -> PerfEvent {
        var attributes = attributes
        let fd = try Syscall.call("perf_event_open", subject: "\(name), cpu \(cpu)") {
            tc_perf_event_open(&attributes, pid, cpu)
        }
        return PerfEvent(descriptor: FileDescriptor(rawValue: fd))
    }

    /// `ioctl(PERF_EVENT_IOC_ENABLE)`.
    package func enable() throws(SystemError) {
        try Syscall.call("ioctl(PERF_EVENT_IOC_ENABLE)") { tc_perf_enable(descriptor.rawValue) }
    }

    /// `ioctl(PERF_EVENT_IOC_DISABLE)`.
    package func disable() throws(SystemError) {
        try Syscall.call("ioctl(PERF_EVENT_IOC_DISABLE)") { tc_perf_disable(descriptor.rawValue) }
    }

    /// `ioctl(PERF_EVENT_IOC_SET_OUTPUT)`: this event's records go into the
    /// ring mapped on `target` (an event on the same CPU with the same clock).
    package func setOutput(to target: PerfEvent) throws(SystemError) {
        try Syscall.call("ioctl(PERF_EVENT_IOC_SET_OUTPUT)") { tc_perf_set_output(descriptor.rawValue, target.descriptor.rawValue) }
    }

    /// `ioctl(PERF_EVENT_IOC_ID)`: the id its samples carry (`PERF_SAMPLE_IDENTIFIER`).
    package func id() throws(SystemError) -> UInt64 {
        var id: UInt64 = 0
        try Syscall.call("ioctl(PERF_EVENT_IOC_ID)") { tc_perf_id(descriptor.rawValue, &id) }
        return id
    }

    /// `ioctl(PERF_EVENT_IOC_SET_FILTER)`: a tracepoint event records only
    /// what `filter` (an ftrace filter expression over the tracepoint's
    /// fields) accepts, tested before the sample and its callchain are
    /// taken. The kernel takes one filter per event (EEXIST after) of at
    /// most a page.
    package func setFilter(_ filter: String) throws(SystemError) {
        try Syscall.call("ioctl(PERF_EVENT_IOC_SET_FILTER)") { tc_perf_set_filter(descriptor.rawValue, filter) }
    }

    /// `read(2)` of an event opened with `read_format` `TC_PERF_FORMAT_LOST`
    /// alone: its count, and how many of its records the ring had no room
    /// for; nil if the kernel gave back fewer than those 16 bytes.
    package func readCountAndLost() throws(SystemError) -> (count: UInt64, lost: UInt64)? {
        var values: (UInt64, UInt64) = (0, 0)
        let n = try withUnsafeMutableBytes(of: &values) { (buffer) throws(SystemError) in
            try descriptor.read(into: buffer)
        }
        return n == 16 ? (values.0, values.1) : nil
    }

    package func close() { descriptor.close() }
}
