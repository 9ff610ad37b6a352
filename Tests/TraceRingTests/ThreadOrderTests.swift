import TestSupport
import Testing
import TraceFormat
import TraceRing

@Suite(.tags(.concurrency)) struct ThreadOrderTests {
    func batch(thread: UInt32 = 1, _ sequence: UInt32, at offset: UInt32 = 0) -> BatchHeader {
        BatchHeader(process: 1, thread: thread, chunkSequence: sequence, segmentOffset: offset, baseTicks: 0,
                    regionSequence: 0, swiftTask: 0, droppedBefore: 0)
    }

    /// Offers (sequence, offset, finishes) batches of one byte each; returns
    /// the (sequence, offset) pairs handed on, in order.
    func run(_ order: inout ThreadOrder, _ offers: [(UInt32, UInt32, Bool)], endPass: Bool = false) -> [[UInt32]] {
        var out: [[UInt32]] = []
        for (sequence, offset, finishes) in offers {
            [UInt8(1)].withUnsafeBytes { bytes in
                order.offer(batch(sequence, at: offset), bytes, count: 1, finishesChunk: finishes) { header, _, _ in
                    out.append([header.chunkSequence, header.segmentOffset])
                }
            }
        }
        if endPass { order.endPass { header, _, _ in out.append([header.chunkSequence, header.segmentOffset]) } }
        return out
    }

    @Test func batchesInOrderPassStraightThrough() {
        var order = ThreadOrder()
        #expect(run(&order, [(0, 0, false), (0, 10, true), (1, 0, true), (2, 0, false)]) == [[0, 0], [0, 10], [1, 0], [2, 0]])
        #expect(order.bytesHeld == 0)
    }

    @Test func aChunkTakenBeforeItsPredecessorWaitsForIt() {
        var order = ThreadOrder()
        #expect(run(&order, [(0, 0, true), (2, 0, true), (3, 0, false)]).count == 1)
        #expect(order.bytesHeld == 2)
        #expect(run(&order, [(1, 0, true)]) == [[1, 0], [2, 0], [3, 0]])
        #expect(order.bytesHeld == 0)
    }

    @Test func theNextChunkWaitsUntilTheCurrentOneIsFinished() {
        var order = ThreadOrder()
        #expect(run(&order, [(0, 0, false), (1, 0, true)]) == [[0, 0]])
        #expect(run(&order, [(0, 40, true)]) == [[0, 40], [1, 0]])
    }

    @Test func heldBatchesGoOutAfterTwoPassesWithoutTheirPredecessor() {
        // A consumer attaching to a buffer in use sees a thread first at chunk 100.
        var order = ThreadOrder()
        #expect(run(&order, [(100, 0, true)], endPass: true).isEmpty)
        #expect(run(&order, [], endPass: true) == [[100, 0]])
        #expect(run(&order, [(101, 0, true)]) == [[101, 0]])
    }

    @Test func holdingIsBoundedAndCounted() {
        var order = ThreadOrder(holdLimit: 3)
        #expect(run(&order, [(5, 0, true), (7, 0, true), (6, 0, true)]).isEmpty)
        #expect(run(&order, [(8, 0, true)]) == [[5, 0], [6, 0], [7, 0], [8, 0]])
        #expect(order.overflows == 1)
    }

    @Test func flushHandsOnEverythingInOrder() {
        var order = ThreadOrder()
        _ = run(&order, [(3, 0, true), (2, 0, false)])
        var out: [UInt32] = []
        order.flush { header, _, _ in out.append(header.chunkSequence) }
        #expect(out == [2, 3])
    }
}
