import CTraceABI

// Metadata records describe what events refer to by id. A client appends
// them to its buffer's metadata area without the leading process field
// (`encodeBody`); the writer of a file prefixes the process key. Each file
// repeats every metadata record its events need, so it decodes alone.

/// An interned string: region, task and counter names, log categories.
package struct StringRecord: Equatable, Sendable {
    package var id: UInt32
    package var value: String

    package init(id: UInt32, value: String) {
        self.id = id
        self.value = value
    }

    package static let maximumLength = 1024

    package func encodeBody(into w: inout ByteWriter) {
        w.varint(id)
        w.lengthPrefixed(Array(value.utf8.prefix(Self.maximumLength)))
    }

    package init(decodingBody r: inout ByteReader) throws(DecodeError) {
        id = try r.varint32("string id")
        value = try r.string("string", limit: Self.maximumLength)
    }
}

/// A thread of a process: its trace index, kernel id and name.
package struct ThreadRecord: Equatable, Sendable {
    package var index: UInt32
    package var tid: Int32
    package var name: String

    package init(index: UInt32, tid: Int32, name: String) {
        self.index = index
        self.tid = tid
        self.name = name
    }

    package func encodeBody(into w: inout ByteWriter) {
        w.varint(index)
        w.varint(UInt32(bitPattern: tid))
        w.lengthPrefixed(Array(name.utf8.prefix(64)))
    }

    package init(decodingBody r: inout ByteReader) throws(DecodeError) {
        index = try r.varint32("thread index")
        tid = Int32(bitPattern: try r.varint32("tid"))
        name = try r.string("thread name", limit: 64)
    }
}

/// A deduplicated call stack, innermost first: return addresses from the
/// thread's stack (the first `syncDepth` frames), then the awaiting callers
/// of a Swift async function, each its resume function's address + 1 so
/// that every frame reads as a return address (docs/format.md, "0x12 stack").
package struct StackRecord: Equatable, Sendable {
    package var id: UInt32
    package var frames: [UInt64]
    /// Frames from the thread's stack; `frames.count` when none is async.
    package var syncDepth: Int
    /// The stack went on past its last frame: the walk stopped at its
    /// bound (the kernel's 127 callchain entries), not at the outermost
    /// caller (format 1.3).
    package var cut: Bool

    package init(id: UInt32, frames: [UInt64], syncDepth: Int? = nil, cut: Bool = false) {
        self.id = id
        self.frames = frames
        self.syncDepth = min(max(syncDepth ?? frames.count, 0), frames.count)
        self.cut = cut
    }

    package static let maximumDepth = 128
    /// Bit 0 of the flags field: `cut`. Other bits are for later minor
    /// versions; a reader ignores those it does not know.
    static let cutFlag: UInt64 = 1

    /// Frames after the first are zigzag deltas from the previous frame:
    /// return addresses of one stack cluster in a few images. The sync
    /// depth (format 1.2) follows when some frames are async or flags
    /// follow; the flags (format 1.3) only when one is set.
    package func encodeBody(into w: inout ByteWriter) {
        w.varint(id)
        w.varint(frames.count)
        var previous: UInt64 = 0
        for frame in frames {
            w.zigzag(Int64(bitPattern: frame &- previous))
            previous = frame
        }
        if syncDepth < frames.count || cut { w.varint(syncDepth) }
        if cut { w.varint(Self.cutFlag) }
    }

    package init(decodingBody r: inout ByteReader) throws(DecodeError) {
        id = try r.varint32("stack id")
        let depth = try r.varint("stack depth")
        guard depth <= UInt64(Self.maximumDepth) else { throw .invalid(field: "stack depth", value: depth) }
        frames = []
        frames.reserveCapacity(Int(depth))
        var previous: UInt64 = 0
        for _ in 0..<depth {
            previous = previous &+ UInt64(bitPattern: try r.zigzag("stack frame"))
            frames.append(previous)
        }
        syncDepth = frames.count
        cut = false
        if !r.isAtEnd {
            let sync = try r.varint("stack sync depth")
            // Equal to the depth: none async (written because flags follow).
            guard sync <= depth else { throw .invalid(field: "stack sync depth", value: sync) }
            syncDepth = Int(sync)
        }
        if !r.isAtEnd { cut = try r.varint("stack flags") & Self.cutFlag != 0 }
    }
}

