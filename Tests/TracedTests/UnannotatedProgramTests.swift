import Foundation
import TestSupport
import Testing
import TraceFormat

/// A C program that knows nothing of traced, recorded by `--pid`: traced
/// writes its images (mappings and build ids) as a client writes its own,
/// so its CPU samples and blocking stacks resolve to its functions and
/// lines. Untagged, as ExecutionTests: the truths are the kernel's view.
@Suite struct UnannotatedProgramTests {
    /// Waits for a file to exist (after the session started), then loads
    /// `library`, says "loaded", and does 30 rounds of 30 ms spinning in
    /// `spin_in_c_program` and a wait in `block_in_c_program` (through the
    /// library's `wait_in_c_library`) for a child that answers 20 ms after
    /// it is asked, then exits.
    static let program = """
        #include <dlfcn.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <time.h>
        #include <unistd.h>

        static volatile uint64_t sink;

        static uint64_t now_ns(void) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
        }

        void spin_in_c_program(uint64_t ms) {
            uint64_t end = now_ns() + ms * 1000000u;
            while (now_ns() < end) {
                for (int i = 0; i < 10000; i++) sink += (uint64_t)i;
            }
        }

        void block_in_c_program(int (*wait)(int), int fd) {
            if (wait(fd) != 1) exit(2);
        }

        int main(int argc, char **argv) {
            int request[2], reply[2];
            if (argc != 3 || pipe(request) != 0 || pipe(reply) != 0) return 1;
            if (fork() == 0) {
                close(request[1]);
                close(reply[0]);
                char c;
                while (read(request[0], &c, 1) == 1) {
                    usleep(20000);
                    if (write(reply[1], &c, 1) != 1) return 0;
                }
                return 0;
            }
            close(request[0]);
            close(reply[1]);
            printf("ready\\n");
            fflush(stdout);
            while (access(argv[1], F_OK) != 0) usleep(1000);
            void *library = dlopen(argv[2], RTLD_NOW);
            int (*wait)(int) = library ? (int (*)(int))dlsym(library, "wait_in_c_library") : NULL;
            if (wait == NULL) return 4;
            printf("loaded\\n");
            fflush(stdout);
            for (int round = 0; round < 30; round++) {
                spin_in_c_program(30);
                if (write(request[1], "x", 1) != 1) return 3;
                block_in_c_program(wait, reply[0]);
            }
            return 0;
        }
        """

    /// Linked by lld, whose text segment's addresses are a page past its
    /// file offsets (GNU ld's are equal): its frames resolve only if
    /// traced read the load bias from the file's program headers.
    static let library = """
        #include <unistd.h>

        /* glibc's read keeps no frame of its own, so a frame-pointer walk
           from inside it passes over its caller (this function) to the
           caller's caller. */
        static int read_one_byte(int fd) {
            char c;
            return (int)read(fd, &c, 1);
        }

        int wait_in_c_library(int fd) {
            return read_one_byte(fd);
        }
        """

    /// The program and its library, built in `directory`; the program
    /// started, waiting for its go file.
    struct Program {
        let binary: String
        let library: String
        let go: String
        let process: Background

