/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Language-runtime figures per process (bpf/runtime.bpf.c -> agent/tracer/runtime_probes.cc).
 * Fixed layout, no implicit padding: both sides check the size. */
#ifndef COROOT_BPF_RUNTIME_ABI_H
#define COROOT_BPF_RUNTIME_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Cumulative per process (tgid); only grows while the process lives. */
struct coroot_runtime_stats {
  __u64 python_lock_wait_ns; /* threads' time in pthread_cond_timedwait (the GIL's wait) */
  __u64 nodejs_blocked_ns;   /* the event loop's time away from polling (callbacks, timers) */
};

/* The main thread's event loop of a Node.js process, between probes. 0 = not in that state. */
struct coroot_nodejs_loop {
  __u64 poll_exit_ns; /* when uv__io_poll last returned */
  __u64 cb_start_ns;  /* when the running I/O callback started */
};

#ifdef __cplusplus
static_assert(sizeof(struct coroot_runtime_stats) == 16, "coroot_runtime_stats layout");
#else
_Static_assert(sizeof(struct coroot_runtime_stats) == 16, "coroot_runtime_stats layout");
#endif

#endif
