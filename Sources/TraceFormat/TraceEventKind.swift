import CTraceABI

/// The kind of an encoded event (docs/format.md, "Events"): the one Swift
/// name for the C header's `TC_EV_*` tags, so readers switch on this type
/// and only the encoders (TraceClient's hot path, test builders) touch tags.
///
/// Match a kind with a pattern (`if case .log = kind`, `switch`) in hot
/// code: `==` from another module is a call through the `Equatable`
/// conformance (the payload case makes it a derived function), not a tag
/// compare.
package enum TraceEventKind: Hashable, Sendable {
    case regionBegin
    /// Ends a region this thread began (a back-reference within the thread).
    case regionEnd
    /// Ends a region another thread began (its thread and sequence).
    case regionEndForeign
    case taskBegin
    case taskEnd
    case log
    case counterInteger
    case counterDouble
    /// Changes the Swift task and trace task of the events after it; no timestamp.
    case context
    /// A kind a later minor version added (0x40...0x7f): skipped by its length.
    case `extension`(UInt8)
    // Kernel events, from kernel batches only (their tags are of their own,
    // `init(kernelTag:)`). Cases without payloads: a second payload case
    // made every switch over the kind dearer (callgrind: +1 % of `report`).
    /// The thread left its CPU.
    case switchOut
    /// The thread got a CPU.
    case switchIn
    /// The thread was made runnable.
    case wakeup
    /// A CPU-clock sample of the running thread.
    case cpuSample
    /// The thread's name from here on.
    case threadName
    case threadExit
    /// A counter of the thread's process.
    case processStat

    /// The kind of `tag` with the stack bit cleared, or nil for a tag no
    /// version defines.
    @inline(__always)
    package init?(tag: UInt8) {
        switch Int(tag) {
        case TC_EV_REGION_BEGIN: self = .regionBegin
        case TC_EV_REGION_END: self = .regionEnd
        case TC_EV_REGION_END_FOREIGN: self = .regionEndForeign
        case TC_EV_TASK_BEGIN: self = .taskBegin
        case TC_EV_TASK_END: self = .taskEnd
        case TC_EV_LOG: self = .log
        case TC_EV_COUNTER_INT: self = .counterInteger
        case TC_EV_COUNTER_DOUBLE: self = .counterDouble
        case TC_EV_CONTEXT: self = .context
        case TC_EV_FIRST_EXTENSION...TC_EV_LAST_EXTENSION: self = .extension(tag)
        default: return nil
        }
    }

    /// The kernel event kind of a kernel batch's `tag` (stack bit cleared),
    /// nil for a tag no version defines there.
    @inline(__always)
    package init?(kernelTag tag: UInt8) {
        switch Int(tag) {
        case TC_KEV_SWITCH_OUT: self = .switchOut
        case TC_KEV_SWITCH_IN: self = .switchIn
        case TC_KEV_WAKEUP: self = .wakeup
        case TC_KEV_SAMPLE: self = .cpuSample
        case TC_KEV_NAME: self = .threadName
        case TC_KEV_EXIT: self = .threadExit
        case TC_KEV_STAT: self = .processStat
        case TC_EV_FIRST_EXTENSION...TC_EV_LAST_EXTENSION: self = .extension(tag)
        default: return nil
        }
    }

    /// Whether it is a kernel event's kind.
    package var isKernel: Bool {
        switch self {
        case .switchOut, .switchIn, .wakeup, .cpuSample, .threadName, .threadExit, .processStat: true
        default: false
        }
    }

    /// The tag an encoder writes (without the stack bit; a kernel kind's
    /// in a kernel batch).
    package var tag: UInt8 {
        switch self {
        case .regionBegin: UInt8(TC_EV_REGION_BEGIN)
        case .regionEnd: UInt8(TC_EV_REGION_END)
        case .regionEndForeign: UInt8(TC_EV_REGION_END_FOREIGN)
        case .taskBegin: UInt8(TC_EV_TASK_BEGIN)
        case .taskEnd: UInt8(TC_EV_TASK_END)
        case .log: UInt8(TC_EV_LOG)
        case .counterInteger: UInt8(TC_EV_COUNTER_INT)
        case .counterDouble: UInt8(TC_EV_COUNTER_DOUBLE)
        case .context: UInt8(TC_EV_CONTEXT)
        case .extension(let tag): tag
        case .switchOut: UInt8(TC_KEV_SWITCH_OUT)
        case .switchIn: UInt8(TC_KEV_SWITCH_IN)
        case .wakeup: UInt8(TC_KEV_WAKEUP)
        case .cpuSample: UInt8(TC_KEV_SAMPLE)
        case .threadName: UInt8(TC_KEV_NAME)
        case .threadExit: UInt8(TC_KEV_EXIT)
        case .processStat: UInt8(TC_KEV_STAT)
        }
    }

    /// The stack bit a tag carries when the event has a stack id.
    package static let stackBit = UInt8(TC_EV_HAS_STACK)

    /// Whether an event of this kind may carry a stack id.
    package var mayCarryStack: Bool {
        switch self {
        case .regionBegin, .taskBegin, .log: true
        case .switchOut, .cpuSample: true
        default: false
        }
    }

    /// How dumps and size tables name the kind.
    package var name: String {
        switch self {
        case .regionBegin: "region begin"
        case .regionEnd: "region end"
        case .regionEndForeign: "region end (foreign)"
        case .taskBegin: "task begin"
        case .taskEnd: "task end"
        case .log: "log"
        case .counterInteger: "counter"
        case .counterDouble: "counter (double)"
        case .context: "context"
        case .extension(let tag): "kind 0x\(String(tag, radix: 16))"
        case .switchOut: "switch out"
        case .switchIn: "switch in"
        case .wakeup: "wakeup"
        case .cpuSample: "cpu sample"
        case .threadName: "thread name"
        case .threadExit: "thread exit"
        case .processStat: "process stat"
        }
    }
}
