import TestSupport
import Testing
import TraceKernel

/// PerfRing on a ring the test writes as the kernel would, and as a
/// kernel that lies would: exact records out, bad sizes counted, never a trap.
@Suite(.tags(.hostileInput)) struct PerfRingTests {
    /// A record of `size` bytes whose body counts up from `seed`.
    static func record(size: Int, seed: UInt8) -> [UInt8] {
        var record = RecordBytes(type: 99)
        record.append(bytes: (0..<(size - 8)).map { seed &+ UInt8(truncatingIfNeeded: $0) })
        return record.finished()
    }

    static func readAll(_ ring: PerfRing) -> [[UInt8]] {
        var records: [[UInt8]] = []
        ring.read { records.append(Array($0)) }
        return records
    }

    @Test func aRecordThatRunsOffTheRingsEndIsReadWhole() throws {
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        let first = Self.record(size: 4000, seed: 1), second = Self.record(size: 200, seed: 7)
        hand.write(first)
        hand.publish()
        #expect(ring.pendingBytes == 4000)
        #expect(Self.readAll(ring) == [first])
        #expect(hand.tail == 4000)

        hand.write(second)  // 96 bytes at the end, 104 at the start
        hand.publish()
        #expect(Self.readAll(ring) == [second])
        #expect(ring.statistics == PerfRing.Statistics(records: 2, bytes: 4200, wrappedRecords: 1))
        #expect(hand.tail == 4200)
        #expect(ring.pendingBytes == 0)

        let third = Self.record(size: 96, seed: 200)
        hand.write(third)
        hand.publish()
        #expect(Self.readAll(ring) == [third])
        #expect(hand.tail == 4296)
        #expect(ring.statistics.wrappedRecords == 1)
    }

    @Test func aFullRingOfRecordsOfEverySizeComesOutInOrder() throws {
        // Sizes 8, 16, ... 512 over and over: records start at every
        // multiple of 8 and wrap at many different points.
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        var written: [[UInt8]] = [], read: [[UInt8]] = []
        for round in 0..<400 {
            let record = Self.record(size: 8 * (round % 64 + 1), seed: UInt8(truncatingIfNeeded: round))
            if hand.head + UInt64(record.count) - hand.tail > 4096 {
                ring.read { read.append(Array($0)) }
            }
            hand.write(record)
            hand.publish()
            written.append(record)
        }
        ring.read { read.append(Array($0)) }
        #expect(read.count == written.count)
        #expect(read == written)
        #expect(ring.statistics.bytes == written.map(\.count).reduce(0, +))
        #expect(ring.statistics.wrappedRecords > 0)
        #expect(ring.statistics.resynchronizations == 0)
    }

    @Test func aHeaderSplitByTheRingsEndIsReadAcrossIt() throws {
        // Starting 4 bytes before the end: the size field lies at the start.
        let hand = try HandRing(dataSize: 4096, startingAt: 4092)
        let ring = try hand.ring()
        let record = Self.record(size: 64, seed: 3)
        hand.write(record)
        hand.publish()
        #expect(Self.readAll(ring) == [record])
        #expect(ring.statistics.wrappedRecords == 1)
        #expect(hand.tail == 4092 + 64)
    }

    @Test func recordsArriveOnlyOnceTheHeadIsPublished() throws {
        let hand = try HandRing(dataSize: 8192)
        let ring = try hand.ring()
        hand.write(Self.record(size: 32, seed: 0))
        #expect(Self.readAll(ring).isEmpty)
        hand.publish()
        #expect(Self.readAll(ring).count == 1)
        #expect(Self.readAll(ring).isEmpty)
    }

    @Test func aSizeBelowAHeaderDropsWhatWasPublishedAndResynchronizes() throws {
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        let good = Self.record(size: 24, seed: 0)
        hand.write(good)
        var zero = Self.record(size: 16, seed: 0)
        zero[6] = 0
        zero[7] = 0
        hand.write(zero)
        hand.write(Self.record(size: 16, seed: 0))
        hand.publish()
        #expect(Self.readAll(ring) == [good])
        #expect(ring.statistics == PerfRing.Statistics(records: 1, bytes: 24, resynchronizations: 1, corruptBytes: 32))
        #expect(hand.tail == 56)

        let next = Self.record(size: 40, seed: 9)
        hand.write(next)
        hand.publish()
        #expect(Self.readAll(ring) == [next])
    }

    @Test func aSizeBeyondTheHeadIsNeverRead() throws {
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        var claims = Self.record(size: 64, seed: 0)
        withUnsafeBytes(of: UInt16(4000)) { claims.replaceSubrange(6..<8, with: $0) }
        hand.write(claims)
        hand.publish()
        #expect(Self.readAll(ring).isEmpty)
        #expect(ring.statistics == PerfRing.Statistics(resynchronizations: 1, corruptBytes: 64))
        #expect(hand.tail == 64)
    }

    @Test func aHeadMoreThanTheRingAheadIsDroppedWhole() throws {
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        hand.head = 5000
        hand.publish()
        #expect(Self.readAll(ring).isEmpty)
        #expect(ring.statistics == PerfRing.Statistics(resynchronizations: 1, corruptBytes: 4096))
        #expect(hand.tail == 5000)
        // A head behind the tail is as far ahead as the counters go.
        hand.head = 4000
        hand.publish()
        #expect(Self.readAll(ring).isEmpty)
        #expect(ring.statistics == PerfRing.Statistics(resynchronizations: 2, corruptBytes: 8192))
        #expect(hand.tail == 4000)
    }

    @Test func aTailOfFewerThanAHeadersBytesIsCountedNotRead() throws {
        let hand = try HandRing(dataSize: 4096)
        let ring = try hand.ring()
        let record = Self.record(size: 16, seed: 0)
        hand.write(record)
        hand.write([1, 2, 3, 4])
        hand.publish()
        #expect(Self.readAll(ring) == [record])
        #expect(ring.statistics == PerfRing.Statistics(records: 1, bytes: 16, resynchronizations: 1, corruptBytes: 4))
        #expect(hand.tail == 20)
    }

    @Test func aControlPageThatDisagreesWithTheMappingIsRefused() throws {
        let hand = try HandRing(dataSize: 4096)
        hand.store(8192, at: 1048)
        #expect(throws: RingGeometryError(problem: "data_offset 4096 and data_size 8192, mapped 4096 and 4096")) {
            try hand.ring()
        }
    }
}
