import CTraceABI
package import TraceFormat

/// Writes kernel events exactly as docs/format.md ("Kernel events")
/// specifies, by hand, independently of traced's encoder.
package struct KernelEventEncoding {
    package var writer = ByteWriter()

    package init() {}

    private mutating func head(_ tag: Int, dt: UInt64, stack: UInt32?) {
        writer.byte(UInt8(tag) | (stack != nil ? TraceEventKind.stackBit : 0))
        writer.varint(dt)
    }

    package mutating func switchOut(dt: UInt64, state: Int, cpu: UInt32, wait: Int = TC_WAIT_NONE, why: UInt32 = 0,
                                    stack: UInt32? = nil) {
        head(TC_KEV_SWITCH_OUT, dt: dt, stack: stack)
        writer.varint(UInt64(state))
        writer.varint(cpu)
        writer.varint(UInt64(wait))
        writer.varint(why)
        if let stack { writer.varint(stack) }
    }

    package mutating func switchIn(dt: UInt64, cpu: UInt32) {
        head(TC_KEV_SWITCH_IN, dt: dt, stack: nil)
        writer.varint(cpu)
    }

    package mutating func wakeup(dt: UInt64, wakerProcess: UInt32, wakerTid: UInt32, cpu: UInt32) {
        head(TC_KEV_WAKEUP, dt: dt, stack: nil)
        writer.varint(wakerProcess)
        writer.varint(wakerTid)
        writer.varint(cpu)
    }

    package mutating func sample(dt: UInt64, cpu: UInt32, stack: UInt32) {
        head(TC_KEV_SAMPLE, dt: dt, stack: stack)
        writer.varint(cpu)
        writer.varint(stack)
    }

    package mutating func name(dt: UInt64, name: UInt32) {
        head(TC_KEV_NAME, dt: dt, stack: nil)
        writer.varint(name)
    }

    package mutating func exit(dt: UInt64) {
        head(TC_KEV_EXIT, dt: dt, stack: nil)
    }

    package mutating func stat(dt: UInt64, what: Int, value: UInt64) {
        head(TC_KEV_STAT, dt: dt, stack: nil)
        writer.varint(UInt64(what))
        writer.varint(value)
    }

    package mutating func raw(_ bytes: [UInt8]) { writer.raw(bytes) }

    package var bytes: [UInt8] { writer.bytes }
}
