/// Where the decoder finds what it reads in the raw records of
/// `sched:sched_switch` and `sched:sched_waking`, taken from their format
/// files. On Linux 6.18 (x86_64):
///
///     sched_switch  prev_pid@24 (4)  prev_state@32 (8)  next_pid@56 (4)
///     sched_waking  common_flags@2 (1)  pid@24 (4)
package struct SchedLayout: Equatable, Sendable {
    package var switchID: UInt64
    package var previousTID: Int
    package var previousState: Int
    /// 8 (a `long`) since Linux 4.4; 4 on 32-bit kernels.
    package var previousStateSize: Int
    package var nextTID: Int
    /// A sched_switch raw record shorter than this is refused.
    package var switchMinimumSize: Int

    package var wakingID: UInt64
    package var wakeeTID: Int
    package var wakingFlags: Int
    package var wakingMinimumSize: Int

    /// Reads the offsets from the two formats; a missing field, or one of
    /// a size the decoder does not read, refuses the kernel.
    package init(switchFormat: TracepointFormat, wakingFormat: TracepointFormat) throws(KernelError) {
        let previous = try switchFormat.field("prev_pid", sizes: [4])
        let state = try switchFormat.field("prev_state", sizes: [4, 8])
        let next = try switchFormat.field("next_pid", sizes: [4])
        switchID = switchFormat.id
        previousTID = previous.offset
        previousState = state.offset
        previousStateSize = state.size
        nextTID = next.offset
        switchMinimumSize = [previous, state, next].map { $0.offset + $0.size }.max() ?? 0

        let wakee = try wakingFormat.field("pid", sizes: [4])
        let flags = try wakingFormat.field("common_flags", sizes: [1])
        wakingID = wakingFormat.id
        wakeeTID = wakee.offset
        wakingFlags = flags.offset
        wakingMinimumSize = max(wakee.offset + wakee.size, flags.offset + flags.size)
    }
}
