/// Why tracing could not start, or why a trace could not be completed.
///
/// ```swift
/// do {
///     try Trace.start(writingTo: "/tmp/app.trace")
/// } catch {
///     print("tracing unavailable: \(error)")   // the service goes on untraced
/// }
/// ```
public enum TraceError: Error, Sendable, CustomStringConvertible {
    /// `Trace.start` was called while this process is already tracing.
    case alreadyStarted
    /// The buffer size can only be set before the process first traces.
    case bufferExists
    /// The shared-memory buffer could not be created.
    case buffer(String)
    /// The output file could not be opened.
    case output(String)
    /// Writing the trace failed (for example, the disk is full).
    case write(String)
    /// The writer thread could not be started.
    case writerThread(String)
    /// A bug in TraceClient: please report it with this message.
    case internalInconsistency(String)

    public var description: String {
        switch self {
        case .alreadyStarted:
            "tracing is already started in this process (call Trace.stop() first)"
        case .bufferExists:
            "the trace buffer already exists: set its size before the first traced event or Trace.start"
        case .buffer(let error):
            "cannot create the trace buffer: \(error)"
        case .output(let error):
            "cannot open the trace output: \(error)"
        case .write(let error):
            "writing the trace failed: \(error) (events after the failure are lost; the file holds what was written before)"
        case .writerThread(let error):
            "cannot start the trace writer thread: \(error)"
        case .internalInconsistency(let what):
            "TraceClient internal error: \(what)"
        }
    }
}
