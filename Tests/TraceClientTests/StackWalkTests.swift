import CTraceABI
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The stack walk (trace_stack.h) on hand-built frame records and async
/// contexts: a chain it can prove is the running task's is followed; any
/// other (unreadable, looping, not ending in the task) is dropped and the
/// walk goes on with the thread's stack, without ever faulting. One
/// capture in a real resumed async function, too.
@Suite struct StackWalkTests {
    @Test func aTaskChainIsFollowedFromTheAsyncFrameToTheTasksFirstContext() throws {
        let fake = FakeThread()
        defer { fake.release() }
        let (frames, walk) = fake.walk()
        #expect(frames == [FakeThread.userReturn, 0x2221, 0x3331])
        #expect(walk.sync_depth == 1)
        #expect(walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
        // The contexts' block; the task's first context is read in place.
        #expect(walk.page_reads == 1)
    }

    @Test func skippedFramesAndAFullBufferKeepTheChainCheckedToItsEnd() throws {
        let fake = FakeThread()
        defer { fake.release() }
        let (skipped, skippedWalk) = fake.walk(skip: 1)
        #expect(skipped == [0x2221, 0x3331])
        #expect(skippedWalk.sync_depth == 0)
        let (two, twoWalk) = fake.walk(capacity: 2)
        #expect(two == [FakeThread.userReturn, 0x2221])
        #expect(twoWalk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
    }

    @Test(arguments: BadAddress.allCases)
    func anUnreadableContextEndsTheChainAndTheWalkGoesOnWithTheThreadsStack(_ bad: BadAddress) throws {
        let fake = FakeThread()
        defer { fake.release() }
        let address = bad.make()
        defer { bad.release(address) }
        fake.contexts[1][0] = address
        let (frames, walk) = fake.walk()
        #expect(frames == FakeThread.syncFrames, "\(bad)")
        #expect(walk.sync_depth == CInt(FakeThread.syncFrames.count))
        #expect(walk.async_outcome == CInt(TC_ASYNC_UNREADABLE), "\(bad)")
    }

    @Test func anUnreadableFirstContextIsNotFollowed() throws {
        let fake = FakeThread()
        defer { fake.release() }
        fake.stack[FakeThread.asyncRecord - 1] = BadAddress.protNone.make()
        defer { BadAddress.protNone.release(fake.stack[FakeThread.asyncRecord - 1]) }
        let (frames, walk) = fake.walk()
        #expect(frames == FakeThread.syncFrames)
        #expect(walk.async_outcome == CInt(TC_ASYNC_UNREADABLE))
    }

    @Test func aLoopingChainIsDroppedAfterItsContextBoundWithoutRereadingItsPage() throws {
        let fake = FakeThread()
        defer { fake.release() }
        fake.contexts[1][0] = UInt(bitPattern: fake.contexts[0])
        let (frames, walk) = fake.walk()
        #expect(frames == FakeThread.syncFrames)
        #expect(walk.async_outcome == CInt(TC_ASYNC_NOT_A_TASK_CHAIN))
        #expect(walk.page_reads == 1)
    }

    @Test func aChainThatDoesNotEndInTheRunningTaskIsDropped() throws {
        // Its last context lies outside the task's allocation.
        let elsewhere = FakeThread()
        defer { elsewhere.release() }
        // A page of its own, so it cannot happen to follow the task on the heap.
        let page = try #require(mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(page, 4096) }
        let stray = page.assumingMemoryBound(to: UInt.self)
        stray[0] = 0
        stray[1] = FakeThread.runtimeLow + 0x500
        elsewhere.contexts[1][0] = UInt(bitPattern: stray)
        #expect(elsewhere.walk().0 == FakeThread.syncFrames)
        #expect(elsewhere.walk().1.async_outcome == CInt(TC_ASYNC_NOT_A_TASK_CHAIN))

        // Its last context is in the task but does not resume into the runtime.
        let foreign = FakeThread()
        defer { foreign.release() }
        foreign.root[1] = 0x9990
        #expect(foreign.walk().0 == FakeThread.syncFrames)

        // No task runs: nothing is taken for async.
        let taskless = FakeThread()
        defer { taskless.release() }
        let (frames, walk) = taskless.walk(task: 0)
        #expect(frames == FakeThread.syncFrames)
        #expect(walk.async_outcome == CInt(TC_ASYNC_NONE) && walk.page_reads == 0)
    }

