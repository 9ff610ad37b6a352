import CTraceABI
import TestSupport
import Testing
import TraceKernel

/// The decoder on switch samples with callchains and on CPU samples,
/// written by hand as Linux 6.18 writes them, and on callchains whose
/// sizes lie.
@Suite(.tags(.hostileInput)) struct CallchainDecoderTests {
    static let cpu = RecordDecoderTests.cpu
    static let switchID = RecordDecoderTests.switchID, sampleID: UInt64 = 104

    static let classifier = WaitClassifier(symbols: Kallsyms.symbols())

    static func decoder(classifier: WaitClassifier = classifier) throws -> RecordDecoder {
        RecordDecoder(cpu: cpu, layout: try Formats.layout(), switchID: switchID, wakingID: RecordDecoderTests.wakingID,
                      taskID: RecordDecoderTests.taskID, sampleID: sampleID, switchCallchains: true, classifier: classifier)
    }

    static func decode(_ bytes: [UInt8], classifier: WaitClassifier = classifier) throws -> RecordDecoder.Decoded {
        let decoder = try decoder(classifier: classifier)
        return bytes.withUnsafeBytes { decoder.decode($0) }
    }

    static func switchOut(state: Int64, chain: [UInt64], tid: Int32 = 501) -> [UInt8] {
        RecordBytes.sample(id: switchID, pid: 500, tid: tid, time: 77, cpu: UInt32(cpu), callchain: chain,
                           raw: RecordDecoderTests.switchRaw(previous: tid, state: state, next: 0))
    }

    /// A futex wait as recorded: the scheduler, the futex code, the syscall, the entry.
    static let futexKernel = ["__schedule", "schedule", "futex_do_wait", "futex_wait", "do_futex", "__x64_sys_futex",
                              "do_syscall_64", "entry_SYSCALL_64_after_hwframe"].map(Kallsyms.at)
    static let user: [UInt64] = [0x7f3a_1c2d_4e5f, 0x5555_5555_1234, 0x5555_5555_0a00]

    @Test func aSwitchWithACallchainFindsItsRawPartAfterTheChain() throws {
        let bytes = Self.switchOut(state: 0x1, chain: RecordBytes.chain(kernel: Self.futexKernel, user: Self.user))
        #expect(try Self.decode(bytes) == .record(.contextSwitch(ContextSwitch(
            time: 77, cpu: 1, previousTID: 501, previousPID: 500, previousState: .sleeping, preempted: false, nextTID: 0,
            wait: .lock, why: "futex", userStack: Self.user, stackCut: false))))
    }

    @Test func aSleepAPipeReadAndAWorkerAreToldApart() throws {
        let cases: [(state: Int64, kernel: [String], kind: WaitKind, why: String)] = [
            (0x1, ["__schedule", "schedule", "do_nanosleep", "__x64_sys_clock_nanosleep", "do_syscall_64"], .sleep, "clock_nanosleep"),
            (0x1, ["__schedule", "schedule", "anon_pipe_read", "vfs_read", "ksys_read", "do_syscall_64"], .io, "read"),
            (0x80, ["__schedule", "schedule", "worker_thread"], .none, "worker_thread"),
            (0x2, ["__schedule", "io_schedule", "folio_wait_bit"], .io, "folio_wait_bit"),
        ]
        for (state, kernel, kind, why) in cases {
            let bytes = Self.switchOut(state: state, chain: RecordBytes.chain(kernel: kernel.map(Kallsyms.at), user: nil))
            guard case .record(.contextSwitch(let change)) = try Self.decode(bytes) else {
                Issue.record("not a context switch: \(kernel)")
                continue
            }
            #expect(change.wait == kind, "\(kernel)")
            #expect(change.why == why, "\(kernel)")
            #expect(change.userStack.isEmpty)
        }
    }

    @Test func aRunnableThreadKeepsItsStackButIsNotClassified() throws {
        // Preempted inside a futex call: it waits for a CPU, not the lock.
        let bytes = Self.switchOut(state: 0x100, chain: RecordBytes.chain(kernel: Self.futexKernel, user: Self.user))
        guard case .record(.contextSwitch(let change)) = try Self.decode(bytes) else {
            Issue.record("not a context switch")
            return
        }
        #expect(change.preempted)
        #expect(change.wait == .none)
        #expect(change.why == "")
        #expect(change.userStack == Self.user)
    }

    @Test func withoutSymbolsOnlyTheStateClassifies() throws {
        // As kallsyms reads without CAP_SYSLOG: every address 0.
        let hidden = KernelSymbols(parsing: Array("0000000000000000 T _stext\n0000000000000000 t schedule\n".utf8))
        #expect(hidden.isEmpty)
        let stateOnly = WaitClassifier(symbols: hidden)
        let chain = RecordBytes.chain(kernel: Self.futexKernel, user: Self.user)
        for (state, kind) in [(Int64(0x1), WaitKind.none), (0x2, .io)] {
            guard case .record(.contextSwitch(let change)) = try Self.decode(Self.switchOut(state: state, chain: chain), classifier: stateOnly) else {
                Issue.record("not a context switch")
                continue
            }
            #expect(change.wait == kind)
            #expect(change.why == "")
            #expect(change.userStack == Self.user)
        }
    }

    @Test func aChainOfTheLimitsLengthIsFlaggedCut() throws {
        // As the kernel cuts it: 127 entries, the two markers counted.
        let long = RecordBytes.chain(kernel: Self.futexKernel, user: (0..<117).map { 0x5555_0000 + UInt64($0) * 16 })
        #expect(long.count == 127)
        guard case .record(.contextSwitch(let change)) = try Self.decode(Self.switchOut(state: 0x1, chain: long)) else {
            Issue.record("not a context switch")
            return
        }
        #expect(change.stackCut)
        #expect(change.userStack.count == 117)
        #expect(change.why == "futex")
        let shorter = Array(long.dropLast())
        guard case .record(.contextSwitch(let whole)) = try Self.decode(Self.switchOut(state: 0x1, chain: shorter)) else {
            Issue.record("not a context switch")
            return
        }
        #expect(!whole.stackCut)
    }

    @Test func otherContextsEndAPartAndAreNotRead() throws {
        // A guest's frames after the user's: not user frames.
        let guestKernel: UInt64 = 0xffff_ffff_ffff_f780  // PERF_CONTEXT_GUEST_KERNEL, (u64)-2176
        let chain = RecordBytes.chain(kernel: Self.futexKernel, user: Self.user) + [guestKernel, 0xffff_ffff_8100_0010]
        guard case .record(.contextSwitch(let change)) = try Self.decode(Self.switchOut(state: 0x1, chain: chain)) else {
            Issue.record("not a context switch")
            return
        }
        #expect(change.userStack == Self.user)
        #expect(change.why == "futex")
        // Entries before any marker belong to no part.
        let unmarked = [Kallsyms.at("__x64_sys_futex"), 0x5555_0000]
        guard case .record(.contextSwitch(let bare)) = try Self.decode(Self.switchOut(state: 0x1, chain: unmarked)) else {
            Issue.record("not a context switch")
            return
        }
        #expect(bare.userStack.isEmpty)
        #expect(bare.wait == .none)
        #expect(bare.why == "")
    }

    @Test func aCPUSampleGivesItsUserStackAndIdleOnesAreDropped() throws {
        let chain = RecordBytes.chain(kernel: nil, user: Self.user)
        let busy = RecordBytes.cpuSample(id: Self.sampleID, pid: 900, tid: 901, time: 5, cpu: UInt32(Self.cpu), callchain: chain)
        #expect(try Self.decode(busy) == .record(.sample(CPUSample(time: 5, cpu: 1, pid: 900, tid: 901, stack: Self.user))))
        let kernelThread = RecordBytes.cpuSample(id: Self.sampleID, pid: 12, tid: 12, time: 6, cpu: UInt32(Self.cpu), callchain: [])
        #expect(try Self.decode(kernelThread) == .record(.sample(CPUSample(time: 6, cpu: 1, pid: 12, tid: 12, stack: []))))
        let idle = RecordBytes.cpuSample(id: Self.sampleID, pid: 0, tid: 0, time: 7, cpu: UInt32(Self.cpu), callchain: [])
        #expect(try Self.decode(idle) == .idleSample)
        let cut = RecordBytes.cpuSample(id: Self.sampleID, pid: 900, tid: 901, time: 8, cpu: UInt32(Self.cpu),
                                        callchain: RecordBytes.chain(kernel: nil, user: [UInt64](repeating: 0x5555_0000, count: 126)))
        guard case .record(.sample(let sample)) = try Self.decode(cut) else {
            Issue.record("not a sample")
            return
        }
        #expect(sample.stackCut)
        #expect(sample.stack.count == 126)
        // Without a sampling event, its id is another event's.
        let plain = RecordDecoder(cpu: Self.cpu, layout: try Formats.layout(), switchID: Self.switchID,
                                  wakingID: RecordDecoderTests.wakingID, taskID: RecordDecoderTests.taskID)
        #expect(busy.withUnsafeBytes { plain.decode($0) } == .undecodable)
    }

    @Test func callchainSizesThatLieAreUndecodableNeverATrap() throws {
        let decoder = try Self.decoder()
        func decode(_ bytes: [UInt8]) -> RecordDecoder.Decoded { bytes.withUnsafeBytes { decoder.decode($0) } }
        let good = Self.switchOut(state: 0x1, chain: RecordBytes.chain(kernel: Self.futexKernel, user: Self.user))
        func withNR(_ nr: UInt64, _ bytes: [UInt8] = good) -> [UInt8] {
            var bytes = bytes
            withUnsafeBytes(of: nr) { bytes.replaceSubrange(40..<48, with: $0) }
            return bytes
        }
        let entries = UInt64(Self.futexKernel.count + Self.user.count + 2)
        // nr past the record, nr whose bytes overflow an Int, nr that
        // leaves no room for the raw size, nr that puts the raw size on an
        // entry (4 bytes read as a size past the record).
        for nr in [UInt64.max, 1 << 61, 1 << 63, UInt64(Int.max), entries + 100, UInt64(good.count / 8 - 5),
                   UInt64(good.count / 8 - 6), entries - 1] {
            #expect(decode(withNR(nr)) == .undecodable, "nr \(nr)")
        }
        // Fewer entries than written: the raw size is then read from an
        // entry and lies.
        #expect(decode(withNR(0)) == .undecodable)
        let samples = RecordBytes.cpuSample(id: Self.sampleID, pid: 900, tid: 901, time: 5, cpu: UInt32(Self.cpu),
                                            callchain: RecordBytes.chain(kernel: nil, user: Self.user))
        for nr in [UInt64.max, 1 << 61, entries] {
            #expect(decode(withNR(nr, samples)) == .undecodable, "nr \(nr)")
        }
        // Every prefix short of the raw part's end (the rest is padding),
        // and of the sample.
        let rawEnd = 48 + 8 * Int(entries) + 4 + 64
        for end in 0..<rawEnd { #expect(decode(Array(good[0..<end])) == .undecodable) }
        for end in 0..<samples.count { #expect(decode(Array(samples[0..<end])) == .undecodable) }
    }

    @Test func randomBytesBehindAValidHeaderNeverTrap() throws {
        // 10,000 records: a sample header, id and CPU, random sizes and entries.
        let decoder = try Self.decoder()
        var generator = SeededGenerator(seed: 0x6b65_726e_656c)
        var decoded = 0
        for round in 0..<10_000 {
            let words = Int.random(in: 7...75, using: &generator)  // at least 49 bytes: past nr
            var bytes: [UInt8] = []
            bytes.reserveCapacity(8 * words)
            for _ in 0..<words { withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) } }
            bytes.removeLast(Int.random(in: 0...7, using: &generator))
            let id = round % 2 == 0 ? Self.switchID : Self.sampleID
            withUnsafeBytes(of: TC_PERF_RECORD_SAMPLE) { bytes.replaceSubrange(0..<4, with: $0) }
            withUnsafeBytes(of: id) { bytes.replaceSubrange(8..<16, with: $0) }
            withUnsafeBytes(of: UInt32(Self.cpu)) { bytes.replaceSubrange(32..<36, with: $0) }
            // A small nr half the time, so that decoding goes past the chain.
            if round % 4 < 2 {
                let nr = UInt64.random(in: 0...UInt64((bytes.count - 48) / 8), using: &generator)
                withUnsafeBytes(of: nr) { bytes.replaceSubrange(40..<48, with: $0) }
            }
            if case .record = bytes.withUnsafeBytes({ decoder.decode($0) }) { decoded += 1 }
        }
        // Some CPU samples have a chain that fits and decode; the rest do not.
        #expect(decoded > 0)
    }
}
