import CTraceABI
import TraceFormat
import TraceProtocol
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// The producer socket: registration, control words, draining, departures.
extension Daemon {
    func acceptProducers() {
        guard let listener = producerListener else { return }
        while let socket = try? UnixSocket.accept(listener) {
            guard !shuttingDown, let credentials = try? UnixSocket.peer(socket) else {
                socket.close()
                continue
            }
            // Connections that have not said hello yet are few per user: one
            // user's idle connections cannot use up traced's descriptors.
            let waiting = clients.values.filter { !$0.isRegistered && $0.credentials.uid == credentials.uid }.count
            guard waiting < Self.helloBacklogPerUser else {
                limited.write(.producerConnections, .notice,
                              "uid \(credentials.uid) has \(waiting) producer connections without a hello; closing pid \(credentials.pid)'s",
                              fields: Log.client(credentials), now: tc_monotonic_ns())
                socket.close()
                continue
            }
            let id = nextIdentifier()
            let client = Client(id: id, socket: socket, credentials: credentials)
            do {
                try epoll.add(socket, [.readable, .hangUp], token: Self.clientSocket | id)
            } catch {
                log.warning("cannot watch a new client (pid \(credentials.pid)): \(error), closing it")
                socket.close()
                continue
            }
            clients[id] = client
        }
    }

    func readProducer(_ client: Client) {
        while clients[client.id] != nil {
            let received: UnixSocket.Received
            do {
                received = try UnixSocket.receive(on: client.socket, capacity: Frame.producerLimit, maxDescriptors: 2)
            } catch where error.errno == .wouldBlock {
                return
            } catch {
                finish(client, reason: .disconnected)
                return
            }
            if received.bytes.isEmpty {
                for descriptor in received.descriptors { descriptor.close() }
                finish(client, reason: client.goodbye == nil ? .disconnected : (client.goodbye == .exiting ? .exited : .tracingStopped))
                return
            }
            client.incoming.append(received.bytes)
            var descriptors = client.heldDescriptors + received.descriptors
            client.heldDescriptors = []
            defer { for descriptor in descriptors { descriptor.close() } }
            while clients[client.id] != nil {
                switch client.incoming.next(limit: Frame.producerLimit) {
                case .incomplete:
                    // Descriptors arrive with the first byte of the message
                    // they belong to: keep them for its end.
                    if client.incoming.pendingBytes > 0 {
                        client.heldDescriptors = Array(descriptors.prefix(2))
                        descriptors.removeFirst(client.heldDescriptors.count)
                    }
                case .invalid(let length):
                    protocolViolation(client, "a message of \(length) bytes")
                    return
                case .message(let message):
                    handle(message, from: client, descriptors: &descriptors)
                    continue
                }
                break
            }
        }
    }

    private func handle(_ message: MessageBuffer.Message, from client: Client, descriptors: inout [FileDescriptor]) {
        do throws(DecodeError) {
            switch MessageType(rawValue: message.type) {
            case .hello where !client.isRegistered:
                let hello = try message.decode(Hello.self)
                let passed = descriptors
                descriptors = []
                register(client, hello, passed)
            case .controlAck where client.isRegistered:
                // An ack of a word never sent confirms nothing.
                let sequence = try message.decode(ControlAck.self).sequence
                if sequence <= client.controlSequence { client.acknowledged = max(client.acknowledged, sequence) }
            case .goodbye where client.isRegistered:
                client.goodbye = try message.decode(Goodbye.self).reason
                finish(client, reason: client.goodbye == .exiting ? .exited : .tracingStopped)
            default:
                protocolViolation(client, "message type 0x\(String(message.type, radix: 16)) out of place")
            }
        } catch {
            protocolViolation(client, "a malformed message (\(error))")
        }
    }

