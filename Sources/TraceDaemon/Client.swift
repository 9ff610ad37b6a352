import CTraceABI
import TraceFormat
import TraceProtocol
import TraceRing
import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

/// A process connected to the producer socket, and, once registered, its
/// buffer: mapped, validated, drained by `consumer`.
final class Client {
    let id: UInt64
    let socket: FileDescriptor
    /// From SO_PEERCRED: the only identity traced trusts.
    let credentials: UnixSocket.Credentials
    var incoming = MessageBuffer()
    /// Descriptors that came with the start of a message not yet complete
    /// (a hello split across reads), kept for it; at most 2.
    var heldDescriptors: [FileDescriptor] = []
    var outgoing: [UInt8] = []
    private(set) var name = ""
    /// `TRACED_SERVICE_NAME` of the process ("": none), for OTLP.
    private(set) var serviceName = ""
    private(set) var mapping: MemoryMapping?
    private(set) var consumer: BufferConsumer?
    private(set) var wake: EventNotifier?
    private(set) var clockKind = UInt32(TC_CLOCK_MONOTONIC_NS)
    private(set) var nominalTicksPerSecond: UInt64 = 0
    /// Interned names of the client, for category filters.
    private(set) var strings: [UInt32: String] = [:]
    var schedule = DrainSchedule(now: 0)
    /// Whether the last drain left `consumer_waiting` announced: the
    /// producer then signals its next completed chunk, so the timer need
    /// not hurry for this client (`Daemon.paceTimer`). When the producer
    /// signals it clears the announcement, and the drain its signal causes
    /// sets this again, in the same pass of the loop.
    var willSignal = false
    /// The control word last sent, its sequence, and the last acknowledged.
    var control = ControlWord.off
    var controlSequence: UInt64 = 0
    var acknowledged: UInt64 = 0
    /// Why the client left, once it said goodbye.
    var goodbye: Goodbye.Reason?

    /// When the connection was accepted (CLOCK_MONOTONIC ns): a hello must
    /// follow within `Daemon.helloDeadline`.
    let acceptedAt: UInt64

    init(id: UInt64, socket: FileDescriptor, credentials: UnixSocket.Credentials) {
        self.id = id
        self.socket = socket
        self.credentials = credentials
        self.acceptedAt = tc_monotonic_ns()
    }

    var isRegistered: Bool { consumer != nil }

    var processRecord: ProcessRecord {
        ProcessRecord(process: UInt32(truncatingIfNeeded: id), pid: credentials.pid, uid: credentials.uid, name: name,
                      clockKind: clockKind, nominalTicksPerSecond: nominalTicksPerSecond)
    }

    /// Checks what a hello brought and maps the buffer. Every refusal is a
    /// sentence the client logs.
    func register(_ hello: Hello, descriptors: [FileDescriptor], maxBufferSize: Int) throws(Refused) {
        guard hello.protocolVersion == ProtocolVersion.producer else {
            throw Refused(reason: "it speaks protocol \(hello.protocolVersion); this traced speaks \(ProtocolVersion.producer) (update one of them)")
        }
        guard hello.abiMajor == UInt64(TC_ABI_MAJOR) else {
            throw Refused(reason: "its buffer is ABI \(hello.abiMajor); this traced reads ABI \(TC_ABI_MAJOR) (update one of them)")
        }
        guard descriptors.count == 2 else {
            throw Refused(reason: "a hello must carry 2 descriptors (buffer, eventfd), it carried \(descriptors.count)")
        }
        let memory = descriptors[0], notifier = descriptors[1]
        let size: Int
        do {
            let seals = try SharedMemory.seals(of: memory)
            guard seals & SharedMemory.requiredSeals == SharedMemory.requiredSeals else {
                throw Refused(reason: "its buffer is not sealed against resizing (F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL)")
            }
            size = try memory.size()
        } catch let refused as Refused {
            throw refused
        } catch {
            throw Refused(reason: "its buffer is not a sealed memfd (\(error))")
        }
        guard UInt64(size) == hello.bufferSize else {
            throw Refused(reason: "its buffer is \(size) bytes, the hello said \(hello.bufferSize)")
        }
        guard size >= BufferGeometry.minimumSize else {
            throw Refused(reason: "its buffer of \(size) bytes is below the minimum of \(BufferGeometry.minimumSize)")
        }
        guard size <= maxBufferSize else {
            throw Refused(reason: "its buffer of \(size >> 20) MiB exceeds traced's limit of \(maxBufferSize >> 20) MiB (set TRACED_BUFFER_SIZE lower, or raise max_buffer_size)")
        }
        guard Self.isEventfd(notifier) else {
            throw Refused(reason: "the second descriptor is not an eventfd")
        }
        do {
            try notifier.setNonBlocking(true)
            let mapping = try MemoryMapping(descriptor: memory, size: size)
            let consumer = try BufferConsumer(mapping: mapping, attachingInUse: true)
            self.mapping = mapping
            self.consumer = consumer
            self.clockKind = consumer.geometry.clockKind
            // A client leaves the rate to the daemon (measuring it would
            // cost the client's first annotation a millisecond). The TSC is
            // one clock for the whole machine (the client uses it only when
            // the kernel found it invariant and synchronized), so traced's
            // own measurement serves every client.
            var nominal = consumer.geometry.nominalTicksPerSecond
            if nominal == 0 && clockKind == UInt32(TC_CLOCK_TSC) { nominal = Self.machineTSCRate }
            self.nominalTicksPerSecond = nominal
        } catch {
            throw Refused(reason: "its buffer was refused: \(error)")
        }
        memory.close()
        wake = EventNotifier(descriptor: notifier)
        name = ProcFiles.name(pid: credentials.pid) ?? String(hello.processName.prefix(64))
        serviceName = hello.serviceName
    }