        init(in directory: TemporaryDirectory) throws {
            let source = directory.file("unannotated.c"), librarySource = directory.file("unannotated-library.c")
            binary = directory.file("unannotated")
            library = directory.file("libunannotated.so")
            go = directory.file("go")
            try UnannotatedProgramTests.program.write(toFile: source, atomically: true, encoding: .utf8)
            try UnannotatedProgramTests.library.write(toFile: librarySource, atomically: true, encoding: .utf8)
            let flags = ["-O0", "-fno-omit-frame-pointer", "-g"]
            let compiled = try Processes.run("/usr/bin/cc", flags + ["-o", binary, source])
            #expect(compiled.status == 0, "\(compiled.standardError)")
            #expect((ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/ld.lld")
            }, "ld.lld is not on PATH (it ships with the Swift toolchain)")
            let linked = try Processes.run("/usr/bin/cc", flags + ["-shared", "-fPIC", "-fuse-ld=lld", "-o", library, librarySource])
            #expect(linked.status == 0, "\(linked.standardError)")
            process = try Background(binary, [go, library])
            #expect(process.waitFor(line: "ready"))
        }

        func begin() {
            #expect(FileManager.default.createFile(atPath: go, contents: nil))
        }
    }

    @Test func aCProgramRecordedByPidResolvesToItsFunctionsInProfileAndReport() throws {
        let daemon = try TracedDaemon()
        let program = try Program(in: daemon.directory)
        defer { program.process.kill(SIGKILL); program.process.wait() }
        let started = try daemon.tracectl(["start", "c", "--pid", "\(program.process.pid)", "--cpu-samples", "999"])
        #expect(started.status == 0, "\(started.standardError)")
        program.begin()
        let run = program.process.wait()
        #expect(run.status == 0, "\(run.standardError)")
        #expect(try daemon.tracectl(["stop", "c"]).status == 0)
        let path = daemon.directory.file("c.trace")
        #expect(try daemon.tracectl(["fetch", "c", "-o", path]).status == 0)

        // Its CPU samples: the spinning function first.
        let top = try topOfCPUProfile(daemon, trace: path)
        #expect(top.first.contains("spin_in_c_program"), "\(top.listing)")

        // Where it waited longest: in read, called from the library loaded
        // after recording began (its image from the kernel's mmap record),
        // called from the program (its image from /proc/PID/maps), each
        // frame at its line in the source.
        let report = try daemon.tracectl(["report", path, "--json"])
        #expect(report.status == 0, "\(report.standardError)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.standardOutput.utf8)) as? [String: Any])
        let execution = try #require(document["execution"] as? [String: Any], "\(document.keys)")
        let heaviest = try #require((execution["blocking"] as? [[String: Any]])?.first, "\(execution)")
        #expect(heaviest["wait"] as? String == "io", "\(heaviest)")
        let stack = heaviest["stack"] as? [String] ?? []
        #expect(stack.contains { $0.hasPrefix("wait_in_c_library (") && $0.contains("unannotated-library.c:") }, "\(heaviest)")
        #expect(stack.contains { $0.hasPrefix("block_in_c_program (") && $0.contains("unannotated.c:") }, "\(heaviest)")
        #expect(stack.contains { $0.hasPrefix("main (") }, "\(heaviest)")
        let text = try daemon.tracectl(["report", path]).standardOutput
        #expect(text.contains("at block_in_c_program ("), "\(text)")
    }

    /// Each file of a session that rotates repeats the program's images,
    /// as it does its strings and stacks, so that it symbolizes alone: the
    /// files after the first hold them though they were written before.
    @Test func eachFileOfARotatedSessionHoldsTheProgramsImages() throws {
        let daemon = try TracedDaemon()
        let program = try Program(in: daemon.directory)
        defer { program.process.kill(SIGKILL); program.process.wait() }
        // A client's load (TraceFixture's) fills 64 KiB files meanwhile.
        let started = try daemon.tracectl(["start", "rotated", "--pid", "\(program.process.pid)", "--process", "TraceFixture",
                                           "--max-file-size", "64K", "--max-files", "1000"])
        #expect(started.status == 0, "\(started.standardError)")
        program.begin()
        #expect(program.process.waitFor(line: "loaded"))
        let load = try daemon.client(["threads": "2", "events": "100000"])
        #expect(load.wait().status == 0)
        #expect(program.process.wait().status == 0)
        let stopped = try SessionFigures(try daemon.json(["stop", "rotated"]))
        let directory = daemon.state + "/sessions/rotated"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".trace") }.sorted()
        #expect(files.count >= 3 && UInt64(files.count) == stopped.files, "\(files)")
        for (index, file) in files.enumerated() {
            let reader = TraceReader()
            try reader.read(path: directory + "/" + file) { _, _ in }
            let key = try #require(reader.processes.first { $0.value.pid == program.process.pid }?.key, "\(file)")
            let paths = Set((reader.images[key] ?? []).map(\.path))
            // Its maps were read when it joined, before the first file filled.
            #expect(paths.contains(program.binary) && paths.contains { $0.hasSuffix("/libc.so.6") }, "\(file): \(paths)")
            // The library came later, before the load began.
            if index == files.count - 1 { #expect(paths.contains(program.library), "\(file): \(paths)") }
            #expect((reader.images[key] ?? []).allSatisfy { $0.buildID.count == 20 }, "\(file)")
        }
    }
}
