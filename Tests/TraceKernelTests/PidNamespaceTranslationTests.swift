import TestSupport
import Testing
import TraceKernel

/// A collector in a pid namespace of its own reads the kernel's thread ids
/// in the tracepoints' raw fields and its own in the records' headers: the
/// decoders of two CPUs, sharing one translation, on records written by
/// hand as a container's traced receives them (the kernel's ids 1000 more
/// than the namespace's).
@Suite struct PidNamespaceTranslationTests {
    static let switchID = RecordDecoderTests.switchID, wakingID = RecordDecoderTests.wakingID

    let cpus: [RecordDecoder]

    init() throws {
        let layout = try Formats.layout()
        let translation = PidNamespaceTranslation()
        cpus = [0, 1].map { cpu in
            RecordDecoder(cpu: cpu, layout: layout, switchID: Self.switchID, wakingID: Self.wakingID,
                          taskID: RecordDecoderTests.taskID, translation: translation)
        }
    }

    /// A switch on `cpu`, sampled in thread `tid` of `pid` (the header's
    /// ids), of the kernel's `previous` to its `next`.
    func switchOut(cpu: Int, pid: Int32, tid: Int32, previous: Int32, state: Int64 = 0x1, next: Int32) -> ContextSwitch? {
        let bytes = RecordBytes.sample(id: Self.switchID, pid: pid, tid: tid, time: 1, cpu: UInt32(cpu),
                                       raw: RecordDecoderTests.switchRaw(previous: previous, state: state, next: next))
        guard case .record(.contextSwitch(let change)) = bytes.withUnsafeBytes({ cpus[cpu].decode($0) }) else { return nil }
        return change
    }

    /// The wakee of the kernel's thread `wakee`, woken by thread 9 of 5.
    func wakee(cpu: Int, _ wakee: Int32) -> Int32? {
        let raw = RecordBytes.raw(size: 36, [(2, [0x01]), (24, RecordBytes.le(wakee))])
        let bytes = RecordBytes.sample(id: Self.wakingID, pid: 5, tid: 9, time: 2, cpu: UInt32(cpu), raw: raw)
        guard case .record(.wakeup(let wakeup)) = bytes.withUnsafeBytes({ cpus[cpu].decode($0) }) else { return nil }
        #expect(wakeup.wakerTID == 9 && wakeup.wakerPID == 5)
        return wakeup.wakeeTID
    }

    @Test func aThreadIsKnownByItsIdHereFromItsFirstSwitchOutOnAnyCPU() throws {
        // 1008 has not switched out yet: its switch-in and wakeup name no
        // thread here.
        let first = try #require(switchOut(cpu: 0, pid: 5, tid: 7, previous: 1007, next: 1008))
        #expect(first.previousTID == 7 && first.previousPID == 5 && first.nextTID == 0)
        #expect(wakee(cpu: 1, 1008) == 0)
        // Learned on CPU 0, known on CPU 1, and the other way round.
        let second = try #require(switchOut(cpu: 1, pid: 5, tid: 8, previous: 1008, next: 1007))
        #expect(second.previousTID == 8 && second.previousPID == 5 && second.nextTID == 7)
        #expect(wakee(cpu: 0, 1008) == 8)
        #expect(wakee(cpu: 1, 1007) == 7)
        // The idle task is 0 in every namespace.
        #expect(try #require(switchOut(cpu: 0, pid: 0, tid: 0, previous: 0, next: 1008)).nextTID == 8)
    }

    @Test func aThreadsLastSwitchOutForgetsItsId() throws {
        _ = try #require(switchOut(cpu: 0, pid: 5, tid: 7, previous: 1007, next: 0))
        // The kernel has let go of it: the header says -1.
        let last = try #require(switchOut(cpu: 1, pid: -1, tid: -1, previous: 1007, state: 0x10, next: 0))
        #expect(last.previousTID == 7 && last.previousPID == nil && last.previousState == .dead)
        #expect(wakee(cpu: 0, 1007) == 0)
        // A zombie's last switch-out too.
        _ = try #require(switchOut(cpu: 0, pid: 6, tid: 6, previous: 1006, next: 0))
        #expect(try #require(switchOut(cpu: 0, pid: 6, tid: 6, previous: 1006, state: 0x20, next: 0)).previousTID == 6)
        #expect(wakee(cpu: 0, 1006) == 0)
    }

    @Test func aThreadOfAnotherNamespaceIsNoneHereEvenWithADepartedThreadsId() throws {
        _ = try #require(switchOut(cpu: 0, pid: 5, tid: 7, previous: 1007, next: 0))
        // Its last switch-out was lost; a task this namespace cannot see
        // (header 0) now has the kernel's id 1007.
        let other = try #require(switchOut(cpu: 0, pid: 0, tid: 0, previous: 1007, next: 0))
        #expect(other.previousTID == 0)
        #expect(wakee(cpu: 1, 1007) == 0)
    }
}