    /// Takes new metadata (and keeps the strings, for category filters).
    func takeMetadata() -> [MetadataRecord] {
        guard let consumer else { return [] }
        let records = consumer.takeMetadata()
        for case .string(let string) in records { strings[string.id] = string.value }
        return records
    }

    /// Every metadata record taken: from the buffer while registered, kept
    /// after close (a flight recorder's window may still hold its batches).
    var metadata: [MetadataRecord] { consumer?.metadata ?? metadataAtClose }
    private var metadataAtClose: [MetadataRecord] = []

    /// Chunks and metadata records of its buffer that failed validation.
    var malformed: UInt64 {
        guard let statistics = consumer?.statistics else { return malformedAtClose }
        return UInt64(statistics.malformedChunks.saturatingAdd(statistics.invalidChunkStates)
            .saturatingAdd(statistics.malformedMetadata))
    }
    private var malformedAtClose: UInt64 = 0
    /// What of `malformed` was already logged.
    var malformedReported: UInt64 = 0

    /// Its buffer's drop counters (the last plausible reading once they
    /// were caught lying), kept after close.
    func dropCounters() -> [UInt32: UInt64] {
        guard let consumer else { return dropsAtClose }
        return consumer.dropCounters()
    }
    private var dropsAtClose: [UInt32: UInt64] = [:]

    /// Why its counts cannot be believed, if they cannot (BufferConsumer.implausible).
    var untrusted: String? { consumer == nil ? untrustedAtClose : consumer?.implausible }
    private var untrustedAtClose: String?
    /// Whether `untrusted` was logged.
    var untrustedReported = false

    /// Releases the buffer and descriptors.
    func close() {
        for descriptor in heldDescriptors { descriptor.close() }
        heldDescriptors = []
        metadataAtClose = consumer?.metadata ?? metadataAtClose
        malformedAtClose = malformed
        if consumer != nil { dropsAtClose = dropCounters() }
        untrustedAtClose = untrusted
        wake?.close()
        wake = nil
        consumer = nil
        mapping = nil
        socket.close()
    }

    /// The journal fields of messages about this client.
    var logFields: [Log.Field] { Log.client(credentials, name: name.isEmpty ? nil : name) }

    /// TSC/64 ticks per second, measured once (over 1 ms) when first needed.
    private static let machineTSCRate = ClockSampler.nominalRate(clockKind: UInt32(TC_CLOCK_TSC))

    private static func isEventfd(_ descriptor: FileDescriptor) -> Bool {
        var target = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/self/fd/\(descriptor.rawValue)", &target, target.count - 1)
        guard n > 0 else { return false }
        return String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) == "anon_inode:[eventfd]"
    }
}
