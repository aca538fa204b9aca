// SPDX-License-Identifier: GPL-2.0-only
// Language-runtime figures from uprobes, attached by the agent to Python and Node.js processes
// only (agent/tracer/runtime_probes.cc, one attachment per process, so other programs that share
// libc or libuv never hit them):
//
//   pthread_cond_timedwait  enter/return  Python: time threads wait for the GIL (CPython waits on
//                                         a condition variable with a timeout for it)
//   uv__io_poll             enter/return  Node.js: the loop's main thread between two polls
//   uv__{stream,async,poll,server,udp}_io enter/return
//                                         Node.js: each I/O callback (they run inside the poll)
//
// Both add to runtime_stats[tgid], which the agent reads at each gather.
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline struct coroot_runtime_stats *stats_of(__u32 tgid)
{
  struct coroot_runtime_stats *s = bpf_map_lookup_elem(&runtime_stats, &tgid);
  if (s)
    return s;
  struct coroot_runtime_stats zero = {};
  bpf_map_update_elem(&runtime_stats, &tgid, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&runtime_stats, &tgid);
}

SEC("uprobe")
int coroot_python_cond_wait_enter(struct pt_regs *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u64 now = bpf_ktime_get_ns();
  bpf_map_update_elem(&python_waits, &id, &now, BPF_ANY);
  return 0;
}

SEC("uretprobe")
int coroot_python_cond_wait_exit(struct pt_regs *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u64 *start = bpf_map_lookup_elem(&python_waits, &id);
  if (!start)
    return 0;
  __u64 d = bpf_ktime_get_ns() - *start;
  bpf_map_delete_elem(&python_waits, &id);
  struct coroot_runtime_stats *s = stats_of(id >> 32);
  if (s)
    __sync_fetch_and_add(&s->python_lock_wait_ns, d); // threads of one process race here
  return 0;
}

// Only the main thread's loop is measured (worker_threads run loops of their own).
static __always_inline struct coroot_nodejs_loop *main_loop(__u32 *tgid)
{
  __u64 id = bpf_get_current_pid_tgid();
  *tgid = id >> 32;
  if ((__u32)id != *tgid)
    return 0;
  struct coroot_nodejs_loop *l = bpf_map_lookup_elem(&nodejs_loops, tgid);
  if (l)
    return l;
  struct coroot_nodejs_loop zero = {};
  bpf_map_update_elem(&nodejs_loops, tgid, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&nodejs_loops, tgid);
}

// Every stretch counts, however short, as in Coroot: the figure is the loop's busy time, which
// Coroot's inspection compares with wall time (0.7 s/s: a loop too busy to poll promptly).
static __always_inline void add_blocked(__u32 tgid, __u64 since, __u64 now)
{
  if (!since)
    return;
  struct coroot_runtime_stats *s = stats_of(tgid);
  if (s)
    __sync_fetch_and_add(&s->nodejs_blocked_ns, now - since);
}

// Timers, immediates and close callbacks run between two polls: that stretch ends here. The first
// poll of a process has no previous one (startup is not counted).
SEC("uprobe")
int coroot_nodejs_poll_enter(struct pt_regs *ctx)
{
  __u32 tgid;
  struct coroot_nodejs_loop *l = main_loop(&tgid);
  if (!l)
    return 0;
  add_blocked(tgid, l->poll_exit_ns, bpf_ktime_get_ns());
  l->poll_exit_ns = 0;
  return 0;
}

SEC("uretprobe")
int coroot_nodejs_poll_exit(struct pt_regs *ctx)
{
  __u32 tgid;
  struct coroot_nodejs_loop *l = main_loop(&tgid);
  if (l)
    l->poll_exit_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("uprobe")
int coroot_nodejs_io_cb_enter(struct pt_regs *ctx)
{
  __u32 tgid;
  struct coroot_nodejs_loop *l = main_loop(&tgid);
  if (l)
    l->cb_start_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("uretprobe")
int coroot_nodejs_io_cb_exit(struct pt_regs *ctx)
{
  __u32 tgid;
  struct coroot_nodejs_loop *l = main_loop(&tgid);
  if (!l)
    return 0;
  add_blocked(tgid, l->cb_start_ns, bpf_ktime_get_ns());
  l->cb_start_ns = 0;
  return 0;
}
