import ArgumentParser
import TraceFormat
import TraceProtocol
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses (docs/design.md, "tracectl").
enum Exit {
    static let failure: Int32 = 1
    static let noSuchSession: Int32 = 3
    static let refused: Int32 = 4
    static let daemonNotRunning: Int32 = 69
    static let permissionDenied: Int32 = 77
}

/// A tracectl failure: a sentence on stderr and an exit status.
struct Failure: Error, CustomStringConvertible {
    var description: String
    var status: Int32

    init(_ description: String, status: Int32 = Exit.failure) {
        self.description = description
        self.status = status
    }

    /// Prints the sentence and exits with the status.
    func exit() -> Never {
        try? FileDescriptor.standardError.writeAll(Array("tracectl: \(description)\n".utf8))
        Glibc.exit(status)
    }
}

/// `--runtime-dir`, shared by the commands that talk to traced.
struct DaemonOptions: ParsableArguments {
    @Option(help: "Directory of traced's sockets (default: $TRACED_RUNTIME_DIR; as root /run/traced; otherwise $XDG_RUNTIME_DIR/traced (or /tmp/traced-UID) if your own traced runs there, else /run/traced).")
    var runtimeDir: String?

    var paths: RuntimePaths { RuntimePaths.connecting(explicit: runtimeDir, socket: \.controlSocket) }
}

/// One request to traced over its control socket.
struct DaemonLink {
    let channel: MessageChannel
    let path: String

    /// Connects and says hello; failures say what to do.
    static func connect(_ options: DaemonOptions) -> DaemonLink {
        let path: String
        let socket: FileDescriptor
        do {
            (socket, path) = try RuntimePaths.connect(explicit: options.runtimeDir, socket: \.controlSocket)
        } catch {
            let path = error.subject ?? options.paths.controlSocket
            switch error.errno {
            case .notFound, .connectionRefused:
                Failure("traced is not running: nothing listens on '\(path)' (start it with `systemctl start traced`, or run `traced` as yourself)",
                        status: Exit.daemonNotRunning).exit()
            case .permissionDenied:
                Failure("permission denied on '\(path)': join the group allowed to trace (`sudo usermod -aG tracing $USER`, then log in again)",
                        status: Exit.permissionDenied).exit()
            default:
                Failure("cannot connect to traced at '\(path)': \(error)", status: Exit.daemonNotRunning).exit()
            }
        }
        let link = DaemonLink(channel: MessageChannel(socket: socket, limit: Frame.controlReplyLimit), path: path)
        link.send(ControlHello().encode())
        return link
    }

    func send(_ bytes: [UInt8]) {
        do {
            try channel.send(bytes)
        } catch {
            // traced may have said why before it closed (a limit reached).
            if let message = try? channel.receive(), message.type == MessageType.error.rawValue {
                _ = reply(to: message)
            }
            Failure("traced at '\(path)' closed the connection: \(error)").exit()
        }
    }

    /// The next reply; an error reply exits with its status.
    func receive() -> ControlReply {
        let message: MessageBuffer.Message?
        do {
            message = try channel.receive()
        } catch {
            Failure("talking to traced at '\(path)' failed: \(error)").exit()
        }
        guard let message else { Failure("traced at '\(path)' closed the connection without replying").exit() }
        return reply(to: message)
    }

    /// The reply `message` holds; an error reply exits with its status.
    private func reply(to message: MessageBuffer.Message) -> ControlReply {
        let reply: ControlReply
        do {
            reply = try message.withReader { (reader) throws(ProtocolError) in
                do throws(DecodeError) {
                    return try ControlReply(type: message.type, decoding: &reader)
                } catch {
                    throw ProtocolError.failed("traced sent a reply this tracectl cannot read (\(error)): are both the same version?")
                }
            }
        } catch {
            Failure("\(error)").exit()
        }
        if case .error(let error) = reply { Self.fail(error) }
        return reply
    }

    static func fail(_ error: ProtocolError) -> Never {
        switch error {
        case .unknownSession: Failure("\(error)", status: Exit.noSuchSession).exit()
        case .permissionDenied: Failure("\(error)", status: Exit.permissionDenied).exit()
        case .sessionExists, .limitReached, .invalidRequest: Failure("\(error)", status: Exit.refused).exit()
        default: Failure("\(error)").exit()
        }
    }

    /// One request, one reply.
    static func request(_ request: ControlRequest, _ options: DaemonOptions) -> ControlReply {
        let link = connect(options)
        defer { link.channel.close() }
        link.send(request.encode())
        return link.receive()
    }
}
