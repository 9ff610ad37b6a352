/*
 * trace_shims.h — what Swift's Glibc module cannot see, wrapped once.
 *
 * Swift's Glibc is built without _GNU_SOURCE, so memfd_create, file seals,
 * O_PATH, gettid, accept4, struct ucred, the CMSG macros, pthread_getattr_np,
 * sched_[gs]etaffinity and dl_iterate_phdr are invisible from Swift.
 * shims.c defines _GNU_SOURCE and exposes prefixed wrappers; each returns
 * what the C call returns (-1 with errno set on failure) and the Swift
 * syscall layer turns that into a typed error. Constants are re-exported
 * and checked with _Static_assert in shims.c.
 */
#ifndef TRACE_SHIMS_H
#define TRACE_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memfd and seals ---- */
#define TC_MFD_CLOEXEC 0x0001u
#define TC_MFD_ALLOW_SEALING 0x0002u
#define TC_F_SEAL_SEAL 0x0001
#define TC_F_SEAL_SHRINK 0x0002
#define TC_F_SEAL_GROW 0x0004
#define TC_F_SEAL_WRITE 0x0008

/* open(2)'s O_PATH: a descriptor that names a file without opening it. */
#define TC_O_PATH 010000000

int tc_memfd_create(const char *name, unsigned int flags);
int tc_add_seals(int fd, int seals);
int tc_get_seals(int fd);

/* ---- threads ---- */
pid_t tc_gettid(void);
/* pthread_setname_np / pthread_getname_np on the calling thread. */
int tc_set_thread_name(const char *name);
int tc_get_thread_name(char *buffer, size_t size);
/* Lowest and highest address of the calling thread's stack. Returns 0. */
int tc_current_stack_bounds(uintptr_t *low, uintptr_t *high);
/* Installs (once) a pthread key whose destructor calls `destructor` at exit
 * of every thread that called tc_arm_thread_exit(). */
int tc_thread_exit_key_create(void (*destructor)(void));
int tc_arm_thread_exit(void);
/* sched_getaffinity(2) of the calling thread: the lowest CPU it may run on,
 * or -1 with errno set. */
int tc_first_allowed_cpu(void);
/* sched_setaffinity(2): binds the calling thread to `cpu` alone (a CPU of
 * its allowed set). 0 or -1 with errno set. */
int tc_pin_to_cpu(int cpu);

/* pipe2(2) with O_CLOEXEC. */
int tc_pipe_cloexec(int fds[2]);

/* ---- files ---- */
/* sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writeback of the
 * dirty pages in [offset, offset + length) and returns without waiting, so
 * a later fsync has little left to do. */
int tc_start_writeback(int fd, int64_t offset, int64_t length);
/* posix_fadvise(2) with POSIX_FADV_DONTNEED: drops the clean cached pages
 * of [offset, offset + length) (pages still dirty or under writeback stay);
 * -1 with errno set on failure. */
int tc_drop_cached(int fd, int64_t offset, int64_t length);

/* ---- eventfd ---- */
#define TC_EFD_CLOEXEC 02000000
#define TC_EFD_NONBLOCK 04000
int tc_eventfd(unsigned int initial, int flags);

/* ---- sockets ---- */
int tc_accept4(int fd, int flags);
/* SO_PEERCRED of a connected Unix socket. Returns 0 or -1 with errno. */
int tc_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);
/* sendmsg with one payload and up to `count` descriptors as SCM_RIGHTS. */
ssize_t tc_send_with_fds(int fd, const void *bytes, size_t length, const int *fds, int count);
/* recvmsg with MSG_CMSG_CLOEXEC; stores up to `capacity` received
 * descriptors in `fds` and their number in `received`, closing any beyond
 * `capacity`. `truncated` is set when the kernel reported MSG_CTRUNC. */
ssize_t tc_receive_with_fds(int fd, void *bytes, size_t length, int *fds, int capacity,
                            int *received, int *truncated);

/* Unix stream sockets by path. Listening: binds `path` (which must not
 * exist), listens, and returns the socket, non-blocking and close-on-exec.
 * Connecting: returns a blocking, close-on-exec socket. -1 with errno, and
 * ENAMETOOLONG for a path that does not fit sockaddr_un. */
int tc_unix_listen(const char *path, int backlog);
int tc_unix_connect(const char *path);
/* The path a Unix socket is bound to (getsockname), NUL-terminated in
 * `path` (`capacity` bytes): its length, or -1 with errno (EINVAL for an
 * unnamed or abstract socket, ERANGE if it does not fit). */
