import TraceFormat
import TraceProtocol

/// The producer socket's decoders, as the daemon and a client run them on
/// bytes a peer sent: `MessageBuffer` cuts the stream into frames (the
/// input arrives in pieces whose sizes the input chooses), and each
/// message's payload is decoded as every producer message type. What
/// decodes must re-encode to bytes that decode to the same value.
enum ProducerMessagesTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        input.messages(limits: (Frame.producerLimit, Frame.controlLimit), piece: 6000, decode)
    }

    static func decode(_ message: MessageBuffer.Message) {
        roundTrip(message, Hello.self) { $0.encode() }
        roundTrip(message, Welcome.self) { $0.encode() }
        roundTrip(message, Refused.self) { $0.encode() }
        roundTrip(message, Control.self) { $0.encode() }
        roundTrip(message, ControlAck.self) { $0.encode() }
        roundTrip(message, Goodbye.self) { $0.encode() }
    }

    /// Decodes `message` as `T`; if it decodes, so must its encoding, to
    /// the same value (a string that is not UTF-8 may grow past its limit
    /// when re-encoded, so only a re-decode that succeeds is compared).
    static func roundTrip<T: WireDecodable & Equatable>(
        _ message: MessageBuffer.Message, _ type: T.Type, encode: (T) -> [UInt8]
    ) {
        guard let value = try? message.decode(T.self) else { return }
        var again = MessageBuffer()
        again.append(encode(value))
        guard case .message(let copy) = again.next(limit: Frame.controlReplyLimit),
              let decoded = try? copy.decode(T.self) else { return }
        precondition(decoded == value, "\(T.self) does not survive encode/decode: \(value) became \(decoded)")
    }
}
