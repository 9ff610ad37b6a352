/// One kernel event on its way to a session's thread writer: what
/// `ExecutionRecorder` hands `SessionExecution.apply`, trivially copyable
/// (no strings, no references), so that a drain moves plain bytes.
struct RoutedEvent {
    enum Kind: UInt8 {
        case switchOut, switchIn, wakeup, name, exit, sample
    }

    var time: UInt64
    /// The session's writer of the thread (`SessionExecution.slot`).
    var slot: Int32
    var kind: Kind
    /// TC_STATE_* and TC_WAIT_* of a switch-out.
    var state: UInt8 = 0
    var wait: UInt8 = 0
    var cpu: UInt32 = 0
    /// The recorder's string (`ExecutionRecorder.strings`) of a switch-out's
    /// call or a name; -1 none.
    var text: Int32 = -1
    /// A wakeup's waker, 0 0 when none is named.
    var wakerPID: Int32 = 0
    var wakerTID: Int32 = 0
    /// A switch-out's user stack: the recorder's (`ExecutionRecorder`
    /// stacks); -1 none.
    var stack: Int32 = -1
}