int tc_unix_local_path(int fd, char *path, size_t capacity);

/* ---- epoll, signalfd, timerfd ---- */
#define TC_EPOLLIN 0x001u
#define TC_EPOLLOUT 0x004u
#define TC_EPOLLERR 0x008u
#define TC_EPOLLHUP 0x010u
#define TC_EPOLLRDHUP 0x2000u

typedef struct tc_poll_event {
    uint32_t events;
    uint64_t data;
} tc_poll_event;

int tc_epoll_create(void);
/* op: 1 add, 2 delete, 3 modify (EPOLL_CTL_*). */
int tc_epoll_control(int epoll, int op, int fd, uint32_t events, uint64_t data);
int tc_epoll_wait(int epoll, tc_poll_event *events, int capacity, int timeout_ms);
/* Blocks `count` signals in the calling thread (and the threads it creates
 * afterwards) and returns a signalfd that reports them. */
int tc_signalfd_for(const int *signals, int count);
/* The signal number of the next pending signal on a signalfd, 0 if none, -1 on error. */
int tc_signalfd_read(int fd);
/* A non-blocking monotonic timerfd firing every `interval_ns`. */
int tc_timerfd_periodic(uint64_t interval_ns);
/* Re-arms timerfd `fd` to fire every `interval_ns` from now; 0 or -1 (errno). */
int tc_timerfd_set(int fd, uint64_t interval_ns);

/* ---- clocks ---- */
/* 1 when CPUID reports an invariant TSC (leaf 0x80000007, EDX bit 8). */
int tc_cpu_has_invariant_tsc(void);
/* Selected by TraceClient when it creates its buffer (TC_CLOCK_*), before
 * tracing is enabled; read on every event. */
extern uint32_t tc_clock_kind_value;
static inline void tc_clock_kind_store(uint32_t kind) { __atomic_store_n(&tc_clock_kind_value, kind, __ATOMIC_RELEASE); }
static inline uint32_t tc_clock_kind_load(void) { return __atomic_load_n(&tc_clock_kind_value, __ATOMIC_RELAXED); }

static inline uint64_t tc_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t tc_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t tc_read_tsc(void) {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return tc_monotonic_ns();
#endif
}
/* The event timestamp: TSC / 64 when the TSC is invariant (~10-25 ns to
 * read here), CLOCK_MONOTONIC nanoseconds otherwise (~25-45 ns). */
static inline uint64_t tc_now(void) {
    if (__builtin_expect(tc_clock_kind_load() == 1 /* TC_CLOCK_TSC */, 1)) {
        return tc_read_tsc() >> 6 /* TC_TSC_SHIFT */;
    }
    return tc_monotonic_ns();
}

/* ---- images, to symbolize stacks by (the capture is in trace_stack.h) ---- */
/* One loaded ELF image, as dl_iterate_phdr reports it. */
typedef struct tc_image_info {
    const char *path;
    uintptr_t bias;
    /* Lowest and highest link-time address of its executable segments. */
    uintptr_t text_low;
    uintptr_t text_high;
    const uint8_t *build_id;
    uint32_t build_id_length;
} tc_image_info;

/* Calls `visit` for every loaded image; returns the number visited. */
int tc_for_each_image(void (*visit)(void *context, const tc_image_info *image), void *context);

/* ---- Swift concurrency ---- */
/* Exported by libswift_Concurrency with the Swift calling convention,
 * which for a call without arguments returning a pointer is the C one. */
extern void *swift_task_getCurrent(void) __attribute__((swiftcall));
/* The runtime's current task pointer (NULL outside a task): one call into
 * the concurrency runtime (~4 ns, a thread-local read there). */
static inline uintptr_t tc_swift_current_task(void) { return (uintptr_t)swift_task_getCurrent(); }
/* The runtime's task id for a task pointer from tc_swift_current_task. */
uint64_t tc_swift_task_id(uintptr_t task);

/* ---- process ---- */
/* Registers the fork handler that disables tracing in a child. */
void tc_install_fork_handler(void);
/* The value of TRACED_FILE at load time, or NULL (read by the constructor
 * that arms autostart). */
const char *tc_autostart_path(void);
/* atexit() with a plain C callback. */
int tc_atexit(void (*callback)(void));

#ifdef __cplusplus
}
#endif

#endif /* TRACE_SHIMS_H */
