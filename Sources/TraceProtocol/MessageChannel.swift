package import TraceFormat
package import TraceSystem

/// Blocking message I/O on one socket, for the ends that own a thread (a
/// client's connection thread, tracectl). The daemon uses `MessageBuffer`
/// with non-blocking sockets instead.
package final class MessageChannel {
    package let socket: FileDescriptor
    private var buffer = MessageBuffer()
    private let limit: Int

    package init(socket: FileDescriptor, limit: Int) {
        self.socket = socket
        self.limit = limit
    }

    package func close() { socket.close() }

    package func send(_ bytes: [UInt8], descriptors: [FileDescriptor] = []) throws(SystemError) {
        if descriptors.isEmpty {
            try UnixSocket.sendAll(bytes, on: socket)
        } else {
            try UnixSocket.send(bytes, descriptors: descriptors, on: socket)
        }
    }

    /// Whether `receive` would return without reading the socket.
    package var holdsMessage: Bool { buffer.holdsWhole(limit: limit) }

    /// One message; nil when the peer closed the connection.
    package func receive() throws(ChannelError) -> MessageBuffer.Message? {
        while true {
            switch buffer.next(limit: limit) {
            case .message(let message): return message
            case .invalid(let length): throw .protocolViolation("message of \(length) bytes (limit \(limit))")
            case .incomplete: break
            }
            let received: UnixSocket.Received
            do {
                received = try UnixSocket.receive(on: socket, capacity: 64 << 10, maxDescriptors: 2)
            } catch {
                throw .system(error)
            }
            // Descriptors are not expected on these ends: never keep them.
            for descriptor in received.descriptors { descriptor.close() }
            if received.bytes.isEmpty { return nil }
            buffer.append(received.bytes)
        }
    }
}

/// Why a channel stopped.
package enum ChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(SystemError)
    case protocolViolation(String)

    package var description: String {
        switch self {
        case .system(let error): "\(error)"
        case .protocolViolation(let what): "protocol violation: \(what)"
        }
    }
}

/// Bytes received on a stream socket, cut into messages.
package struct MessageBuffer {
    package struct Message {
        package var type: UInt8
        package var payload: [UInt8]

        /// Decodes the payload as a `T`.
        package func decode<T: WireDecodable>(_ type: T.Type) throws(DecodeError) -> T {
            try payload.withUnsafeBufferPointer { (raw) throws(DecodeError) -> T in
                var reader = ByteReader(UnsafeRawBufferPointer(raw))
                return try T(decoding: &reader)
            }
        }

        /// Runs `body` on a reader over the payload.
        package func withReader<T>(_ body: (inout ByteReader) throws(ProtocolError) -> T) throws(ProtocolError) -> T {
            try payload.withUnsafeBufferPointer { (raw) throws(ProtocolError) -> T in
                var reader = ByteReader(UnsafeRawBufferPointer(raw))
                return try body(&reader)
            }
        }
    }

    package enum Next {
        case message(Message)
        case incomplete
        case invalid(length: UInt32)
    }

    private var bytes: [UInt8] = []
    private var start = 0

    package init() {}

    package var pendingBytes: Int { bytes.count - start }

    /// Whether a whole message (or an invalid length) waits: `next` would
    /// not need more bytes.
    package func holdsWhole(limit: Int) -> Bool {
        if case .incomplete = Frame.parse(bytes[start...], limit: limit) { return false }
        return true
    }

    package mutating func append(_ data: [UInt8]) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: data)
    }

    package mutating func append(_ data: UnsafeRawBufferPointer) {
        append(Array(data))
    }

    package mutating func next(limit: Int) -> Next {
        switch Frame.parse(bytes[start...], limit: limit) {
        case .incomplete:
            if start > 4096 && start * 2 > bytes.count {
                bytes.removeFirst(start)
                start = 0
            }
            return .incomplete
        case .invalid(let length):
            return .invalid(length: length)
        case .message(let type, let payload, let consumed):
            let message = Message(type: type, payload: Array(bytes[payload]))
            start += consumed
            return .message(message)
        }
    }
}

/// A message payload that decodes from bytes.
package protocol WireDecodable {
    init(decoding r: inout ByteReader) throws(DecodeError)
}

extension Hello: WireDecodable {}
extension Welcome: WireDecodable {}
extension Refused: WireDecodable {}
extension Control: WireDecodable {}
extension ControlAck: WireDecodable {}
extension Goodbye: WireDecodable {}
extension ControlHello: WireDecodable {}
