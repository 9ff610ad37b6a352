package import TraceFormat

// Messages on the producer socket (docs/protocol.md, "Producer socket").

/// Client -> daemon, first message, with the buffer's memfd and eventfd
/// attached (SCM_RIGHTS). The daemon learns pid and uid from the socket.
package struct Hello: Equatable, Sendable {
    package var protocolVersion: UInt64 = ProtocolVersion.producer
    package var abiMajor: UInt64
    package var abiMinor: UInt64
    package var processName: String
    package var bufferSize: UInt64
    /// `TRACED_SERVICE_NAME`: the OTLP `service.name` of the process's spans
    /// ("": its name). Appended later: an older client sends none.
    package var serviceName = ""

    package init(abiMajor: UInt64, abiMinor: UInt64, processName: String, bufferSize: UInt64) {
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.processName = processName
        self.bufferSize = bufferSize
    }

    package func encode() -> [UInt8] {
        Frame.encode(.hello) { w in
            w.varint(protocolVersion)
            w.varint(abiMajor)
            w.varint(abiMinor)
            w.string(processName)
            w.varint(bufferSize)
            w.string(serviceName)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        protocolVersion = try r.varint("protocol version")
        abiMajor = try r.varint("abi major")
        abiMinor = try r.varint("abi minor")
        processName = try r.string("process name", limit: 256)
        bufferSize = try r.varint("buffer size")
        if !r.isAtEnd { serviceName = try r.string("service name", limit: 256) }
    }
}

/// The bits a daemon sets in a client's control word (TC_CONTROL_*).
package struct ControlWord: Equatable, Sendable {
    package var enabled: Bool
    package var stacks: Bool

    package init(enabled: Bool, stacks: Bool) {
        self.enabled = enabled
        self.stacks = stacks
    }

    package static let off = ControlWord(enabled: false, stacks: false)

    package var raw: UInt64 { (enabled ? 1 : 0) | (stacks ? 2 : 0) }
    package init(raw: UInt64) {
        enabled = raw & 1 != 0
        stacks = raw & 2 != 0
    }
}

/// Daemon -> client: registered.
package struct Welcome: Equatable, Sendable {
    package var clientID: UInt64
    package var control: ControlWord
    package var sequence: UInt64

    package init(clientID: UInt64, control: ControlWord, sequence: UInt64) {
        self.clientID = clientID
        self.control = control
        self.sequence = sequence
    }

    package func encode() -> [UInt8] {
        Frame.encode(.welcome) { w in
            w.varint(clientID)
            w.varint(control.raw)
            w.varint(sequence)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        clientID = try r.varint("client id")
        control = ControlWord(raw: try r.varint("control"))
        sequence = try r.varint("sequence")
    }
}

/// Daemon -> client: not registered, and why (the client logs it once).
package struct Refused: Equatable, Sendable, Error {
    package var reason: String

    package init(reason: String) { self.reason = reason }

    package func encode() -> [UInt8] { Frame.encode(.refused) { $0.string(reason) } }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        reason = try r.string("reason", limit: 1024)
    }
}

/// Daemon -> client: set the control word. Sequence numbers increase; the
/// client answers each with a ControlAck once it applies (when turning
/// tracing off: once no event is in flight).
package struct Control: Equatable, Sendable {
    package var sequence: UInt64
    package var control: ControlWord

    package init(sequence: UInt64, control: ControlWord) {
        self.sequence = sequence
        self.control = control
    }

    package func encode() -> [UInt8] {
        Frame.encode(.control) { w in
            w.varint(sequence)
            w.varint(control.raw)
        }
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        sequence = try r.varint("sequence")
        control = ControlWord(raw: try r.varint("control"))
    }
}

/// Client -> daemon: the control word of `sequence` is in effect.
package struct ControlAck: Equatable, Sendable {
    package var sequence: UInt64

    package init(sequence: UInt64) { self.sequence = sequence }

    package func encode() -> [UInt8] { Frame.encode(.controlAck) { $0.varint(sequence) } }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        sequence = try r.varint("sequence")
    }
}

/// Client -> daemon: the client leaves (it exits, or it starts tracing
/// itself into a file). Tracing is off and no event is in flight.
package struct Goodbye: Equatable, Sendable {
    package enum Reason: UInt64, Sendable {
        case exiting = 0
        case tracingInProcess = 1
    }

    package var reason: Reason

    package init(reason: Reason) { self.reason = reason }

    package func encode() -> [UInt8] { Frame.encode(.goodbye) { $0.varint(reason.rawValue) } }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        reason = Reason(rawValue: try r.varint("goodbye reason")) ?? .exiting
    }
}
