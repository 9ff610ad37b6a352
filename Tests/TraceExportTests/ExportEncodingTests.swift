import Testing
import TraceExport
import TraceFormat

/// The export's hand-made encoders against the plain ways of writing the
/// same thing: every digit count and varint length, and log messages that
/// need escaping or are not well-formed UTF-8.
struct ExportEncodingTests {
    /// 0...1000, every power of ten and its neighbours, every power of two
    /// and its neighbours, the largest value.
    static let numbers: [UInt64] = {
        var numbers = (0...1000).map { UInt64($0) }
        var power: UInt64 = 1
        for _ in 0..<20 {
            numbers += [power - 1, power, power + 1]
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        for shift in 1..<64 { numbers += [(1 << shift) - 1, 1 << shift, (1 << shift) + 1] }
        return numbers + [.max - 1, .max, 14_657_395_537_690]
    }()

    @Test func decimalsAreTheDigitsDescriptionWrites() {
        for number in Self.numbers {
            let writer = ProtobufWriter(output: nil)
            writer.decimal(number)
            #expect(writer.bytes == Array(String(number).utf8), "\(number)")
        }
    }

    @Test func varintsAreTheWireFormatsSevenBitGroups() {
        for number in Self.numbers {
            let writer = ProtobufWriter(output: nil)
            writer.varint(1, number)
            writer.varint(60, number)
            var expected: [UInt8] = []
            for key in [UInt64(1 << 3), UInt64(60 << 3)] {
                for value in [key, number] {
                    var rest = value
                    while rest >= 0x80 {
                        expected.append(UInt8(rest & 0x7F) | 0x80)
                        rest >>= 7
                    }
                    expected.append(UInt8(rest))
                }
            }
            #expect(writer.bytes == expected, "\(number)")
        }
    }

    /// Quotes, backslashes, control characters, non-ASCII text and an
    /// ill-formed byte (0xFF), as a client might log them.
    static let message: [UInt8] = Array("say \"hi\"\\\n\r\t\u{01}\u{1F} café ☕️ ".utf8) + [0xFF, 0x41]

    @Test func aJSONLogMessageIsEscapedLikeItsStringWouldBe() throws {
        let exporter = ChromeJSONExporter(output: nil, names: { _ in "cat" }, stackText: { _, _ in nil })
        try exporter.process(1, pid: 100, name: "p")
        try exporter.thread(1, index: 1, tid: 101, name: "t")
        try Self.message.withUnsafeBytes { bytes in
            try exporter.log(ExportLog(time: 1000, process: 1, thread: 1, task: 0, swiftTask: 0, category: 1,
                                       message: .bytes(bytes), truncated: false, stack: 0))
        }
        let text = String(decoding: exporter.writer.bytes, as: UTF8.self)
        // The escaping as it was written before it worked on bytes: per
        // Unicode scalar of the repaired String.
        var escaped = "\""
        for scalar in String(decoding: Self.message, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        escaped += "\""
        #expect(text.contains(",\"message\":\(escaped)}}"), "\(text)")
    }

    @Test func aPerfettoLogMessageIsItsRepairedUTF8() throws {
        let exporter = PerfettoExporter(output: nil, names: { _ in "cat" }, stackText: { _, _ in nil })
        try exporter.start(monotonic: 0, realtime: nil)
        try exporter.process(1, pid: 100, name: "p")
        try exporter.thread(1, index: 1, tid: 101, name: "t")
        try Self.message.withUnsafeBytes { bytes in
            try exporter.log(ExportLog(time: 1000, process: 1, thread: 1, task: 0, swiftTask: 0, category: 1,
                                       message: .bytes(bytes), truncated: false, stack: 0))
        }
        let repaired = Array(String(decoding: Self.message, as: UTF8.self).utf8)
        #expect(repaired != Self.message)
        // A string_value field (6) of the repaired length, then the bytes.
        let field = [UInt8(6 << 3 | 2), UInt8(repaired.count)] + repaired
        let bytes = exporter.writer.bytes
        #expect(bytes.indices.contains { bytes[$0...].starts(with: field) })
    }
}
