import Testing
import TraceAnalysis

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

    @Test func anAsyncFrameIsMarkedAsTheSwiftRuntimesBacktracesMarkThem() {
        var frame = StackSymbolizer.Frame(address: 0x1001, image: "/bin/cafe", offset: 0x1001, function: "brew()", location: "main.swift:3")
        #expect(frame.description == "brew() (main.swift:3)")
        frame.isAsync = true
        #expect(frame.description == "[async] brew() (main.swift:3)")
        frame.function = nil
        #expect(frame.description == "[async] /bin/cafe+0x1001")
    }
}