    @Test func aChainSpreadOverMorePagesThanTheBudgetIsDroppedAfterExactlyTheBudget() throws {
        for (pages, followed) in [(Int(TC_ASYNC_PAGE_READS), true), (Int(TC_ASYNC_PAGE_READS) + 4, false)] {
            let fake = FakeThread()
            defer { fake.release() }
            let size = pages * 4096
            let mapping = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
            defer { munmap(mapping, size) }
            // One context at the start of each page, each parent in the page
            // above (no read covers it), then the task's first one.
            let words = mapping.assumingMemoryBound(to: UInt.self)
            for page in 0..<pages {
                let context = words + page * 512
                context[0] = page + 1 < pages ? UInt(bitPattern: words + (page + 1) * 512) : UInt(bitPattern: fake.root)
                context[1] = 0x4000 + UInt(page) * 0x10
            }
            fake.stack[FakeThread.asyncRecord - 1] = UInt(bitPattern: words)
            let (frames, walk) = fake.walk(capacity: 32)
            if followed {
                #expect(walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
                #expect(frames.count == 1 + pages)
                // Each page once; the task's first context is read in place.
                #expect(walk.page_reads == CInt(pages))
            } else {
                #expect(walk.async_outcome == CInt(TC_ASYNC_UNREADABLE))
                #expect(frames == FakeThread.syncFrames)
                #expect(walk.page_reads == CInt(TC_ASYNC_PAGE_READS))
            }
        }
    }

    @Test func aReadAlsoCopiesTheBlockBelowUnlessThatOneIsUnreadable() throws {
        let fake = FakeThread()
        defer { fake.release() }
        let size = 8 * 4096
        let mapping = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(mapping, size) }
        #expect(mprotect(mapping, 4096, PROT_NONE) == 0)
        // Contexts at the start of pages 7, 6, ..., 1, each the parent of
        // the one above it, as a task's allocator mostly lays them out.
        let words = mapping.assumingMemoryBound(to: UInt.self)
        for page in 1...7 {
            let context = words + page * 512
            context[0] = page > 1 ? UInt(bitPattern: words + (page - 1) * 512) : UInt(bitPattern: fake.root)
            context[1] = 0x4000 + UInt(page) * 0x10
        }
        fake.stack[FakeThread.asyncRecord - 1] = UInt(bitPattern: words + 7 * 512)
        let (frames, walk) = fake.walk()
        #expect(walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
        let resumes: [UInt] = (1...7).reversed().map { page in 0x4001 + UInt(page) * 0x10 }
        #expect(frames == [FakeThread.userReturn] + resumes)
        // Pages 7 and 6, 5 and 4, 3 and 2, page 1 alone (0 is unreadable).
        #expect(walk.page_reads == 4)
    }

    @Test func theTasksFirstContextCostsAReadOnlyWhenItIsPastTheTasksOwnBlocks() throws {
        // The task's first 128 bytes end its first page; its first context
        // (272 bytes in) is on the next page, which only a read may touch.
        let fake = FakeThread(taskOffset: 4096 - Int(TC_ASYNC_TASK_BYTES))
        defer { fake.release() }
        let (frames, walk) = fake.walk()
        #expect(frames == [FakeThread.userReturn, 0x2221, 0x3331])
        #expect(walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
        #expect(walk.page_reads == 2)
    }

    @Test func aCallSiteIsLearnedFromAChainThatProvedItselfAndTriedFirstAfterwards() throws {
        let fake = FakeThread()
        defer { fake.release() }
        let followed: [UInt] = [FakeThread.userReturn, 0x2221, 0x3331]
        // Nothing known yet: the frame is tried at once, and its site learned.
        let sites = UnsafeMutablePointer<tc_resume_sites>.allocate(capacity: 1)
        defer { sites.deallocate() }
        sites.initialize(to: tc_resume_sites())
        #expect(fake.walk(sites: sites).0 == followed)
        #expect(sites.pointee.site.0 == 0x5010 && sites.pointee.site.1 == 0)
        #expect(fake.walk(sites: sites).0 == followed)
        #expect(sites.pointee.site.1 == 0, "learned once")
        // Another site known: this frame waits for the second pass, is
        // followed there, and its site joins the other.
        sites.initialize(to: tc_resume_sites())
        sites.pointee.site.0 = 0x5999
        let (frames, walk) = fake.walk(sites: sites)
        #expect(frames == followed && walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
        #expect(sites.pointee.site.0 == 0x5999 && sites.pointee.site.1 == 0x5010)
        // A chain that does not prove itself teaches nothing.
        sites.initialize(to: tc_resume_sites())
        fake.contexts[1][0] = 0x10
        #expect(fake.walk(sites: sites).0 == FakeThread.syncFrames)
        #expect(sites.pointee.site.0 == 0)
    }

    @Test func aSyncFrameThatSavedTheContextRegisterIsNotTakenForTheAsyncFunction() throws {
        // As with the runtime linked into the executable: the user frame
        // returns "into the runtime" too, and the async function's context
        // register was saved just below its record.
        let fake = FakeThread()
        defer { fake.release() }
        fake.stack[9] = 0x5008
        fake.stack[7] = fake.stack[FakeThread.asyncRecord - 1]
        let (frames, walk) = fake.walk()
        #expect(frames == [0x5008, 0x2221, 0x3331])
        #expect(walk.sync_depth == 1 && walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
    }

    @Test func aFramePointerOutsideTheStackEndsTheWalk() throws {
        let fake = FakeThread()
        defer { fake.release() }
        fake.stack[FakeThread.executorRecord] = 0xdead_0000
        let (frames, _) = fake.walk(task: 0)
        #expect(frames == Array(FakeThread.syncFrames.prefix(3)))
    }

    @Test func aCaptureInAResumedAsyncFunctionFollowsItsAwaitingCallers() async throws {
        #expect(tc_stack_walk_prepare() == 0)
        let (count, walk) = await AwaitingCallers.outer()
        #expect(walk.async_outcome == CInt(TC_ASYNC_FOLLOWED))
        // outer's and inner's resume points at least, past the sync frames.
        #expect(walk.sync_depth >= 1 && count - Int(walk.sync_depth) >= 2, "\(count) frames, \(walk)")
        #expect(walk.page_reads >= 1 && walk.page_reads <= CInt(TC_ASYNC_PAGE_READS))
    }
}

