import Testing
import TraceKernel

/// The wait rule on kernel frames as Linux 6.18 records them at a
/// switch-out (innermost first), and the symbol table it names them with.
@Suite struct WaitClassifierTests {
    static func classify(_ frames: [String], _ state: TaskState = .sleeping) -> WaitCause {
        WaitClassifier.classify(names: frames, state: state)
    }

    static let entry = ["do_syscall_64", "entry_SYSCALL_64_after_hwframe"]

    @Test func theSyscallNamesTheWait() {
        #expect(Self.classify(["__schedule", "schedule", "futex_do_wait", "__futex_wait", "futex_wait", "do_futex",
                               "__x64_sys_futex"] + Self.entry) == WaitCause(.lock, "futex"))
        #expect(Self.classify(["__schedule", "schedule", "do_nanosleep", "hrtimer_nanosleep", "common_nsleep",
                               "__x64_sys_clock_nanosleep"] + Self.entry) == WaitCause(.sleep, "clock_nanosleep"))
        #expect(Self.classify(["__schedule", "schedule", "schedule_hrtimeout_range_clock", "do_epoll_wait",
                               "__x64_sys_epoll_wait"] + Self.entry) == WaitCause(.io, "epoll_wait"))
        #expect(Self.classify(["__schedule", "schedule", "schedule_timeout", "unix_stream_read_generic", "unix_stream_recvmsg",
                               "sock_recvmsg", "__sys_recvfrom", "__x64_sys_recvfrom"] + Self.entry) == WaitCause(.io, "recvfrom"))
        #expect(Self.classify(["__schedule", "schedule", "do_wait", "kernel_wait4", "__do_sys_wait4"] + Self.entry)
            == WaitCause(.syscall, "wait4"))
        #expect(Self.classify(["__schedule", "do_task_dead", "do_exit", "__x64_sys_exit", "x64_sys_call"] + Self.entry, .dead)
            == WaitCause(.syscall, "exit"))
        #expect(Self.classify(["schedule", "__ia32_sys_pause"]) == WaitCause(.sleep, "pause"))
        #expect(Self.classify(["schedule", "__se_sys_io_uring_enter"]) == WaitCause(.io, "io_uring_enter"))
    }

    @Test func aReadWhoseSyscallFrameWasTailCalledAwayIsNamedByItsKsysFrame() {
        // __x64_sys_read jumps to ksys_read: no frame of its own.
        #expect(Self.classify(["__schedule", "schedule", "anon_pipe_read", "vfs_read", "ksys_read"] + Self.entry)
            == WaitCause(.io, "read"))
        #expect(Self.classify(["schedule", "anon_pipe_write", "vfs_write", "ksys_write"] + Self.entry) == WaitCause(.io, "write"))
        #expect(Self.classify(["schedule", "ksys_msgctl.constprop.0"]) == WaitCause(.syscall, "msgctl"))
    }

    @Test func theOutermostSyscallFrameWins() {
        // ksys_read inside __x64_sys_read, and a syscall-named helper
        // called from another syscall: the entry is the outermost.
        #expect(Self.classify(["schedule", "ksys_read", "__x64_sys_read"] + Self.entry) == WaitCause(.io, "read"))
        #expect(Self.classify(["schedule", "__x64_sys_futex", "__x64_sys_nanosleep"]) == WaitCause(.sleep, "nanosleep"))
    }

    @Test func anUninterruptibleWaitIsIOUnlessOnAFutex() {
        let fsync = ["__schedule", "schedule", "io_schedule", "bit_wait_io", "__wait_on_bit", "out_of_line_wait_on_bit",
                     "fsync_buffers_list", "ext4_sync_file", "do_fsync", "__x64_sys_fsync"] + Self.entry
        #expect(Self.classify(fsync, .uninterruptible) == WaitCause(.io, "fsync"))
        #expect(Self.classify(["schedule", "__x64_sys_mmap"], .uninterruptible) == WaitCause(.io, "mmap"))
        #expect(Self.classify(["schedule", "__x64_sys_nanosleep"], .uninterruptible) == WaitCause(.io, "nanosleep"))
        #expect(Self.classify(["schedule", "__x64_sys_futex"], .uninterruptible) == WaitCause(.lock, "futex"))
    }

    @Test func withoutASyscallTheInnermostKernelFunctionExplains() {
        // A page fault waiting on the page cache: io_schedule says I/O.
        #expect(Self.classify(["__schedule", "schedule", "io_schedule", "folio_wait_bit_common", "filemap_fault",
                               "handle_mm_fault", "exc_page_fault", "asm_exc_page_fault"]) == WaitCause(.io, "folio_wait_bit_common"))
        #expect(Self.classify(["__schedule", "schedule", "schedule_timeout", "io_schedule_timeout", "wait_for_completion_io"])
            == WaitCause(.io, "wait_for_completion_io"))
        // A kernel thread's idle loop.
        #expect(Self.classify(["__schedule", "schedule", "worker_thread", "kthread", "ret_from_fork"], .idle)
            == WaitCause(.none, "worker_thread"))
        #expect(Self.classify(["__schedule", "schedule", "rcu_gp_kthread"], .uninterruptible) == WaitCause(.io, "rcu_gp_kthread"))
        // perf's and the tracepoint's frames are never the reason.
        #expect(Self.classify(["perf_trace_sched_switch", "__perf_event_overflow", "__traceiter_sched_switch", "__schedule",
                               "schedule_preempt_disabled", "kswapd"]) == WaitCause(.none, "kswapd"))
        #expect(Self.classify(["__schedule", "schedule"]) == WaitCause.unknown)
        #expect(Self.classify([]) == WaitCause.unknown)
        #expect(Self.classify([], .uninterruptible) == WaitCause(.io, ""))
    }

    @Test func aBareSyscallPrefixIsNoSyscall() {
        #expect(Self.classify(["schedule", "__x64_sys_", "ksys_"]) == WaitCause(.none, "__x64_sys_"))
    }

    @Test func symbolsAreTheTextOnesSortedAndFoundByAddress() {
        let symbols = Kallsyms.symbols()
        #expect(symbols.count == Kallsyms.functions.count + 1)
        for function in Kallsyms.functions {
            #expect(symbols.name(containing: Kallsyms.at(function)) == function)
        }
        // The first byte of a function is its own; the byte before is the previous one's.
        let futex = Kallsyms.at("__x64_sys_futex") - 0x10
        #expect(symbols.name(containing: futex) == "__x64_sys_futex")
        #expect(symbols.name(containing: futex - 1) == "x64_sys_call")
        // Below the first: a user address. Far above: the last function (a module's).
        #expect(symbols.name(containing: 0x7fff_0000_1000) == nil)
        #expect(symbols.name(containing: Kallsyms.base - 1) == nil)
        #expect(symbols.name(containing: 0xffff_ffff_c000_1004) == "module_function")
        #expect(symbols.name(containing: .max) == "module_function")
        // The data symbol was left out: its address is the function's below it.
        #expect(symbols.name(containing: Kallsyms.base + 0x8000) == Kallsyms.functions.last)
    }

    @Test func kallsymsLinesThatDoNotParseAreSkippedAndSharedAddressesKeepTheFirstName() {
        let text = """
            ffffffff81000000 T _stext
            ffffffff81000000 T _text
            ffffffff81000100 T
            zzzz T bad_address
            ffffffff8100020000000000 T too_long
            ffffffff81000300 Tnospace
            ffffffff81000400 W weak_one
            ffffffff81000500 t last

            """
        let symbols = KernelSymbols(parsing: Array(text.utf8))
        #expect(symbols.count == 2)
        #expect(symbols.name(containing: 0xffff_ffff_8100_0000) == "_stext")
        #expect(symbols.name(containing: 0xffff_ffff_8100_0450) == "_stext")
        #expect(symbols.name(containing: 0xffff_ffff_8100_0500) == "last")
        // No newline at the end, and nothing at all.
        #expect(KernelSymbols(parsing: Array("ffffffff81000000 t f".utf8)).name(containing: 0xffff_ffff_8100_0001) == "f")
        #expect(KernelSymbols(parsing: []).isEmpty)
    }

    @Test func theRunningKernelsSymbolsNameItsSyscallEntries() throws {
        // Root reads real addresses (kernel.kptr_restrict 0 or 1).
        let classifier = try KernelCollectorTests.classifier.get()
        let symbols = classifier.symbols
        #expect(symbols.count > 10_000)
        var futex: UInt64?
        for index in 0..<symbols.count where symbols.name(at: index) == "__x64_sys_futex" { futex = symbols.address(at: index) }
        let entry = try #require(futex)
        #expect(classifier.classify(addresses: [entry + 4], state: .sleeping) == WaitCause(.lock, "futex"))
    }

    @Test func anUnreadableKallsymsSaysSo() {
        #expect(throws: KernelError.self) { try KernelSymbols.load(from: "/nonexistent/kallsyms") }
        do {
            _ = try KernelSymbols.load(from: "/nonexistent/kallsyms")
        } catch {
            #expect(error.description == "open('/nonexistent/kallsyms'): No such file or directory "
                + "(the kernel's symbols name what a sleeping thread waits for: is /proc mounted?)")
        }
    }
}
