import CTraceABI
package import TraceSystem

/// Hands this process's buffer to a consumer in another process, the way a
/// daemon connection does: the memfd and the wake-up eventfd, after which
/// events flow whenever tracing is enabled.
package enum BufferSharing {
    /// Creates the buffer if needed and returns its descriptors.
    package static func descriptors() throws(TraceError) -> (memory: FileDescriptor, wake: FileDescriptor) {
        let buffer = try ClientRuntime.shared.bufferCreatingIfNeeded()
        return (buffer.descriptor, buffer.notifier.descriptor)
    }

    /// Turns tracing on or off for an external consumer.
    package static func setEnabled(_ enabled: Bool, stacks: Bool = false) {
        tc_control_store(enabled ? UInt32(TC_CONTROL_ENABLED) | (stacks ? UInt32(TC_CONTROL_STACKS) : 0) : 0)
    }
}