    private func register(_ client: Client, _ hello: Hello, _ descriptors: [FileDescriptor]) {
        let fromSameUser = clients.values.filter { $0.isRegistered && $0.credentials.uid == client.credentials.uid }.count
        let registered = clients.values.filter(\.isRegistered).count
        do throws(Refused) {
            guard registered < configuration.maxClients else {
                throw Refused(reason: "traced serves its limit of \(configuration.maxClients) clients (max_clients)")
            }
            guard fromSameUser < configuration.maxClientsPerUser else {
                throw Refused(reason: "user \(client.credentials.uid) has \(fromSameUser) traced clients, the limit (max_clients_per_user)")
            }
            try client.register(hello, descriptors: descriptors, maxBufferSize: configuration.maxBufferSize)
        } catch {
            for descriptor in descriptors { descriptor.close() }
            limited.write(.producerRefused, .notice, "refused pid \(client.credentials.pid) (\(hello.processName)): \(error.reason)",
                          fields: Log.client(client.credentials, name: hello.processName), now: tc_monotonic_ns())
            send(error.encode(), to: client)
            finish(client, reason: .disconnected, quietly: true)
            return
        }
        if let wake = client.wake {
            do {
                try epoll.add(wake.descriptor, .readable, token: Self.clientWake | client.id)
            } catch {
                log.warning("cannot watch the eventfd of pid \(client.credentials.pid): \(error); draining it on the timer only")
            }
        }
        client.schedule = DrainSchedule(now: tc_monotonic_ns())
        for name in sessionOrder {
            guard let session = sessions[name], session.isRunning, selects(session, client) else { continue }
            session.join(client)
        }
        routeExecution()
        let word = controlWord(for: client)
        client.control = word
        client.controlSequence += 1
        send(Welcome(clientID: client.id, control: word, sequence: client.controlSequence).encode(), to: client)
        limited.write(.clients, .info,
                      "registered pid \(client.credentials.pid) (\(client.name), uid \(client.credentials.uid)), buffer of \((client.consumer?.geometry.totalSize ?? 0) >> 10) KiB",
                      fields: client.logFields, now: tc_monotonic_ns())
        updateStatus()
    }

    /// Closes producer connections that did not say hello in time.
    func closeSilentProducers(now: UInt64) {
        for client in clients.values where !client.isRegistered && now.saturatingSubtract(client.acceptedAt) > Self.helloDeadline {
            limited.write(.producerConnections, .notice,
                          "pid \(client.credentials.pid) connected to the producer socket but sent no hello within \(Self.helloDeadline / 1_000_000_000) s; closing its connection",
                          fields: client.logFields, now: now)
            finish(client, reason: .disconnected, quietly: true)
        }
    }

    private func protocolViolation(_ client: Client, _ what: String) {
        limited.write(.producerViolation, .warning, "pid \(client.credentials.pid) sent \(what) on the producer socket; closing its connection",
                      fields: client.logFields, now: tc_monotonic_ns())
        finish(client, reason: .disconnected)
    }

    /// Queues `bytes` for `client` and writes what the socket takes.
    func send(_ bytes: [UInt8], to client: Client) {
        client.outgoing.append(contentsOf: bytes)
        writeProducer(client)
    }

    func writeProducer(_ client: Client) {
        while !client.outgoing.isEmpty {
            // A peer that is gone is seen by the read side (closed, hang-up).
            let sent = try? client.outgoing.withUnsafeBytes { (bytes) throws(SystemError) in
                try UnixSocket.sendSome(bytes, on: client.socket)
            }
            guard let n = sent ?? nil, n > 0 else { break }
            client.outgoing.removeFirst(n)
        }
        let interest: Epoll.Interest = client.outgoing.isEmpty ? [.readable, .hangUp] : [.readable, .hangUp, .writable]
        try? epoll.modify(client.socket, interest, token: Self.clientSocket | client.id)
    }

    // MARK: Control words

    /// What `client` should be doing: tracing if a running session includes
    /// it, with stacks if one of them asks.
    func controlWord(for client: Client) -> ControlWord {
        var word = ControlWord.off
        for session in sessions.values where session.isRunning && session.includes(client) {
            word.enabled = true
            word.stacks = word.stacks || session.config.stacks
        }
        return word
    }

    /// Sends `client` its control word if it changed; returns the sequence
    /// to wait for, or nil if nothing was sent.
    @discardableResult
    func updateControl(_ client: Client) -> UInt64? {
        guard client.isRegistered else { return nil }
        let word = controlWord(for: client)
        guard word != client.control else { return nil }
        client.control = word
        client.controlSequence += 1
        send(Control(sequence: client.controlSequence, control: word).encode(), to: client)
        return client.controlSequence
    }

    // MARK: Draining

