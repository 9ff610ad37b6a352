package import TraceAnalysis
package import TraceFormat

/// A pprof profile (github.com/google/pprof, proto/profile.proto) of the
/// stacks a `ProfileCollector` weighed, gzip-compressed as `go tool pprof`
/// reads it. Frames are symbolized (`StackResolver`): a function is its
/// demangled name, or "image+0xoffset" when it could not be resolved; a
/// location is one address of one process. A stack cut at its bound ends
/// in the pseudo-frame "[cut]", its outermost (root) entry.
package enum PprofProfile {
    /// The profile's bytes (gzip). `durationNanoseconds` is the trace's span.
    package static func encode(_ collector: ProfileCollector, resolver: StackResolver, catalog: TraceCatalog,
                               startNanoseconds: Int64, durationNanoseconds: Int64) throws(Gzip.Failure) -> [UInt8] {
        var strings = StringTable()
        var functions: [String: UInt64] = [:]
        var functionBodies: [[UInt8]] = []
        var locations: [LocationKey: UInt64] = [:]
        var locationBodies: [[UInt8]] = []
        var samples: [[UInt8]] = []

        func function(_ name: String, file: String?) -> UInt64 {
            if let id = functions[name] { return id }
            let id = UInt64(functions.count + 1)
            functions[name] = id
            var body = ProtobufMessage()
            body.varint(1, id)
            body.varint(2, strings.index(name))
            body.varint(3, strings.index(name))
            if let file { body.varint(4, strings.index(file)) }
            functionBodies.append(body.bytes)
            return id
        }

        func location(_ process: UInt32, _ frame: Frame) -> UInt64 {
            // Pseudo-frames ("[cut]", "(no stack recorded)") have address 0
            // and differ by name.
            let key = LocationKey(process: process, address: frame.address, pseudo: frame.address == 0 ? frame.function : nil)
            if let id = locations[key] { return id }
            let id = UInt64(locations.count + 1)
            locations[key] = id
            // "file:line": the line goes to the Line, the file to the Function.
            let (file, line) = Self.split(frame.location)
            var lineBody = ProtobufMessage()
            lineBody.varint(1, function(frame.function, file: file))
            if let line { lineBody.varint(2, line) }
            var body = ProtobufMessage()
            body.varint(1, id)
            body.varint(3, frame.address)
            body.field(4, lineBody.bytes)
            locationBodies.append(body.bytes)
            return id
        }

        for (key, weight) in collector.weights.sorted(by: { ($0.key.process, $0.key.stack) < ($1.key.process, $1.key.stack) }) {
            var frames = resolver.frames(key.process, key.stack).map {
                Frame(address: $0.address, function: $0.function ?? $0.description, location: $0.location)
            }
            if frames.isEmpty { frames = [Frame(address: 0, function: "(no stack recorded)", location: nil)] }
            // Packed repeated fields: their varints, length-delimited.
            var ids = ByteWriter()
            for frame in frames { ids.varint(location(key.process, frame)) }
            var values = ByteWriter()
            values.varint(UInt64(bitPattern: weight.count))
            if collector.kind != .cpu { values.varint(UInt64(bitPattern: weight.nanoseconds)) }
            var body = ProtobufMessage()
            body.field(1, ids.bytes)
            body.field(2, values.bytes)
            samples.append(body.bytes)
        }

        var profile = ProtobufMessage()
        let types: [(String, String)] = collector.kind == .cpu ? [("samples", "count")]
            : [(collector.kind == .sched ? "waits" : "blocks", "count"), ("delay", "nanoseconds")]
        for (type, unit) in types {
            var valueType = ProtobufMessage()
            valueType.varint(1, strings.index(type))
            valueType.varint(2, strings.index(unit))
            profile.field(1, valueType.bytes)
        }
        for sample in samples { profile.field(2, sample) }
        for location in locationBodies { profile.field(4, location) }
        for function in functionBodies { profile.field(5, function) }
        profile.varint(9, UInt64(bitPattern: startNanoseconds))
        profile.varint(10, UInt64(bitPattern: max(durationNanoseconds, 0)))
        // The strings last: indices were taken while writing the rest.
        for string in strings.values { profile.field(6, Array(string.utf8)) }
        return try Gzip.compress(profile.bytes)
    }

    private struct Frame {
        var address: UInt64
        var function: String
        var location: String?
    }

    private struct LocationKey: Hashable {
        var process: UInt32
        var address: UInt64
        var pseudo: String?
    }

    /// pprof's string table: index 0 is "".
    private struct StringTable {
        private(set) var values: [String] = [""]
        private var indices: [String: UInt64] = ["": 0]

        mutating func index(_ value: String) -> UInt64 {
            if let index = indices[value] { return index }
            let index = UInt64(values.count)
            values.append(value)
            indices[value] = index
            return index
        }
    }

    /// "file:line" as its parts; a location without a line number (or ":0")
    /// has no line.
    static func split(_ location: String?) -> (file: String?, line: UInt64?) {
        guard let location, let colon = location.lastIndex(of: ":") else { return (location, nil) }
        let line = UInt64(location[location.index(after: colon)...])
        return (String(location[..<colon]), line == 0 ? nil : line)
    }
}
