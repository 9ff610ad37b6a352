import CTraceABI
package import TraceSystem

/// The consumer's side of one perf ring: a page of control fields, then
/// 2^n pages of records (trace_perf.h, "THE RING", and its orderings).
///
/// `read` hands on every whole record between the tail and the head the
/// kernel published, in ring order, then gives their bytes back to the
/// kernel. A record that runs off the end of the data area is copied, both
/// pieces, into a scratch buffer allocated once. Nothing read from the ring
/// is trusted: a head more than the ring's size ahead of the tail, or a
/// record size that is below a header or runs past the head, ends the read,
/// drops what was published (counted in `corruptBytes`) and resynchronizes
/// at the head.
///
/// Not thread-safe: one thread reads a ring.
package final class PerfRing {
    package struct Statistics: Equatable, Sendable {
        /// Records handed on, and their bytes.
        package var records = 0
        package var bytes = 0
        /// Records that ran off the end and were read from the scratch copy.
        package var wrappedRecords = 0
        /// Times the ring said something that cannot be true (a head
        /// more than the ring ahead, a record size below a header or past
        /// the head) and was read again from its head on.
        package var resynchronizations = 0
        /// Published bytes dropped then (at most the ring's size each time).
        package var corruptBytes = 0

        package init(records: Int = 0, bytes: Int = 0, wrappedRecords: Int = 0, resynchronizations: Int = 0,
                     corruptBytes: Int = 0) {
            self.records = records
            self.bytes = bytes
            self.wrappedRecords = wrappedRecords
            self.resynchronizations = resynchronizations
            self.corruptBytes = corruptBytes
        }
    }

    /// The mapping's pages: control page, then data.
    private let mapping: MemoryMapping
    private let page: UnsafeMutableRawPointer
    private let data: UnsafeRawPointer
    /// A power of two; positions are taken modulo it.
    package let dataSize: Int
    /// The consumer's own copy of data_tail, the only writer of it.
    private var tail: UInt64
    /// Holds one wrapped record; a record is at most 64 KiB (its size is
    /// 16 bits) and at most the data area.
    private let scratch: UnsafeMutableRawPointer
    package private(set) var statistics = Statistics()

    /// The largest data area a ring may have: 256 MiB per CPU.
    package static let maximumDataSize = 256 << 20
    static let headerSize = 8

    /// Reads the ring in `mapping` (the control page of `pageSize` bytes
    /// and the data area after it), refusing a control page whose
    /// `data_offset` and `data_size` are not that geometry.
    package init(mapping: MemoryMapping, pageSize: Int) throws(RingGeometryError) {
        let size = mapping.size - pageSize
        guard pageSize > 0, size >= pageSize, size <= Self.maximumDataSize, size & (size - 1) == 0 else {
            throw RingGeometryError(problem: "a mapping of \(mapping.size) bytes is not one page and 2^n pages")
        }
        let offset = tc_perf_page_field_load_relaxed(mapping.base, TC_PERF_PAGE_DATA_OFFSET)
        let published = tc_perf_page_field_load_relaxed(mapping.base, TC_PERF_PAGE_DATA_SIZE)
        guard offset == UInt64(pageSize), published == UInt64(size) else {
            throw RingGeometryError(problem: "data_offset \(offset) and data_size \(published), mapped \(pageSize) and \(size)")
        }
        self.mapping = mapping
        page = mapping.base
        data = UnsafeRawPointer(mapping.base + pageSize)
        dataSize = size
        tail = tc_perf_tail_load_relaxed(mapping.base)
        scratch = .allocate(byteCount: min(size, 1 << 16), alignment: 8)
    }

    deinit { scratch.deallocate() }

    /// Bytes published and not yet read (at most `dataSize` in a sound ring).
    package var pendingBytes: UInt64 { tc_perf_head_load_acquire(page) &- tail }

    /// Calls `body` with each record published so far, header included, in
    /// ring order, then releases their bytes to the kernel. The bytes `body`
    /// sees are valid only during the call. Returns the number of records.
    @discardableResult
    package func read(_ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        let head = tc_perf_head_load_acquire(page)
        let published = head &- tail
        guard published <= UInt64(dataSize) else {
            resynchronize(at: head, dropping: published)
            return 0
        }
        let mask = dataSize - 1
        var position = tail
        var count = 0
        while head &- position >= UInt64(Self.headerSize) {
            let left = Int(head &- position)
            let offset = Int(truncatingIfNeeded: position) & mask
            let size = recordSize(at: offset)
            guard size >= Self.headerSize, size <= left else {
                resynchronize(at: head, dropping: UInt64(left))
                return count
            }
            let first = dataSize - offset
            if size <= first {
                body(UnsafeRawBufferPointer(start: data + offset, count: size))
            } else {
                scratch.copyMemory(from: data + offset, byteCount: first)
                (scratch + first).copyMemory(from: data, byteCount: size - first)
                body(UnsafeRawBufferPointer(start: scratch, count: size))
                statistics.wrappedRecords += 1
            }
            position &+= UInt64(size)
            count += 1
            statistics.records += 1
            statistics.bytes += size
        }
        // Fewer than a header's bytes left: only a ring that lies leaves that.
        if position != head {
            resynchronize(at: head, dropping: head &- position)
        } else {
            tail = head
            tc_perf_tail_store_release(page, head)
        }
        return count
    }

    /// The 16-bit size of the header at `offset`, its bytes read across
    /// the end of the data area if it straddles it.
    private func recordSize(at offset: Int) -> Int {
        // perf_event_header: u32 type, u16 misc, u16 size, in host order.
        var size: UInt16 = 0
        withUnsafeMutableBytes(of: &size) { bytes in
            bytes[0] = data.load(fromByteOffset: (offset + 6) & (dataSize - 1), as: UInt8.self)
            bytes[1] = data.load(fromByteOffset: (offset + 7) & (dataSize - 1), as: UInt8.self)
        }
        return Int(size)
    }

    private func resynchronize(at head: UInt64, dropping bytes: UInt64) {
        statistics.resynchronizations += 1
        statistics.corruptBytes += Int(min(bytes, UInt64(dataSize)))
        tail = head
        tc_perf_tail_store_release(page, head)
    }
}

/// A ring whose control page does not describe the mapping.
package struct RingGeometryError: Error, Equatable {
    package var problem: String

    package init(problem: String) { self.problem = problem }
}
