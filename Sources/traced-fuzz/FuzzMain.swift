import TraceSystem
#if canImport(Glibc)
import Glibc
#endif

// Two builds of one program (docs/fuzzing.md):
//
// - the fuzzer build (`scripts/fuzz`: `--sanitize=fuzzer -Xswiftc -DLIBFUZZER`)
//   links libFuzzer, whose `main` drives the two functions below;
//   `traced-fuzz TARGET [libFuzzer flags] [corpus directories]`.
// - the ordinary build replays inputs without libFuzzer, so the test suite
//   runs every seed and every saved crash input: `traced-fuzz TARGET PATH...`
//   (files, or directories of files); `traced-fuzz seeds DIRECTORY` writes
//   the seed corpus; `traced-fuzz targets` names the targets.
//
// SwiftPM compiles a fuzzer build as a library (-parse-as-library) and
// links libFuzzer whole, `main` included, so the fuzzer build must not
// have a `main` of its own: hence the condition rather than a weak
// LLVMFuzzerRunDriver.

#if LIBFUZZER
/// libFuzzer calls this first with the command line: the target name is
/// taken out of it (libFuzzer would take it for a corpus directory).
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let arguments = argv.pointee!
    if argc.pointee > 1, let first = arguments[1], FuzzTarget(rawValue: String(cString: first)) != nil {
        setenv(FuzzTarget.environmentKey, first, 1)
        for i in 1..<Int(argc.pointee) { arguments[i] = arguments[i + 1] }
        argc.pointee -= 1
    }
    guard FuzzTarget.selected != nil else {
        let usage = "usage: traced-fuzz TARGET [libFuzzer flags] [corpus directories]; TARGET is one of \(FuzzTarget.names)\n"
        try? FileDescriptor.standardError.writeAll(Array(usage.utf8))
        exit(2)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected?.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "seeds", arguments.count == 2 {
            do {
                let written = try Seeds.write(into: arguments[1])
                print("wrote \(written) seed inputs into \(arguments[1])")
            } catch {
                fail("cannot write seeds into '\(arguments[1])': \(error)")
            }
            return
        }
        if arguments == ["targets"] {
            for target in FuzzTarget.allCases { print(target.rawValue) }
            return
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count >= 2 else {
            fail("usage: traced-fuzz TARGET PATH... | traced-fuzz seeds DIRECTORY | traced-fuzz targets; TARGET is one of \(FuzzTarget.names)")
        }
        var replayed = 0
        for path in arguments.dropFirst() {
            guard let inputs = InputFiles.list(path) else { fail("cannot read '\(path)'") }
            for file in inputs {
                guard let bytes = InputFiles.read(file) else { fail("cannot read '\(file)'") }
                bytes.withUnsafeBytes { target.run($0) }
                replayed += 1
            }
        }
        print("\(name): \(replayed) inputs replayed")
    }

    static func fail(_ message: String) -> Never {
        try? FileDescriptor.standardError.writeAll(Array("traced-fuzz: \(message)\n".utf8))
        exit(2)
    }
}
#endif
