import CTraceABI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif
import TraceKernel
import TraceSystem

/// The collector's drain of one CPU's perf ring
/// (`KernelCollector.drain(_:decoder:counts:_:)`: `PerfRing` and
/// `RecordDecoder`) on a ring in a memfd that the input writes as a kernel
/// that lies would. The input picks the data area (1, 2 or 16 pages), the
/// decoder (callchains on switches or not, CPU samples or not, a wait
/// classifier or not) and the starting position (any 64-bit value, so
/// positions wrap too), then runs a program: raw bytes written at the
/// head, well-formed records built from input fields (switches with
/// callchains, wakings, CPU samples, fork, exit, comm, mmap2, lost,
/// other types), the head published truly or as a lie, bytes scribbled
/// over anywhere, drains.
///
/// Each drain is checked against a model that reads the published bytes
/// in a straight line: the same records (including those that straddle
/// the end of the data area, read whole from the scratch copy), decoded
/// to the same values, counted in the same places (undecodable, other
/// types, idle samples, lost), the ring's statistics (records, bytes,
/// wrapped records, resynchronizations and corrupt bytes) moved by exactly
/// that, and the tail given back at the head. A mismatch traps.
enum KernelRingTarget {
    static let pageSize = 4096
    static let dataSizes = [4096, 8192, 65536]

    /// One memfd mapping per data size, reused (zeroed) by every input.
    private static let mappings = Mutex<[Int: MemoryMapping]>([:])

    static func run(_ data: UnsafeRawBufferPointer) {
        var input = FuzzInput(data)
        let flags = input.byte()
        let dataSize = dataSizes[Int(flags & 3) % dataSizes.count]
        guard let mapping = mapping(size: pageSize + dataSize) else { return }
        memset(mapping.base, 0, mapping.size)
        let start: UInt64 = input.integer()
        store(UInt64(pageSize), at: TC_PERF_PAGE_DATA_OFFSET, mapping)
        store(UInt64(dataSize), at: TC_PERF_PAGE_DATA_SIZE, mapping)
        store(start, at: TC_PERF_PAGE_DATA_TAIL, mapping)
        store(start, at: TC_PERF_PAGE_DATA_HEAD, mapping)
        guard let ring = try? PerfRing(mapping: mapping, pageSize: pageSize) else { fatalError("a sound control page was refused") }
        let decoder = RecordDecoder(
            cpu: Int(PerfRecords.cpu), layout: FuzzKernel.layout, switchID: PerfRecords.switchID,
            wakingID: PerfRecords.wakingID, taskID: PerfRecords.taskID, sampleID: flags & 8 != 0 ? PerfRecords.sampleID : nil,
            switchCallchains: flags & 4 != 0, classifier: flags & 16 != 0 ? FuzzKernel.classifier : nil)
        var program = Program(mapping: mapping, dataSize: dataSize, ring: ring, decoder: decoder, head: start)
        while !input.isAtEnd { program.step(&input) }
        program.publish(program.head)
        program.drain()
    }

    private static func mapping(size: Int) -> MemoryMapping? {
        mappings.withLock { mappings -> MemoryMapping? in
            if let mapping = mappings[size] { return mapping }
            guard let descriptor = try? SharedMemory.create(name: "traced-fuzz-perf-ring", size: size) else { return nil }
            defer { descriptor.close() }
            guard let mapping = try? MemoryMapping(descriptor: descriptor, size: size) else { return nil }
            mappings[size] = mapping
            return mapping
        }
    }

    static func store(_ value: UInt64, at field: UInt32, _ mapping: MemoryMapping) {
        mapping.base.storeBytes(of: value, toByteOffset: Int(field), as: UInt64.self)
    }

    /// The kernel's moves and the collector's drains.
    private struct Program {
        let mapping: MemoryMapping
        let dataSize: Int
        let ring: PerfRing
        let decoder: RecordDecoder
        /// Where the next byte goes: the kernel's head, published or not.
        var head: UInt64
        var counts = KernelCollector.CPUStatistics(cpu: Int(PerfRecords.cpu))

        var data: UnsafeMutableRawPointer { mapping.base + KernelRingTarget.pageSize }