    /// Takes what `client` committed into every session that includes it.
    func drain(_ client: Client, scrape: Bool) {
        guard let consumer = client.consumer else { return }
        let into = sessionOrder.compactMap { sessions[$0] }.filter { $0.state != .stopped && $0.includes(client) }
        guard !into.isEmpty else {
            // Not drained, so not known: a session that takes it in hurries
            // the timer until its first drain says (`paceTimer`).
            client.willSignal = false
            return
        }
        let metadata = client.takeMetadata()
        for session in into { session.write(metadata: metadata, from: client) }
        let freed = consumer.drain(process: UInt32(truncatingIfNeeded: client.id), scrape: scrape) { header, events, count in
            write(batch: header, events: events, count: count, of: client, into: into)
        }
        reportMalformed(client)
        let now = tc_monotonic_ns()
        let sleep = client.schedule.sleep(now: now, freed: freed, chunkCount: consumer.geometry.chunkCount)
        // Work that arrived as it was about to sleep withdraws the
        // announcement: the client stays on the timer, whose next tick
        // (at most drain_interval away) takes it.
        if sleep.announce {
            client.willSignal = consumer.prepareToSleep()
        } else {
            consumer.awake()
            client.willSignal = false
        }
    }

    /// A buffer whose contents fail validation is a broken or hostile
    /// client: what failed is dropped and counted (status shows it), and
    /// logged when it first happens and each time the count doubles.
    private func reportMalformed(_ client: Client) {
        if let untrusted = client.untrusted, !client.untrustedReported {
            client.untrustedReported = true
            limited.write(.producerViolation, .warning,
                          "pid \(client.credentials.pid) (\(client.name)): its counts cannot be believed (\(untrusted)); status marks it untrusted and keeps its last plausible drop counts",
                          fields: client.logFields, now: tc_monotonic_ns())
        }
        let malformed = client.malformed
        guard malformed > 0, malformed >= client.malformedReported.saturatingMultiply(2) else { return }
        client.malformedReported = malformed
        limited.write(.producerViolation, .warning,
                      "pid \(client.credentials.pid) (\(client.name)): \(malformed) chunk(s) or metadata record(s) of its buffer failed validation and were dropped; the process is writing outside the trace ABI",
                      fields: client.logFields, now: tc_monotonic_ns())
    }

    /// Everything left of `client` goes to its sessions: events committed
    /// (also in chunks it was writing), and those held back for ordering.
    func drainCompletely(_ client: Client) {
        drain(client, scrape: true)
        drain(client, scrape: true)
        guard let consumer = client.consumer else { return }
        let into = sessionOrder.compactMap { sessions[$0] }.filter { $0.state != .stopped && $0.includes(client) }
        consumer.flushHeld { header, events, count in
            write(batch: header, events: events, count: count, of: client, into: into)
        }
    }

    /// Writes one of `client`'s batches to `sessions`, after the metadata
    /// it committed since the last take. A string record is committed
    /// before the first event that uses it, so what the batch's events name
    /// is taken by now and goes into the files first: a reader in one pass
    /// (a live view) knows every name when its event comes, and a session's
    /// category filter and OTLP path find every string the batch names in
    /// `client.strings` (an id not there is none of the client's). (Taken
    /// only once a drain began, a string interned during the drain followed
    /// the batch that used it.) One acquire load a batch when nothing is new.
    private func write(batch header: BatchHeader, events: UnsafeRawBufferPointer, count: Int, of client: Client,
                       into sessions: [Session]) {
        let metadata = client.takeMetadata()
        if !metadata.isEmpty { for session in sessions { session.write(metadata: metadata, from: client) } }
        for session in sessions {
            session.write(batch: header, events: events, count: count, from: client) { client.strings[$0] }
        }
    }

    /// A client leaves: its committed events are taken, its sessions note
    /// its end, its buffer is unmapped.
    func finish(_ client: Client, reason: ProcessEnd.Reason, quietly: Bool = false) {
        guard clients[client.id] != nil else { return }
        if client.isRegistered {
            drainCompletely(client)
            // Its threads' kernel events up to now, before it leaves.
            kernel.drain(everything: true)
            for session in sessions.values where session.includes(client) {
                session.leave(client, reason: reason)
                session.pendingAcks[client.id] = nil
            }
            if !quietly {
                let how = reason == .disconnected ? "disconnected" : (reason == .exited ? "exited" : "left to trace itself")
                limited.write(.clients, .info, "pid \(client.credentials.pid) (\(client.name)) \(how)", fields: client.logFields, now: tc_monotonic_ns())
            }
        }
        if !client.outgoing.isEmpty { writeProducer(client) }
        epoll.remove(client.socket)
        if let wake = client.wake { epoll.remove(wake.descriptor) }
        clients[client.id] = nil
        client.close()
        routeExecution()
        updateStatus()
    }
}
