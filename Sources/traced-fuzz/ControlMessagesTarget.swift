import TraceFormat
import TraceProtocol

/// The control socket's decoders: requests as the daemon decodes them
/// (ControlHello, ControlRequest with its SessionConfig, then the limits
/// the daemon checks and the process selection it runs), and replies as
/// tracectl decodes them (ControlReply with SessionStatus, DaemonStatus,
/// errors). The stream is cut by `MessageBuffer` at the request limit or
/// the reply limit. What decodes must re-encode to the same value.
enum ControlMessagesTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        input.messages(limits: (Frame.controlLimit, Frame.controlReplyLimit), piece: 70_000, decode)
    }

    static func decode(_ message: MessageBuffer.Message) {
        ProducerMessagesTarget.roundTrip(message, ControlHello.self) { $0.encode() }
        if let request = try? message.withReader({ (r) throws(ProtocolError) in
            try ControlRequest(type: message.type, decoding: &r)
        }) {
            if case .start(_, let config) = request {
                // What the daemon does with a start request's configuration.
                _ = try? config.validated()
                for name in config.processNames.prefix(4) { _ = config.selects(pid: 1, name: name) }
                _ = config.selects(pid: config.pids.first ?? 0, name: config.categories.first ?? "")
            }
            let copy = reparse(request.encode())
            if let copy {
                let again = try? copy.withReader { (r) throws(ProtocolError) in try ControlRequest(type: copy.type, decoding: &r) }
                if let again { precondition(again == request, "request \(request) became \(again)") }
            }
        }
        let reply = try? message.withReader { (r) throws(ProtocolError) -> ControlReply? in
            try? ControlReply(type: message.type, decoding: &r)
        }
        if let reply = reply ?? nil, let copy = reparse(reply.encode()) {
            let again = try? copy.withReader { (r) throws(ProtocolError) -> ControlReply? in
                try? ControlReply(type: copy.type, decoding: &r)
            }
            if let again = again ?? nil { precondition(again == reply, "reply \(reply) became \(again)") }
        }
        // The payload as each structure alone, so the fuzzer reaches their
        // fields without first finding a message type and a session name.
        _ = try? message.withReader { (r) throws(ProtocolError) -> SessionStatus? in try? SessionStatus(decoding: &r) }
        _ = try? message.withReader { (r) throws(ProtocolError) -> SessionConfig? in try? SessionConfig(decoding: &r) }
    }

    private static func reparse(_ bytes: [UInt8]) -> MessageBuffer.Message? {
        var buffer = MessageBuffer()
        buffer.append(bytes)
        guard case .message(let message) = buffer.next(limit: Int(UInt32.max)) else { return nil }
        return message
    }
}
