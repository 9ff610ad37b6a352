package import TraceFormat

/// Message framing on both sockets (docs/protocol.md, "Framing"):
///
///     message = length:u32le type:u8 payload[length - 1]
///
/// Fields inside payloads use the file format's primitives (varints,
/// length-prefixed strings), so one codec serves both.
package enum Frame {
    /// Largest message on the producer socket (hello, control, ...).
    package static let producerLimit = 4096
    /// Largest request on the control socket (a fetch chunk is 60 KiB).
    package static let controlLimit = 64 << 10
    /// Largest reply tracectl reads: status, list and stop replies grow with
    /// every client that ever joined a session (~25 bytes each).
    package static let controlReplyLimit = 64 << 20
    /// Bytes of fetched trace per FetchData message.
    package static let fetchChunk = 60 << 10

    /// A whole message: the length prefix, the type, the payload.
    package static func encode(_ type: MessageType, _ payload: (inout ByteWriter) -> Void) -> [UInt8] {
        var body = ByteWriter(capacity: 64)
        body.byte(type.rawValue)
        payload(&body)
        let length = UInt32(body.count)
        var out = [UInt8]()
        out.reserveCapacity(4 + body.count)
        out.append(UInt8(truncatingIfNeeded: length))
        out.append(UInt8(truncatingIfNeeded: length >> 8))
        out.append(UInt8(truncatingIfNeeded: length >> 16))
        out.append(UInt8(truncatingIfNeeded: length >> 24))
        out.append(contentsOf: body.bytes)
        return out
    }

    /// What the start of `bytes` holds.
    package enum Parsed: Equatable {
        /// Not a whole message yet.
        case incomplete
        /// A message of `type` whose payload is bytes[payload], `consumed` in all.
        case message(type: UInt8, payload: Range<Int>, consumed: Int)
        /// The length is 0 or over `limit`: the peer is not speaking the protocol.
        case invalid(length: UInt32)
    }

    package static func parse(_ bytes: ArraySlice<UInt8>, limit: Int) -> Parsed {
        guard bytes.count >= 4 else { return .incomplete }
        let start = bytes.startIndex
        let length = UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16
            | UInt32(bytes[start + 3]) << 24
        guard length >= 1, length <= UInt32(limit) else { return .invalid(length: length) }
        guard bytes.count >= 4 + Int(length) else { return .incomplete }
        return .message(type: bytes[start + 4], payload: (start + 5)..<(start + 4 + Int(length)), consumed: 4 + Int(length))
    }
}

/// Every message type of both sockets. Numbers are never reused.
package enum MessageType: UInt8, Sendable {
    // Producer socket
    case hello = 0x01
    case welcome = 0x02
    case refused = 0x03
    case control = 0x04
    case controlAck = 0x05
    case goodbye = 0x06
    // Control socket: requests
    case controlHello = 0x10
    case start = 0x11
    case stop = 0x12
    case list = 0x13
    case status = 0x14
    case fetch = 0x15
    case listSnapshots = 0x16
    case fetchSnapshot = 0x17
    case takeSnapshot = 0x18
    case watch = 0x19
    // Control socket: replies
    case started = 0x20
    case error = 0x21
    case sessions = 0x22
    case statusReport = 0x23
    case fetchData = 0x24
    case fetchEnd = 0x25
    case stopped = 0x26
    case snapshots = 0x27
    case snapshotTaken = 0x28
    case liveData = 0x29
    case liveLost = 0x2A
    case liveStatus = 0x2B
}

/// The protocol version both sockets speak (docs/protocol.md, "Versions").
package enum ProtocolVersion {
    /// The producer socket's (Hello): what services linked with TraceClient
    /// speak, so it changes only when they must be rebuilt.
    package static let producer: UInt64 = 1
    /// The control socket's (ControlHello): tracectl and traced ship together.
    /// 2: SessionStatus carries a write failure and untrusted clients.
    /// 3: SessionConfig and SessionStatus carry OTLP.
    /// 4: SessionConfig carries snapshot triggers; snapshots are listed,
    /// fetched and taken.
    /// 5: a running session is watched (`watch`: live trace bytes, losses,
    /// a status each second); a client's status carries its buffer's use.
    package static let control: UInt64 = 5
}

/// The release of traced, tracectl and TraceClient.
package enum Version {
    package static let current = "0.1.0"
}
