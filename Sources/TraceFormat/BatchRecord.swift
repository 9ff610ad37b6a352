import CTraceABI

/// The header of a batch record: a run of events one thread wrote into one
/// chunk, copied by a consumer. The events follow it to the record's end.
///
/// A chunk may reach a file in several batches (the consumer copies what is
/// committed so far); `segmentOffset` is where in the chunk's payload this
/// batch begins, and the decoder state at that point (`baseTicks`,
/// `regionSequence`, the context) is carried here so every batch decodes alone.
package struct BatchHeader: Equatable, Sendable {
    package var process: UInt32
    package var thread: UInt32
    package var chunkSequence: UInt32
    package var segmentOffset: UInt32
    /// Timestamp the first event's delta is taken from.
    package var baseTicks: UInt64
    /// Regions the thread had begun before the first event of this batch.
    package var regionSequence: UInt64
    /// The context at the start of the batch: Swift task id and trace task
    /// (0: none), and the last task the thread began in this chunk.
    package var swiftTask: UInt64
    package var task: UInt64
    package var lastTask: UInt64
    /// Events the thread dropped just before this chunk (0 for later segments).
    package var droppedBefore: UInt64
    /// Not on the wire: the batch is a kernel batch (`KernelBatchHeader.batch`),
    /// whose events decode with `KernelEventDecoder`.
    package var kernel = false

    package init(process: UInt32, thread: UInt32, chunkSequence: UInt32, segmentOffset: UInt32,
                 baseTicks: UInt64, regionSequence: UInt64, swiftTask: UInt64 = 0, task: UInt64 = 0, lastTask: UInt64 = 0,
                 droppedBefore: UInt64) {
        self.task = task
        self.lastTask = lastTask
        self.process = process
        self.thread = thread
        self.chunkSequence = chunkSequence
        self.segmentOffset = segmentOffset
        self.baseTicks = baseTicks
        self.regionSequence = regionSequence
        self.swiftTask = swiftTask
        self.droppedBefore = droppedBefore
    }

    /// The decoder state at the first event of the batch.
    package var initialState: EventState {
        EventState(thread: thread, ticks: baseTicks, regionSequence: regionSequence, swiftTask: swiftTask, task: task,
                   lastTask: lastTask)
    }

    package func encode(events: UnsafeRawBufferPointer, into writer: inout ByteWriter) {
        var header = ByteWriter(capacity: 64)
        header.varint(process)
        header.varint(thread)
        header.varint(chunkSequence)
        header.varint(segmentOffset)
        header.varint(baseTicks)
        header.varint(regionSequence)
        header.varint(swiftTask)
        header.varint(task)
        header.varint(lastTask)
        header.varint(droppedBefore)
        writer.byte(UInt8(TC_REC_BATCH))
        writer.varint(UInt64(header.count + events.count))
        writer.raw(header.bytes)
        writer.raw(events)
    }

    package init(decoding r: inout ByteReader) throws(DecodeError) {
        process = try r.varint32("process")
        thread = try r.varint32("thread")
        chunkSequence = try r.varint32("chunk sequence")
        segmentOffset = try r.varint32("segment offset")
        baseTicks = try r.varint("base ticks")
        regionSequence = try r.varint("region sequence")
        swiftTask = try r.varint("swift task")
        task = try r.varint("task")
        lastTask = try r.varint("last task")
        droppedBefore = try r.varint("dropped before")
    }
}
