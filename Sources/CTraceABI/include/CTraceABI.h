/* Umbrella header of the CTraceABI module (internal to this package). */
#include "trace_abi.h"
#include "trace_thread.h"
#include "trace_shims.h"
#include "trace_stack.h"
#include "trace_events.h"
#include "trace_perf.h"