        mutating func step(_ input: inout FuzzInput) {
            switch input.byte() % 8 {
            case 0:
                write(input.run(limit: dataSize + 64))
            case 1:
                write(Self.record(&input))
            case 2:
                for _ in 0..<(Int(input.byte() % 16) + 1) { write(Self.record(&input)) }
            case 3:
                publish(head)
            case 4:
                // A head that lies: anywhere, behind the tail or far ahead;
                // the kernel writes on from there.
                head &+= input.integer(UInt64.self)
                publish(head)
            case 5:
                data.storeBytes(of: input.byte(), toByteOffset: Int(input.integer(UInt32.self)) % dataSize, as: UInt8.self)
            default:
                drain()
            }
        }

        mutating func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

        /// At the head, wrapping at the end of the data area; not published.
        mutating func write(_ bytes: UnsafeRawBufferPointer) {
            var rest = bytes
            while let base = rest.baseAddress, !rest.isEmpty {
                let offset = Int(truncatingIfNeeded: head) & (dataSize - 1)
                let count = min(rest.count, dataSize - offset)
                (data + offset).copyMemory(from: base, byteCount: count)
                head &+= UInt64(count)
                rest = UnsafeRawBufferPointer(rebasing: rest[count...])
            }
        }

        func publish(_ position: UInt64) { KernelRingTarget.store(position, at: TC_PERF_PAGE_DATA_HEAD, mapping) }

        /// `KernelCollector`'s drain of this ring, checked against the model.
        mutating func drain() {
            let tail = tc_perf_tail_load_relaxed(mapping.base)
            let published = tc_perf_head_load_acquire(mapping.base)
            let expected = Model(data: data, dataSize: dataSize, tail: tail, head: published)
            let outcomes = expected.records.map { record in record.bytes.withUnsafeBytes { decoder.decode($0) } }
            let before = counts
            var handed: [KernelRecord] = []
            let count = KernelCollector.drain(ring, decoder: decoder, counts: &counts) { handed.append($0) }

            var records: [KernelRecord] = [], undecodable = 0, otherTypes = 0, idleSamples = 0, lost: UInt64 = 0
            for outcome in outcomes {
                switch outcome {
                case .record(let record):
                    records.append(record)
                    if case .lost(_, let more) = record { lost = Self.saturating(lost, more) }
                case .undecodable: undecodable += 1
                case .otherType: otherTypes += 1
                case .idleSample: idleSamples += 1
                }
            }
            precondition(handed == records && count == records.count, "the records handed on are not the ring's")
            precondition(counts.records - before.records == records.count && counts.undecodable - before.undecodable == undecodable
                && counts.otherTypes - before.otherTypes == otherTypes && counts.idleSamples - before.idleSamples == idleSamples,
                         "records skipped are not counted where they belong")
            precondition(counts.lost == Self.saturating(before.lost, lost), "lost records are not summed")
            let now = counts.ring, was = before.ring
            precondition(now.records - was.records == expected.records.count
                && now.bytes - was.bytes == expected.records.map(\.bytes.count).reduce(0, +)
                && now.wrappedRecords - was.wrappedRecords == expected.records.filter(\.wrapped).count,
                         "the ring's record statistics are not what it held")
            precondition(now.resynchronizations - was.resynchronizations == (expected.corruptBytes == nil ? 0 : 1)
                && now.corruptBytes - was.corruptBytes == expected.corruptBytes ?? 0,
                         "the ring's resynchronizations are not what it held")
            precondition(tc_perf_tail_load_relaxed(mapping.base) == published && ring.pendingBytes == 0,
                         "the tail is not given back at the head")
            for record in handed {
                switch record {
                case .contextSwitch(let change): precondition(change.cpu == decoder.cpu)
                case .wakeup(let wakeup): precondition(wakeup.cpu == decoder.cpu)
                case .sample(let sample): precondition(sample.cpu == decoder.cpu && sample.pid != 0)
                case .lost(let cpu, _): precondition(cpu == decoder.cpu)
                default: break
                }
            }
        }

        /// Counts as the collector sums them: `.max` once they overflow.
        static func saturating(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? .max : sum
        }