/// Two async functions, each resumed after an await, the inner one capturing.
private enum AwaitingCallers {
    @inline(never)
    static func outer() async -> (Int, tc_stack_walk) {
        await Task.yield()
        let result = await inner()
        return result
    }

    @inline(never)
    static func inner() async -> (Int, tc_stack_walk) {
        await Task.yield()
        return capture()
    }

    @inline(never)
    static func capture() -> (Int, tc_stack_walk) {
        var low: UInt = 0, high: UInt = 0
        guard tc_current_stack_bounds(&low, &high) == 0 else { return (0, tc_stack_walk()) }
        var frames = [UInt](repeating: 0, count: Int(TC_STACK_CAPACITY))
        var walk = tc_stack_walk()
        let count = frames.withUnsafeMutableBufferPointer {
            tc_capture_stack($0.baseAddress, CInt(TC_STACK_CAPACITY), 0, low, high, &walk)
        }
        return (Int(count), walk)
    }
}

/// Addresses a context's parent must never be read through directly.
enum BadAddress: CaseIterable, CustomStringConvertible {
    case protNone, unmapped, misaligned, firstPage, kernel, nonCanonical

    var description: String {
        switch self {
        case .protNone: "a PROT_NONE page"
        case .unmapped: "an unmapped page"
        case .misaligned: "a misaligned heap address"
        case .firstPage: "an address in the first page"
        case .kernel: "a kernel address"
        case .nonCanonical: "a non-canonical address"
        }
    }