/// A loaded ELF image, so addresses can be symbolized after the process is
/// gone: `address - bias` is the link-time address in the file at `path`.
package struct ImageRecord: Hashable, Sendable {
    package var bias: UInt64
    package var textLow: UInt64
    package var textHigh: UInt64
    package var buildID: [UInt8]
    package var path: String

    package init(bias: UInt64, textLow: UInt64, textHigh: UInt64, buildID: [UInt8], path: String) {
        self.bias = bias
        self.textLow = textLow
        self.textHigh = textHigh
        self.buildID = buildID
        self.path = path
    }

    /// Whether a runtime `address` lies in this image's executable segments.
    package func contains(_ address: UInt64) -> Bool {
        address >= bias &+ textLow && address < bias &+ textHigh
    }

    package func encodeBody(into w: inout ByteWriter) {
        w.varint(bias)
        w.varint(textLow)
        w.varint(textHigh)
        w.lengthPrefixed(buildID.prefix(64))
        w.lengthPrefixed(Array(path.utf8.prefix(4096)))
    }

    package init(decodingBody r: inout ByteReader) throws(DecodeError) {
        bias = try r.varint("image bias")
        textLow = try r.varint("image text low")
        textHigh = try r.varint("image text high")
        buildID = Array(try r.lengthPrefixed("build id", limit: 64))
        path = try r.string("image path", limit: 4096)
    }
}

/// One metadata record of any kind.
package enum MetadataRecord: Equatable, Sendable {
    case string(StringRecord)
    case thread(ThreadRecord)
    case stack(StackRecord)
    case image(ImageRecord)

    /// The record kind (TC_REC_*) of `kind` if it is a metadata kind.
    package static func isMetadata(kind: UInt8) -> Bool {
        kind == UInt8(TC_REC_STRING) || kind == UInt8(TC_REC_THREAD)
            || kind == UInt8(TC_REC_STACK) || kind == UInt8(TC_REC_IMAGE)
    }

    /// Decodes a body (without process field) of a metadata `kind`.
    package init(kind: UInt8, decodingBody r: inout ByteReader) throws(DecodeError) {
        switch Int(kind) {
        case TC_REC_STRING: self = .string(try StringRecord(decodingBody: &r))
        case TC_REC_THREAD: self = .thread(try ThreadRecord(decodingBody: &r))
        case TC_REC_STACK: self = .stack(try StackRecord(decodingBody: &r))
        case TC_REC_IMAGE: self = .image(try ImageRecord(decodingBody: &r))
        default: throw .invalid(field: "metadata kind", value: UInt64(kind))
        }
    }

    package var kind: Int {
        switch self {
        case .string: TC_REC_STRING
        case .thread: TC_REC_THREAD
        case .stack: TC_REC_STACK
        case .image: TC_REC_IMAGE
        }
    }

    package func encodeBody(into w: inout ByteWriter) {
        switch self {
        case .string(let record): record.encodeBody(into: &w)
        case .thread(let record): record.encodeBody(into: &w)
        case .stack(let record): record.encodeBody(into: &w)
        case .image(let record): record.encodeBody(into: &w)
        }
    }

    /// The record as a client writes it to its metadata area (no process).
    package func encodeForBuffer(into w: inout ByteWriter) {
        w.record(kind) { encodeBody(into: &$0) }
    }

    /// The record as it appears in a file, under `process`.
    package func encode(process: UInt32, into w: inout ByteWriter) {
        w.record(kind) { body in
            body.varint(process)
            encodeBody(into: &body)
        }
    }
}
