/// JSON text written by hand (the Chrome JSON and OTLP JSON exports):
/// string escaping, written once.
package enum JSONText {
    /// Passes well-formed UTF-8 to `emit` escaped for a JSON string: quotes,
    /// backslashes and control characters escaped, the rest as it is, in
    /// runs. Byte by byte is character by character here: every byte of a
    /// character beyond ASCII is 0x80 or more, and those are not escaped.
    package static func escape(_ utf8: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) -> Void) {
        var run = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if run < index { emit(UnsafeRawBufferPointer(rebasing: utf8[run..<index])) }
            run = index + 1
            let escaped: StaticString
            switch byte {
            case UInt8(ascii: "\""): escaped = "\\\""
            case UInt8(ascii: "\\"): escaped = "\\\\"
            case UInt8(ascii: "\n"): escaped = "\\n"
            case UInt8(ascii: "\r"): escaped = "\\r"
            case UInt8(ascii: "\t"): escaped = "\\t"
            default:
                // \u00XX, lowercase hex.
                let hex: StaticString = "0123456789abcdef"
                let code = (UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                            hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)])
                withUnsafeBytes(of: code) { emit($0) }
                continue
            }
            emit(UnsafeRawBufferPointer(start: escaped.utf8Start, count: escaped.utf8CodeUnitCount))
        }
        if run < utf8.count { emit(UnsafeRawBufferPointer(rebasing: utf8[run...])) }
    }
}
