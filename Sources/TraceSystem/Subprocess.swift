import CTraceABI
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program to completion (posix_spawn), feeding it input and
/// collecting its output without deadlocking on full pipes.
package enum Subprocess {
    package struct Output: Sendable {
        /// Exit status, or 128 + signal number if it was killed.
        package var status: Int32
        package var standardOutput: [UInt8]
        package var standardError: [UInt8]
    }

    /// Runs `executable` (a path) with `arguments`, writing `input` to its stdin.
    package static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws(SystemError) -> Output {
        var stdinPipe: [CInt] = [-1, -1], stdoutPipe: [CInt] = [-1, -1], stderrPipe: [CInt] = [-1, -1]
        try Syscall.call("pipe2") { tc_pipe_cloexec(&stdinPipe) }
        try Syscall.call("pipe2") { tc_pipe_cloexec(&stdoutPipe) }
        try Syscall.call("pipe2") { tc_pipe_cloexec(&stderrPipe) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }
        guard rc == 0 else {
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
            throw SystemError("posix_spawn", subject: executable, errno: Errno(rawValue: rc))
        }
        var output = Output(status: 0, standardOutput: [], standardError: [])
        exchange(input: input, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: stderrPipe[0], into: &output)
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        output.status = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return output
    }

    private static func exchange(input: [UInt8], stdin: CInt, stdout: CInt, stderr: CInt, into output: inout Output) {
        var written = 0
        var stdinOpen = true
        if input.isEmpty { close(stdin); stdinOpen = false }
        var open: Set<CInt> = [stdout, stderr]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        signal(SIGPIPE, SIG_IGN)
        while !open.isEmpty || stdinOpen {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if stdinOpen { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            guard poll(&fds, nfds_t(fds.count), -1) >= 0 || errno == EINTR else { break }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdin {
                    let n = input.withUnsafeBytes { write(stdin, $0.baseAddress! + written, input.count - written) }
                    if n > 0 { written += n }
                    if n < 0 || written == input.count {
                        close(stdin)
                        stdinOpen = false
                    }
                } else {
                    let n = read(entry.fd, &buffer, buffer.count)
                    if n <= 0 {
                        close(entry.fd)
                        open.remove(entry.fd)
                    } else if entry.fd == stdout {
                        output.standardOutput.append(contentsOf: buffer[0..<n])
                    } else {
                        output.standardError.append(contentsOf: buffer[0..<n])
                    }
                }
            }
        }
    }

    /// The first executable named `name` in `directories`, then in $PATH.
    package static func find(_ name: String, in directories: [String] = []) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in directories + path.split(separator: ":").map(String.init) {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The directory holding the Swift toolchain's binaries (where `swift` resolves to).
    package static func toolchainDirectory() -> String? {
        guard let swift = find("swift") else { return nil }
        guard let resolved = realpath(swift, nil) else { return nil }
        defer { free(resolved) }
        let full = String(cString: resolved)
        guard let slash = full.lastIndex(of: "/") else { return nil }
        return String(full[..<slash])
    }
}