    func make() -> UInt {
        switch self {
        case .protNone:
            return UInt(bitPattern: mmap(nil, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        case .unmapped:
            // Mapped, then unmapped: nothing is there any more.
            let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            munmap(page, 4096)
            return UInt(bitPattern: page)
        case .misaligned: return UInt(bitPattern: malloc(64)) + 3
        case .firstPage: return 0x10
        case .kernel: return 0xffff_8000_0000_0000
        case .nonCanonical: return 0x8000_0000_0000_0000
        }
    }

    func release(_ address: UInt) {
        switch self {
        case .protNone: munmap(UnsafeMutableRawPointer(bitPattern: address), 4096)
        case .misaligned: free(UnsafeMutableRawPointer(bitPattern: address - 3))
        default: break
        }
    }
}

/// A thread's stack of four frame records and a task whose chain has two
/// contexts before its first one, in memory the test owns:
///
///     record at word 8:  user frame      → returns to userReturn
///     record at word 16: async frame     → returns into the "runtime"; word 15: contexts[0]
///     record at word 24: executor frame  → returns into the "runtime"; word 23: 0
///     record at word 32: thread start    → returns to 0x7777; saved fp 0 ends the walk
///
///     contexts[0] = [contexts[1], 0x2220] → contexts[1] = [root, 0x3330] → root = [0, runtime + 0x500]
final class FakeThread {
    static let runtimeLow: UInt = 0x5000, runtimeHigh: UInt = 0x6000
    static let userReturn: UInt = 0x1111
    static let asyncRecord = 16, executorRecord = 24
    /// The walk when no chain is followed: every return address.
    static let syncFrames: [UInt] = [userReturn, 0x5010, 0x5020, 0x7777]

    let stack = UnsafeMutablePointer<UInt>.allocate(capacity: 48)
    /// Two pages; the task object at `taskOffset` in them.
    let taskPages = UnsafeMutableRawPointer.allocate(byteCount: 8192, alignment: 4096)
    let task: UnsafeMutableRawPointer
    /// Both in one 64-byte block, so in one page as the runtime's contexts
    /// of a chain mostly are (a looping chain then costs one page read).
    let block = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    var contexts: [UnsafeMutablePointer<UInt>] {
        let words = block.assumingMemoryBound(to: UInt.self)
        return [words, words + 4]
    }
    /// Where the runtime puts a task's first context: after the task object.
    var root: UnsafeMutablePointer<UInt> { (task + 272).assumingMemoryBound(to: UInt.self) }

    init(taskOffset: Int = 0) {
        task = taskPages + taskOffset
        stack.initialize(repeating: 0, count: 48)
        taskPages.initializeMemory(as: UInt.self, repeating: 0, count: 1024)
        func address(_ word: Int) -> UInt { UInt(bitPattern: stack + word) }
        stack[8] = address(16)
        stack[9] = Self.userReturn
        stack[15] = UInt(bitPattern: contexts[0])
        stack[16] = address(24)
        stack[17] = 0x5010
        stack[24] = address(32)
        stack[25] = 0x5020
        stack[32] = 0
        stack[33] = 0x7777
        block.initializeMemory(as: UInt.self, repeating: 0, count: 8)
        contexts[0][0] = UInt(bitPattern: contexts[1])
        contexts[0][1] = 0x2220
        contexts[1][0] = UInt(bitPattern: root)
        contexts[1][1] = 0x3330
        root[0] = 0
        root[1] = Self.runtimeLow + 0x500
    }

    func release() {
        stack.deallocate()
        taskPages.deallocate()
        block.deallocate()
    }

    func walk(skip: Int = 0, capacity: Int = 16, task: UInt? = nil,
              sites: UnsafeMutablePointer<tc_resume_sites>? = nil) -> ([UInt], tc_stack_walk) {
        var env = tc_async_env(task: task ?? UInt(bitPattern: self.task), runtime_low: Self.runtimeLow,
                               runtime_high: Self.runtimeHigh, pid: getpid(), sites: sites)
        var frames = [UInt](repeating: 0, count: capacity)
        var walk = tc_stack_walk()
        let count = frames.withUnsafeMutableBufferPointer {
            tc_walk_stack(UInt(bitPattern: stack + 8), $0.baseAddress, CInt(capacity), CInt(skip),
                          UInt(bitPattern: stack), UInt(bitPattern: stack + 48), &env, &walk)
        }
        return (Array(frames.prefix(Int(count))), walk)
    }
}
