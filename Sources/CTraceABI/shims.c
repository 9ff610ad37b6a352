/* shims.c — GNU-only calls for Swift; see trace_shims.h. */
#define _GNU_SOURCE
#include "trace_shims.h"
#include "trace_thread.h"

#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

_Static_assert(TC_MFD_CLOEXEC == MFD_CLOEXEC, "MFD_CLOEXEC");
_Static_assert(TC_MFD_ALLOW_SEALING == MFD_ALLOW_SEALING, "MFD_ALLOW_SEALING");
_Static_assert(TC_F_SEAL_SEAL == F_SEAL_SEAL, "F_SEAL_SEAL");
_Static_assert(TC_F_SEAL_SHRINK == F_SEAL_SHRINK, "F_SEAL_SHRINK");
_Static_assert(TC_F_SEAL_GROW == F_SEAL_GROW, "F_SEAL_GROW");
_Static_assert(TC_F_SEAL_WRITE == F_SEAL_WRITE, "F_SEAL_WRITE");
_Static_assert(TC_O_PATH == O_PATH, "O_PATH");
_Static_assert(TC_EFD_CLOEXEC == EFD_CLOEXEC, "EFD_CLOEXEC");
_Static_assert(TC_EFD_NONBLOCK == EFD_NONBLOCK, "EFD_NONBLOCK");

_Thread_local tc_thread_state tc_thread;
uint32_t tc_control;
uint32_t tc_fork_epoch;
uint32_t tc_tasks_in_use;
uint32_t tc_clock_kind_value = TC_CLOCK_MONOTONIC_NS;
tc_buffer_header *tc_shared_header;

/* ---- memfd and seals ---- */

int tc_memfd_create(const char *name, unsigned int flags) { return memfd_create(name, flags); }
int tc_add_seals(int fd, int seals) { return fcntl(fd, F_ADD_SEALS, seals); }
int tc_get_seals(int fd) { return fcntl(fd, F_GET_SEALS); }

/* ---- threads ---- */

pid_t tc_gettid(void) { return (pid_t)syscall(SYS_gettid); }

int tc_set_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }
int tc_get_thread_name(char *buffer, size_t size) { return pthread_getname_np(pthread_self(), buffer, size); }

int tc_current_stack_bounds(uintptr_t *low, uintptr_t *high) {
    pthread_attr_t attr;
    void *address = NULL;
    size_t size = 0;
    int rc = pthread_getattr_np(pthread_self(), &attr);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    rc = pthread_attr_getstack(&attr, &address, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    *low = (uintptr_t)address;
    *high = (uintptr_t)address + size;
    return 0;
}

static pthread_key_t exit_key;
static void (*exit_destructor)(void);

static void run_exit_destructor(void *value) {
    (void)value;
    if (exit_destructor != NULL) {
        exit_destructor();
    }
}

int tc_thread_exit_key_create(void (*destructor)(void)) {
    exit_destructor = destructor;
    int rc = pthread_key_create(&exit_key, run_exit_destructor);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int tc_arm_thread_exit(void) {
    /* Any non-NULL value makes the destructor run at thread exit. */
    int rc = pthread_setspecific(exit_key, (void *)1);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

int tc_first_allowed_cpu(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) return cpu;
    }
    errno = ESRCH;
    return -1;
}

int tc_pin_to_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int tc_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

/* ---- files ---- */

int tc_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int tc_drop_cached(int fd, int64_t offset, int64_t length) {
    int rc = posix_fadvise(fd, (off_t)offset, (off_t)length, POSIX_FADV_DONTNEED);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return 0;
}

/* ---- eventfd ---- */

int tc_eventfd(unsigned int initial, int flags) { return eventfd(initial, flags); }

/* ---- sockets ---- */

int tc_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

int tc_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        return -1;
    }
    *pid = credentials.pid;
    *uid = credentials.uid;
    *gid = credentials.gid;
    return 0;
}

#define TC_MAX_FDS 8

