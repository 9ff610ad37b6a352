/* perf_events.c — perf_event_open(2) and its ioctls for Swift; see trace_perf.h. */
#define _GNU_SOURCE
#include "trace_perf.h"

#include <linux/perf_event.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(TC_PERF_TYPE_SOFTWARE == PERF_TYPE_SOFTWARE, "PERF_TYPE_SOFTWARE");
_Static_assert(TC_PERF_TYPE_TRACEPOINT == PERF_TYPE_TRACEPOINT, "PERF_TYPE_TRACEPOINT");
_Static_assert(TC_PERF_COUNT_SW_DUMMY == PERF_COUNT_SW_DUMMY, "PERF_COUNT_SW_DUMMY");
_Static_assert(TC_PERF_COUNT_SW_CPU_CLOCK == PERF_COUNT_SW_CPU_CLOCK, "PERF_COUNT_SW_CPU_CLOCK");
_Static_assert(TC_PERF_SAMPLE_TID == PERF_SAMPLE_TID && TC_PERF_SAMPLE_TIME == PERF_SAMPLE_TIME &&
                   TC_PERF_SAMPLE_CPU == PERF_SAMPLE_CPU && TC_PERF_SAMPLE_RAW == PERF_SAMPLE_RAW &&
                   TC_PERF_SAMPLE_IDENTIFIER == PERF_SAMPLE_IDENTIFIER && TC_PERF_SAMPLE_CALLCHAIN == PERF_SAMPLE_CALLCHAIN,
               "PERF_SAMPLE_*");
_Static_assert(TC_PERF_CONTEXT_KERNEL == (uint64_t)PERF_CONTEXT_KERNEL && TC_PERF_CONTEXT_USER == (uint64_t)PERF_CONTEXT_USER &&
                   TC_PERF_CONTEXT_MAX == (uint64_t)PERF_CONTEXT_MAX,
               "PERF_CONTEXT_*");
_Static_assert(TC_PERF_FORMAT_LOST == PERF_FORMAT_LOST, "PERF_FORMAT_LOST");
_Static_assert(TC_PERF_RECORD_LOST == PERF_RECORD_LOST && TC_PERF_RECORD_COMM == PERF_RECORD_COMM &&
                   TC_PERF_RECORD_EXIT == PERF_RECORD_EXIT && TC_PERF_RECORD_FORK == PERF_RECORD_FORK &&
                   TC_PERF_RECORD_SAMPLE == PERF_RECORD_SAMPLE && TC_PERF_RECORD_MMAP2 == PERF_RECORD_MMAP2 &&
                   TC_PERF_RECORD_LOST_SAMPLES == PERF_RECORD_LOST_SAMPLES,
               "PERF_RECORD_*");
_Static_assert(TC_PERF_RECORD_MISC_COMM_EXEC == PERF_RECORD_MISC_COMM_EXEC, "PERF_RECORD_MISC_COMM_EXEC");
_Static_assert(TC_PERF_RECORD_MISC_MMAP_BUILD_ID == PERF_RECORD_MISC_MMAP_BUILD_ID, "PERF_RECORD_MISC_MMAP_BUILD_ID");
_Static_assert(sizeof(struct perf_event_header) == 8, "perf_event_header is 8 bytes");
_Static_assert(offsetof(struct perf_event_mmap_page, data_head) == TC_PERF_PAGE_DATA_HEAD, "data_head");
_Static_assert(offsetof(struct perf_event_mmap_page, data_tail) == TC_PERF_PAGE_DATA_TAIL, "data_tail");
_Static_assert(offsetof(struct perf_event_mmap_page, data_offset) == TC_PERF_PAGE_DATA_OFFSET, "data_offset");
_Static_assert(offsetof(struct perf_event_mmap_page, data_size) == TC_PERF_PAGE_DATA_SIZE, "data_size");

int tc_perf_event_open(const tc_perf_attr *attr, pid_t pid, int cpu) {
    struct perf_event_attr kernel;
    /* Every field and bit not set below must be 0: the kernel refuses
     * (E2BIG, EINVAL) what it does not know unless it is 0. */
    memset(&kernel, 0, sizeof(kernel));
    kernel.size = sizeof(kernel);
    kernel.type = attr->type;
    kernel.config = attr->config;
    kernel.sample_period = attr->sample_period;
    kernel.sample_type = attr->sample_type;
    kernel.read_format = attr->read_format;
    uint32_t flags = attr->flags;
    kernel.disabled = (flags & TC_PERF_ATTR_DISABLED) != 0;
    kernel.use_clockid = (flags & TC_PERF_ATTR_USE_CLOCKID) != 0;
    kernel.sample_id_all = (flags & TC_PERF_ATTR_SAMPLE_ID_ALL) != 0;
    kernel.task = (flags & TC_PERF_ATTR_TASK) != 0;
    kernel.comm = (flags & TC_PERF_ATTR_COMM) != 0;
    kernel.comm_exec = (flags & TC_PERF_ATTR_COMM_EXEC) != 0;
    kernel.mmap = (flags & TC_PERF_ATTR_MMAP) != 0;
    kernel.mmap2 = (flags & TC_PERF_ATTR_MMAP2) != 0;
    kernel.build_id = (flags & TC_PERF_ATTR_BUILD_ID) != 0;
    kernel.watermark = (flags & TC_PERF_ATTR_WATERMARK) != 0;
    kernel.freq = (flags & TC_PERF_ATTR_FREQ) != 0;
    kernel.exclude_callchain_kernel = (flags & TC_PERF_ATTR_EXCLUDE_CALLCHAIN_KERNEL) != 0;
    kernel.exclude_callchain_user = (flags & TC_PERF_ATTR_EXCLUDE_CALLCHAIN_USER) != 0;
    kernel.sample_max_stack = attr->sample_max_stack;
    kernel.wakeup_watermark = attr->wakeup_watermark;
    kernel.clockid = attr->clockid;
    return (int)syscall(SYS_perf_event_open, &kernel, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int tc_perf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int tc_perf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }
int tc_perf_set_output(int fd, int target) { return ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, target); }
int tc_perf_id(int fd, uint64_t *id) { return ioctl(fd, PERF_EVENT_IOC_ID, id); }
int tc_perf_set_filter(int fd, const char *filter) { return ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter); }