        /// A well-formed record (of any type the ring carries, or another),
        /// its fields from the input.
        static func record(_ input: inout FuzzInput) -> [UInt8] {
            let pid = Int32(input.byte()) - 1, tid = Int32(input.byte()) - 1
            let time = UInt64(input.integer(UInt32.self))
            let cpu = input.byte() < 0xF0 ? PerfRecords.cpu : 0
            switch input.byte() % 10 {
            case 0:
                let states: [Int64] = [0, 0x1, 0x2, 0x4, 0x10, 0x100, 0x101, 0x402, -1]
                let state = states[Int(input.byte()) % states.count]
                return PerfRecords.sample(id: PerfRecords.switchID, pid: pid, tid: tid, time: time, cpu: cpu,
                                          callchain: input.byte() & 1 == 0 ? chain(&input) : nil,
                                          raw: PerfRecords.switchRaw(previous: tid, state: state, next: Int32(input.byte())))
            case 1:
                return PerfRecords.sample(id: PerfRecords.wakingID, pid: pid, tid: tid, time: time, cpu: cpu, callchain: nil,
                                          raw: PerfRecords.wakingRaw(flags: input.byte(), wakee: Int32(input.byte())))
            case 2:
                return PerfRecords.sample(id: PerfRecords.sampleID, pid: pid, tid: tid, time: time, cpu: cpu,
                                          callchain: chain(&input), raw: nil)
            case 3, 4:
                return PerfRecords.task(exit: input.byte() & 1 != 0, pid: pid, parent: Int32(input.byte()), tid: tid, time: time)
            case 5:
                return PerfRecords.comm(pid: pid, tid: tid, name: Array(input.run(limit: 16)), exec: input.byte() & 1 != 0,
                                        time: time)
            case 6:
                let buildID: [UInt8]? = input.byte() & 1 != 0 ? Array(input.run(limit: 20)) : nil
                return PerfRecords.mapping(pid: pid, tid: tid, address: input.integer(), length: UInt64(input.integer(UInt32.self)),
                                           buildID: buildID, path: Array(input.run(limit: 64)), time: time)
            case 7:
                return PerfRecords.lost(count: input.integer())
            case 8:
                // A sample of an event this ring does not carry, or a short one.
                return PerfRecords.sample(id: UInt64(input.byte()), pid: pid, tid: tid, time: time, cpu: cpu, callchain: nil,
                                          raw: Array(input.run(limit: 96)))
            default:
                var record = PerfRecords(type: UInt32(input.byte()), misc: UInt16(input.byte()))
                record.append(bytes: input.run(limit: 256))
                return record.finished()
            }
        }

        /// A callchain of markers, kernel functions the classifier knows,
        /// user addresses and any values.
        static func chain(_ input: inout FuzzInput) -> [UInt64] {
            let count = input.byte()
            // Now and then one of the limit's length or longer (a cut stack).
            let entries = count >= 0xF8 ? 120 + Int(count & 7) * 2 : Int(count % 12)
            return (0..<entries).map { _ in
                let choice = input.byte()
                switch choice % 5 {
                case 0: return TC_PERF_CONTEXT_KERNEL
                case 1: return TC_PERF_CONTEXT_USER
                case 2: return FuzzKernel.address(Int(choice / 5))
                case 3: return 0x5555_0000_0000 + UInt64(input.integer(UInt16.self))
                default: return input.integer()
                }
            }
        }
    }

    /// What a ring holds between a tail and a head, read in a straight
    /// line: whole records while their sizes are sound; the rest, if any,
    /// is what `PerfRing` drops (all of it when the head is more than the
    /// ring ahead).
    private struct Model {
        var records: [(bytes: [UInt8], wrapped: Bool)] = []
        /// nil: nothing dropped.
        var corruptBytes: Int?

        init(data: UnsafeRawPointer, dataSize: Int, tail: UInt64, head: UInt64) {
            let published = head &- tail
            guard published <= UInt64(dataSize) else {
                corruptBytes = dataSize
                return
            }
            let first = Int(truncatingIfNeeded: tail) & (dataSize - 1)
            let count = Int(published), before = min(count, dataSize - first)
            let line = [UInt8](unsafeUninitializedCapacity: count) { line, initialized in
                guard let out = UnsafeMutableRawPointer(line.baseAddress) else { return }
                out.copyMemory(from: data + first, byteCount: before)
                (out + before).copyMemory(from: data, byteCount: count - before)
                initialized = count
            }
            var at = 0
            while line.count - at >= 8 {
                let size = Int(line[at + 6]) | Int(line[at + 7]) << 8
                guard size >= 8, size <= line.count - at else { break }
                records.append((Array(line[at..<(at + size)]), (first + at) % dataSize + size > dataSize))
                at += size
            }
            if at != line.count { corruptBytes = line.count - at }
        }
    }
}
