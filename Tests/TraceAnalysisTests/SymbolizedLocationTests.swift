import Testing
import TraceAnalysis
import TraceFormat

/// What llvm-symbolizer says about a frame's location, and what is kept:
/// a file and line only where the line is known.
@Suite struct SymbolizedLocationTests {
    @Test func aKnownLineKeepsItsFileAndLineWithoutTheColumn() {
        #expect(StackSymbolizer.knownLocation("/work/Sources/cafe/main.swift:42:7", function: "brew()") == "/work/Sources/cafe/main.swift:42")
        #expect(StackSymbolizer.knownLocation("./libio/./libio/fileops.c:1180:5", function: "_IO_file_write") == "./libio/./libio/fileops.c:1180")
    }

    @Test func codeWithoutLineInformationHasNoLocation() {
        // The Swift runtime's libraries ship without debug info.
        #expect(StackSymbolizer.knownLocation("??:0:0", function: "swift_job_run") == nil)
        // A compile unit claims code it has no lines for: its file at line 0.
        #expect(StackSymbolizer.knownLocation("crtstuff.c:0:0", function: "swift_job_run") == nil)
        #expect(StackSymbolizer.knownLocation("/work/Tests/main.swift:0:0", function: "TraceFixture_main") == nil)
        #expect(StackSymbolizer.knownLocation("??:12:0", function: "f") == nil)
        #expect(StackSymbolizer.knownLocation("garbage", function: "f") == nil)
    }

    @Test func crtstuffLinesAreBelievedOnlyForCrtstuffsOwnFunctions() {
        #expect(StackSymbolizer.knownLocation("/build/gcc/crtstuff.c:371:3", function: "swift::runJobInEstablishedExecutorContext(swift::Job*)") == nil)
        #expect(StackSymbolizer.knownLocation("/build/gcc/crtstuff.c:371:3", function: "__do_global_dtors_aux") == "/build/gcc/crtstuff.c:371")
    }

    /// Every client's image list has the kernel's vDSO, which is no file:
    /// its frames stay image+offset, and nothing says symbolization failed.
    @Test func theVDSOIsLeftAsImageAndOffsetWithoutAFailure() throws {
        let symbolizer = StackSymbolizer()
        try #require(symbolizer.unavailableReason == nil, "no llvm-symbolizer here: \(symbolizer.unavailableReason ?? "")")
        let vdso = ImageRecord(bias: 0x7fff_0000_0000, textLow: 0, textHigh: 0x1000, buildID: [],
                               path: "linux-vdso.so.1")
        let frames = symbolizer.symbolize([0x7fff_0000_0b66], images: [vdso])
        #expect(frames[0x7fff_0000_0b66]?.description == "linux-vdso.so.1+0xb66")
        #expect(symbolizer.unavailableReason == nil)
    }

    @Test func anAsyncFrameIsMarkedAsTheSwiftRuntimesBacktracesMarkThem() {
        var frame = StackSymbolizer.Frame(address: 0x1001, image: "/bin/cafe", offset: 0x1001, function: "brew()", location: "main.swift:3")
        #expect(frame.description == "brew() (main.swift:3)")
        frame.isAsync = true
        #expect(frame.description == "[async] brew() (main.swift:3)")
        frame.function = nil
        #expect(frame.description == "[async] /bin/cafe+0x1001")
    }
}
