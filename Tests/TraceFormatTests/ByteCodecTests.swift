import Testing
import TraceFormat

@Suite struct ByteCodecTests {
    static let values: [UInt64] = [0, 1, 127, 128, 255, 16383, 16384, 1 << 32, (1 << 63) - 1, 1 << 63, .max]

    @Test(arguments: values)
    func varintsRoundTrip(_ value: UInt64) throws {
        var writer = ByteWriter()
        writer.varint(value)
        #expect(writer.count == ByteWriter.varintSize(value))
        let (decoded, atEnd) = try decode(writer.bytes) { reader in (try reader.varint(), reader.isAtEnd) }
        #expect(decoded == value)
        #expect(atEnd)
    }

    @Test(arguments: [Int64.min, -65, -64, -1, 0, 1, 63, 64, .max])
    func zigzagRoundTrips(_ value: Int64) throws {
        var writer = ByteWriter()
        writer.zigzag(value)
        #expect(try decode(writer.bytes) { try $0.zigzag() } == value)
    }

    @Test func smallMagnitudesEncodeInOneByte() {
        var writer = ByteWriter()
        writer.zigzag(-64)
        writer.zigzag(63)
        #expect(writer.count == 2)
    }

    @Test func doublesRoundTripLittleEndian() throws {
        var writer = ByteWriter()
        writer.double(-2.5)
        #expect(writer.bytes == [0, 0, 0, 0, 0, 0, 4, 0xC0])
        #expect(try decode(writer.bytes) { try $0.double() } == -2.5)
    }

    @Test func aVarintCutShortIsTruncatedNotATrap() {
        #expect(throws: DecodeError.truncated(field: "length")) { try decode([0x80, 0x80]) { try $0.varint("length") } }
    }

    @Test func aVarintLongerThan64BitsIsRejected() {
        let eleven = [UInt8](repeating: 0xFF, count: 10) + [0x01]
        #expect(throws: DecodeError.overlongVarint(field: "id")) { try decode(eleven) { try $0.varint("id") } }
        // Ten bytes whose last carries bits past 64.
        let tooWide = [UInt8](repeating: 0xFF, count: 9) + [0x02]
        #expect(throws: DecodeError.overlongVarint(field: "id")) { try decode(tooWide) { try $0.varint("id") } }
    }

    @Test func lengthPrefixedBytesAreBoundsChecked() {
        #expect(throws: DecodeError.truncated(field: "name")) { try decode([5, 1, 2]) { try $0.lengthPrefixed("name").count } }
        #expect(throws: DecodeError.invalid(field: "name", value: 16383)) {
            try decode([0xFF, 0x7F]) { try $0.lengthPrefixed("name", limit: 100).count }
        }
    }
}

/// Runs `body` on a reader over `bytes`.
func decode<T>(_ bytes: [UInt8], _ body: (inout ByteReader) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { (raw) throws -> T in
        var reader = ByteReader(raw)
        return try body(&reader)
    }
}
