package import TraceFormat

/// A frame of a CPU sample's stack, as the Perfetto export interns it.
package struct ProfileFrame {
    package var function: String
    /// The image the address fell in, nil for none recorded.
    package var image: ImageRecord?
    /// The address's offset in its image (link-time), or the address.
    package var relativePC: UInt64

    package init(function: String, image: ImageRecord?, relativePC: UInt64) {
        self.function = function
        self.image = image
        self.relativePC = relativePC
    }
}

/// CPU samples of a Perfetto export as `PerfSample` packets, Linux perf's
/// own kind, which trace_processor puts in `perf_sample` (time, thread, CPU,
/// callsite) and the Perfetto UI draws as a process's "Perf samples" track
/// with a flame graph. (`StreamingProfilePacket`, Chrome's kind, counts
/// time in microseconds, has no CPU, and names its thread by a descriptor
/// on its own sequence.)
///
/// A sample's stack is interned on the sequence the first time a packet
/// uses it, with what it needs that no packet defined yet: its callstack
/// (frames outermost first, as `Callstack` wants them), each frame (its
/// mapping, its offset in the image as `rel_pc`, and its function's name as
/// the symbolizer gave it, or "image+0xoffset"), each image as a mapping
/// of its process (the text segment's addresses, path and build id), and
/// the strings. Frames outside every recorded image go in one mapping with
/// no path, their address as `rel_pc`.
///
/// trace_processor also makes a counter track per CPU ("cpu-clock", the
/// sampling event it assumes) of the samples' `timebase_count`, which
/// traced does not record: it reads 0.
final class PerfettoSamples {
    typealias F = PerfettoSchema

    private struct FrameKey: Hashable {
        var mapping: UInt64
        var relativePC: UInt64
    }

    private struct MappingKey: Hashable {
        var process: UInt32
        /// The image's path, nil for addresses outside every image.
        var path: String?
    }

    private let packets: PerfettoPacketWriter
    /// A process's stack, innermost frame first (nil: unknown).
    private let stack: (UInt32, UInt32) -> [ProfileFrame]?
    private var callstacks: [UInt64: UInt64] = [:]
    private var frames: [FrameKey: UInt64] = [:]
    private var mappings: [MappingKey: UInt64] = [:]
    private var functionNames: [String: UInt64] = [:]
    private var buildIDs: [[UInt8]: UInt64] = [:]
    private var mappingPaths: [String: UInt64] = [:]
    /// Interned entries the next packet defines, by `InternedData` field.
    private var pending: [(field: UInt32, body: [UInt8])] = []

    init(packets: PerfettoPacketWriter, stack: @escaping (UInt32, UInt32) -> [ProfileFrame]?) {
        self.packets = packets
        self.stack = stack
    }

    /// A sample of thread `tid` of process `pid` (the trace's `process`)
    /// on `cpu`, with the process's stack `stack` (0: none).
    func sample(time: Int64, cpu: UInt32, process: UInt32, pid: Int32, tid: Int32, stack id: UInt32) throws {
        let callstack = id == 0 ? nil : callstackIID(process, id)
        let output = packets.output
        let packet = output.begin(F.Trace.packet)
        output.varint(F.TracePacket.timestamp, UInt64(clamping: time))
        output.varint(F.TracePacket.trustedPacketSequenceID, packets.sequence)
        output.varint(F.TracePacket.sequenceFlags, F.TracePacket.sequenceNeedsIncrementalState)
        if !pending.isEmpty {
            let data = output.begin(F.TracePacket.internedData)
            for entry in pending { output.bytes(entry.field, entry.body) }
            output.end(data)
            pending.removeAll(keepingCapacity: true)
        }
        let sample = output.begin(F.TracePacket.perfSample)
        output.varint(F.PerfSample.cpu, UInt64(cpu))
        output.varint(F.PerfSample.pid, UInt64(UInt32(bitPattern: pid)))
        output.varint(F.PerfSample.tid, UInt64(UInt32(bitPattern: tid)))
        if let callstack { output.varint(F.PerfSample.callstackIID, callstack) }
        output.varint(F.PerfSample.cpuMode, F.PerfSample.modeUser)
        output.end(sample)
        output.end(packet)
        try output.boundary()
    }

    // MARK: Interning

    /// The callstack of `process`'s stack `id`, interned with what it
    /// needs; nil for a stack the trace does not define or an empty one.
    private func callstackIID(_ process: UInt32, _ id: UInt32) -> UInt64? {
        let key = UInt64(process) << 32 | UInt64(id)
        if let known = callstacks[key] { return known == 0 ? nil : known }
        guard let stack = stack(process, id), !stack.isEmpty else {
            callstacks[key] = 0
            return nil
        }
        var body = ProtobufMessage()
        let iid = UInt64(callstacks.count) + 1
        body.varint(F.Callstack.iid, iid)
        for frame in stack.reversed() { body.varint(F.Callstack.frameIDs, frameIID(process, frame)) }
        pending.append((F.InternedData.callstacks, body.bytes))
        callstacks[key] = iid
        return iid
    }

    private func frameIID(_ process: UInt32, _ frame: ProfileFrame) -> UInt64 {
        let key = FrameKey(mapping: mappingIID(process, frame.image), relativePC: frame.relativePC)
        if let known = frames[key] { return known }
        let iid = UInt64(frames.count) + 1
        frames[key] = iid
        var body = ProtobufMessage()
        body.varint(F.Frame.iid, iid)
        body.varint(F.Frame.functionNameID, stringIID(frame.function, in: &functionNames, F.InternedData.functionNames))
        body.varint(F.Frame.mappingID, key.mapping)
        body.varint(F.Frame.relPC, frame.relativePC)
        pending.append((F.InternedData.frames, body.bytes))
        return iid
    }

    private func mappingIID(_ process: UInt32, _ image: ImageRecord?) -> UInt64 {
        let key = MappingKey(process: process, path: image?.path)
        if let known = mappings[key] { return known }
        let iid = UInt64(mappings.count) + 1
        mappings[key] = iid
        var body = ProtobufMessage()
        body.varint(F.Mapping.iid, iid)
        if let image {
            if !image.buildID.isEmpty {
                body.varint(F.Mapping.buildID, bytesIID(image.buildID))
            }
            body.varint(F.Mapping.start, image.bias &+ image.textLow)
            body.varint(F.Mapping.end, image.bias &+ image.textHigh)
            body.varint(F.Mapping.pathStringIDs, stringIID(image.path, in: &mappingPaths, F.InternedData.mappingPaths))
        }
        pending.append((F.InternedData.mappings, body.bytes))
        return iid
    }

    private func stringIID(_ text: String, in table: inout [String: UInt64], _ field: UInt32) -> UInt64 {
        if let known = table[text] { return known }
        let iid = UInt64(table.count) + 1
        table[text] = iid
        pending.append((field, Self.internedString(iid, Array(text.utf8))))
        return iid
    }

    private func bytesIID(_ bytes: [UInt8]) -> UInt64 {
        if let known = buildIDs[bytes] { return known }
        let iid = UInt64(buildIDs.count) + 1
        buildIDs[bytes] = iid
        pending.append((F.InternedData.buildIDs, Self.internedString(iid, bytes)))
        return iid
    }

    /// An `InternedString`: `iid`, `str`.
    private static func internedString(_ iid: UInt64, _ value: [UInt8]) -> [UInt8] {
        var message = ProtobufMessage()
        message.varint(F.Interned.iid, iid)
        message.field(F.Interned.name, value)
        return message.bytes
    }
}
