import CTraceABI
import Foundation
import TraceFormat
import TraceProtocol
import TraceRing
import TraceSystem

/// A connection to one of traced's sockets that speaks whatever bytes a
/// test gives it: the hostile or broken peer.
final class RawPeer {
    let socket: FileDescriptor

    init(_ path: String) throws {
        socket = try UnixSocket.connect(path: path)
        try socket.setNonBlocking(false)
    }

    deinit { socket.close() }

    func send(_ bytes: [UInt8], descriptors: [FileDescriptor] = []) throws {
        if descriptors.isEmpty { try socket.writeAll(bytes) } else { try UnixSocket.send(bytes, descriptors: descriptors, on: socket) }
    }

    /// What the daemon answered: the first whole message, or `nil` once it
    /// closed the connection without one. Throws if neither happens in time.
    func reply(seconds: Double = 10) throws -> Reply? {
        var buffered: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if case .message(let type, let payload, _) = Frame.parse(buffered[...], limit: Frame.controlLimit) {
                return Reply(type: MessageType(rawValue: type), payload: Array(buffered[payload]))
            }
            var ready = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) >= 0 else { continue }
            guard ready.revents != 0 else { continue }
            let received: UnixSocket.Received
            do {
                received = try UnixSocket.receive(on: socket, capacity: 65536, maxDescriptors: 0)
            } catch {
                // Reset (closed with our bytes unread): a closed connection too.
                guard error.errno == Errno(rawValue: ECONNRESET) else { throw error }
                return nil
            }
            if received.bytes.isEmpty { return nil }
            buffered += received.bytes
        }
        throw PeerTimeout()
    }

    struct Reply {
        /// Nil for a type the protocol does not define.
        var type: MessageType?
        var payload: [UInt8]
        /// A refusal's or error's text.
        var text: String { RawPeer.text(payload) }
    }

    /// A refusal's or error's text.
    static func text(_ payload: [UInt8]) -> String {
        payload.withUnsafeBytes { bytes in
            var reader = ByteReader(bytes)
            return (try? reader.string("text", limit: 4096)) ?? "<\(payload.count) bytes>"
        }
    }
}

struct PeerTimeout: Error {}

/// A process that registers a well-formed buffer and then writes garbage
/// over every chunk, the completion bitmap and the metadata area: what a
/// buggy or hostile client can do to the memory it shares.
final class GarbageBuffer {
    let peer: RawPeer
    let mapping: MemoryMapping
    let wake: EventNotifier
    let geometry: BufferGeometry

    /// Registers a buffer of `size`; with `splitAt`, the hello goes in two
    /// writes (the descriptors with the first) 50 ms apart.
    init(producerSocket path: String, size: Int = 1 << 20, splitAt: Int? = nil) throws {
        geometry = BufferGeometry.layout(totalSize: size, chunkSize: 16 << 10)
        let memory = try SharedMemory.create(name: "garbage", size: geometry.totalSize)
        defer { memory.close() }
        mapping = try MemoryMapping(descriptor: memory, size: geometry.totalSize)
        geometry.writeHeader(at: mapping.base, producerPID: getpid())
        wake = try EventNotifier.create()
        peer = try RawPeer(path)
        let hello = Hello(abiMajor: UInt64(TC_ABI_MAJOR), abiMinor: UInt64(TC_ABI_MINOR), processName: "garbage",
                          bufferSize: UInt64(geometry.totalSize))
        let message = hello.encode()
        let split = splitAt ?? message.count
        try peer.send(Array(message[..<split]), descriptors: [memory, wake.descriptor])
        if split < message.count {
            usleep(50_000)
            try peer.send(Array(message[split...]))
        }
    }

    /// Fills everything past the header with bytes from `generator` and
    /// wakes the daemon.
    func scribble<G: RandomNumberGenerator>(using generator: inout G) {
        let bytes = mapping.bytes
        var offset = Int(TC_HEADER_SIZE)
        while offset + 8 <= bytes.count {
            bytes.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        wake.signal()
    }

    /// Sets one of the buffer's drop counters, as a producer never would.
    func setDropCounter(stripe: UInt32 = 0, reason: UInt32, to value: UInt64) {
        let header = geometry.header(in: mapping.base)
        tc_store_relaxed_u64(tc_drop_counter(header, stripe, reason), value)
    }

    /// Publishes chunk `index` as COMPLETE holding `events` (encoded bytes)
    /// and claiming `claimedEvents` in its header, then flags it and wakes
    /// the daemon: a well-formed chunk but for what the count says.
    func complete(chunk index: Int, thread: UInt32 = 1, sequence: UInt32 = 0, events: [UInt8], claimedEvents: UInt32) {
        let chunk = geometry.chunk(index, in: mapping.base)
        chunk.pointee.thread_index = thread
        chunk.pointee.sequence = sequence
        chunk.pointee.base_ticks = tc_monotonic_ns()
        chunk.pointee.region_seq_base = 0
        chunk.pointee.dropped_before = 0
        chunk.pointee.event_count = claimedEvents
        events.withUnsafeBytes { UnsafeMutableRawPointer(chunk).advanced(by: Int(TC_CHUNK_HEADER_SIZE)).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        tc_chunk_committed_store_release(chunk, UInt32(events.count))
        tc_chunk_state_store_release(chunk, UInt32(TC_CHUNK_COMPLETE))
        tc_mark_completed(geometry.header(in: mapping.base), geometry.bitmap(in: mapping.base), UInt32(index))
        wake.signal()
    }
}