ssize_t tc_send_with_fds(int fd, const void *bytes, size_t length, const int *fds, int count) {
    if (count < 0 || count > TC_MAX_FDS) {
        errno = EINVAL;
        return -1;
    }
    struct iovec iov = {.iov_base = (void *)bytes, .iov_len = length};
    union {
        char buffer[CMSG_SPACE(sizeof(int) * TC_MAX_FDS)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    return sendmsg(fd, &message, MSG_NOSIGNAL);
}

ssize_t tc_receive_with_fds(int fd, void *bytes, size_t length, int *fds, int capacity,
                            int *received, int *truncated) {
    struct iovec iov = {.iov_base = bytes, .iov_len = length};
    union {
        char buffer[CMSG_SPACE(sizeof(int) * TC_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof(control.buffer);
    *received = 0;
    *truncated = 0;
    ssize_t n = recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
    if (n < 0) {
        return n;
    }
    if (message.msg_flags & MSG_CTRUNC) {
        *truncated = 1;
    }
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL;
         header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
            continue;
        }
        size_t bytesOfFds = header->cmsg_len - CMSG_LEN(0);
        int count = (int)(bytesOfFds / sizeof(int));
        int *incoming = (int *)CMSG_DATA(header);
        for (int i = 0; i < count; i++) {
            int received_fd;
            memcpy(&received_fd, incoming + i, sizeof(int));
            if (*received < capacity) {
                fds[(*received)++] = received_fd;
            } else {
                /* A peer may send more than we asked for: never leak them. */
                close(received_fd);
            }
        }
    }
    return n;
}

static int fill_address(struct sockaddr_un *address, const char *path) {
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    size_t length = strlen(path);
    if (length >= sizeof(address->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(address->sun_path, path, length + 1);
    return 0;
}

int tc_unix_listen(const char *path, int backlog) {
    struct sockaddr_un address;
    if (fill_address(&address, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int tc_unix_local_path(int fd, char *path, size_t capacity) {
    struct sockaddr_un address;
    socklen_t length = sizeof(address);
    memset(&address, 0, sizeof(address));
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return -1;
    size_t offset = offsetof(struct sockaddr_un, sun_path);
    if (address.sun_family != AF_UNIX || length <= offset || address.sun_path[0] == 0) {
        errno = EINVAL;
        return -1;
    }
    size_t n = strnlen(address.sun_path, length - offset);
    if (n + 1 > capacity) {
        errno = ERANGE;
        return -1;
    }
    memcpy(path, address.sun_path, n);
    path[n] = 0;
    return (int)n;
}

int tc_unix_connect(const char *path) {
    struct sockaddr_un address;
    if (fill_address(&address, path) != 0) return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&address, sizeof(address));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

_Static_assert(TC_EPOLLIN == EPOLLIN && TC_EPOLLOUT == EPOLLOUT && TC_EPOLLERR == EPOLLERR && TC_EPOLLHUP == EPOLLHUP &&
                   TC_EPOLLRDHUP == EPOLLRDHUP,
               "epoll flags");

int tc_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int tc_epoll_control(int epoll, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event event = {.events = events, .data.u64 = data};
    return epoll_ctl(epoll, op, fd, &event);
}

int tc_epoll_wait(int epoll, tc_poll_event *events, int capacity, int timeout_ms) {
    struct epoll_event raw[64];
    if (capacity > 64) capacity = 64;
    int n = epoll_wait(epoll, raw, capacity, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int tc_signalfd_for(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int tc_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n == (ssize_t)sizeof(info)) return (int)info.ssi_signo;
    if (n < 0 && errno == EAGAIN) return 0;
    return -1;
}

int tc_timerfd_set(int fd, uint64_t interval_ns) {
    struct itimerspec spec = {
        .it_interval = {.tv_sec = (time_t)(interval_ns / 1000000000ull), .tv_nsec = (long)(interval_ns % 1000000000ull)},
        .it_value = {.tv_sec = (time_t)(interval_ns / 1000000000ull), .tv_nsec = (long)(interval_ns % 1000000000ull)},
    };
    return timerfd_settime(fd, 0, &spec, NULL);
}

int tc_timerfd_periodic(uint64_t interval_ns) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -1;
    if (tc_timerfd_set(fd, interval_ns) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* ---- clocks ---- */

int tc_cpu_has_invariant_tsc(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (__get_cpuid_max(0x80000000u, NULL) < 0x80000007u) {
        return 0;
    }
    __cpuid(0x80000007u, eax, ebx, ecx, edx);
    return (edx >> 8) & 1u;
#else
    return 0;
#endif
}

/* ---- images, to symbolize stacks by (the capture is in stack_capture.c) ---- */

typedef struct image_visit {
    void (*visit)(void *context, const tc_image_info *image);
    void *context;
    int count;
} image_visit;

static void find_build_id(struct dl_phdr_info *info, tc_image_info *image) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_NOTE) {
            continue;
        }
        const uint8_t *note = (const uint8_t *)(info->dlpi_addr + segment->p_vaddr);
        const uint8_t *end = note + segment->p_memsz;
        while (note + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *header = (const ElfW(Nhdr) *)note;
            const uint8_t *name = note + sizeof(ElfW(Nhdr));
            const uint8_t *descriptor = name + ((header->n_namesz + 3u) & ~3u);
            const uint8_t *next = descriptor + ((header->n_descsz + 3u) & ~3u);
            if (next > end) {
                break;
            }
            if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0) {
                image->build_id = descriptor;
                image->build_id_length = header->n_descsz;
                return;
            }
            note = next;
        }
    }
}

static int visit_image(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    image_visit *state = data;
    tc_image_info image = {0};
    image.path = info->dlpi_name;
    image.bias = (uintptr_t)info->dlpi_addr;
    uintptr_t low = UINTPTR_MAX, high = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type == PT_LOAD && (segment->p_flags & PF_X)) {
            if (segment->p_vaddr < low) low = segment->p_vaddr;
            if (segment->p_vaddr + segment->p_memsz > high) high = segment->p_vaddr + segment->p_memsz;
        }
    }
    if (high == 0) {
        return 0;
    }
    image.text_low = low;
    image.text_high = high;
    find_build_id(info, &image);
    state->visit(state->context, &image);
    state->count++;
    return 0;
}

int tc_for_each_image(void (*visit)(void *context, const tc_image_info *image), void *context) {
    image_visit state = {.visit = visit, .context = context, .count = 0};
    dl_iterate_phdr(visit_image, &state);
    return state.count;
}

/* ---- Swift concurrency ---- */

/* Exported by libswift_Concurrency with the Swift calling convention; a
 * pointer in and a 64-bit integer out use the same registers as C. */
extern uint64_t swift_task_getJobTaskId(void *job) __attribute__((swiftcall));

uint64_t tc_swift_task_id(uintptr_t task) {
    return task == 0 ? 0 : swift_task_getJobTaskId((void *)task);
}

/* ---- process ---- */

static void reset_in_child(void) {
    /* The child shares the parent's buffer mapping: writing into it would
     * corrupt the parent's chunks. Forget it; tracing restarts only if the
     * child asks for it. The child has one thread: this one. */
    __atomic_store_n(&tc_control, 0, __ATOMIC_RELAXED);
    memset(&tc_thread, 0, sizeof(tc_thread));
    /* Until tracing starts again here: process_vm_readv needs the child's pid. */
    tc_stack_walk_forget();
    __atomic_fetch_add(&tc_fork_epoch, 1, __ATOMIC_RELEASE);
}

void tc_install_fork_handler(void) {
    static int installed;
    if (__atomic_exchange_n(&installed, 1, __ATOMIC_ACQ_REL) == 0) {
        pthread_atfork(NULL, NULL, reset_in_child);
    }
}

static const char *autostart_path;

const char *tc_autostart_path(void) { return autostart_path; }

/* Runs when the library is loaded. A process started with TRACED_FILE set
 * traces itself from its first annotation without any code change; any
 * other connects to the traced daemon at its first annotation, unless
 * TRACED_DAEMON=off. Only the control word is touched here: a nonzero word
 * makes the first annotation call into Swift, which does the rest. */
__attribute__((constructor)) static void arm_first_event(void) {
    const char *path = getenv("TRACED_FILE");
    if (path != NULL && path[0] != '\0') {
        autostart_path = strdup(path);
        if (autostart_path != NULL) {
            __atomic_store_n(&tc_control, TC_CONTROL_AUTOSTART, __ATOMIC_RELEASE);
        }
        return;
    }
    const char *daemon = getenv("TRACED_DAEMON");
    if (daemon == NULL || strcmp(daemon, "off") != 0) {
        __atomic_store_n(&tc_control, TC_CONTROL_CONNECT, __ATOMIC_RELEASE);
    }
}

int tc_atexit(void (*callback)(void)) { return atexit(callback); }
