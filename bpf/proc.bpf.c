// SPDX-License-Identifier: GPL-2.0-only
// Process lifecycle from tracepoints (no kprobes/fentry on the target kernels):
//
//   task/task_newtask          a new process (CLONE_THREAD clones are threads: left out)
//   sched/sched_process_exit   the exit of a process's last thread (per-thread exits are left out)
//   oom/mark_victim            the OOM killer chose a task: its process's exit is an OOM kill
//   cgroup_attach_task         (tp_btf) a process was moved to another cgroup: runc, systemd and
//                              shells start a container's first process and move it before it
//                              execs, so its fork was seen in the old cgroup
//   iter/task                  every task's CPU and block-I/O delays in one read() (instead of a
//                              netlink taskstats round trip per process): the fallback of the
//                              cheaper task walk (task_delays.bpf.c, same ProcTracer instance)
//
// The agent learns new pids at once (and their cgroup, which outlives a short-lived process), so
// bursts of short-lived processes are attributed to their container between /proc scans.
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define CLONE_THREAD_ 0x00010000

// Kernel 6.18 gave sched_process_exit a context struct of its own with `group_dead` (older
// kernels share trace_event_raw_sched_process_template, without it). A local flavour, matched by
// CO-RE when the running kernel has it.
struct trace_event_raw_sched_process_exit___v618 {
  bool group_dead;
} __attribute__((preserve_access_index));

static __always_inline void emit(__u32 type, __u32 pid, __u64 cgroup_id, __u32 exit_code, __u32 flags)
{
  struct coroot_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
  if (!e) {
    __u32 zero = 0;
    __u64 *v = bpf_map_lookup_elem(&proc_drops, &zero);
    if (v)
      *v += 1;
    return;
  }
  e->ts_ns = bpf_ktime_get_boot_ns();
  e->cgroup_id = cgroup_id;
  e->type = type;
  e->pid = pid;
  e->exit_code = exit_code;
  e->flags = flags;
  bpf_ringbuf_submit(e, 0); // wake the reader: it should read /proc/<pid> while the process lives
}

SEC("tracepoint/task/task_newtask")
int coroot_task_newtask(struct trace_event_raw_task_newtask *ctx)
{
  if (ctx->clone_flags & CLONE_THREAD_)
    return 0;
  // The child inherits the parent's (current) cgroup; only clone3(CLONE_INTO_CGROUP) differs,
  // and the agent reads /proc/<pid>/cgroup for a child that still lives.
  emit(COROOT_PROC_START, (__u32)ctx->pid, bpf_get_current_cgroup_id(), 0, 0);
  return 0;
}

// Whether the exiting thread is its process's last one.
static __always_inline bool group_dead(void *ctx, struct task_struct *task)
{
  struct trace_event_raw_sched_process_exit___v618 *c = ctx;
  if (bpf_core_field_exists(c->group_dead))
    return BPF_CORE_READ(c, group_dead);
  // Older kernels: do_exit() has already decremented signal->live when the tracepoint fires.
  return BPF_CORE_READ(task, signal, live.counter) == 0;
}

SEC("tracepoint/sched/sched_process_exit")
int coroot_sched_process_exit(void *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id, tgid = id >> 32;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  // mark_victim names a thread (the one holding the mm), not always the leader: carry the mark
  // over to the process.
  if (tid != tgid && bpf_map_lookup_elem(&oom_victims, &tid)) {
    __u64 one = 1;
    bpf_map_update_elem(&oom_victims, &tgid, &one, BPF_ANY);
    bpf_map_delete_elem(&oom_victims, &tid);
  }
  if (!group_dead(ctx, task))
    return 0;
  __u32 flags = 0;
  if (bpf_map_lookup_elem(&oom_victims, &tgid)) {
    flags |= COROOT_PROC_OOM_KILLED;
    bpf_map_delete_elem(&oom_victims, &tgid);
  }
  emit(COROOT_PROC_EXIT, tgid, bpf_get_current_cgroup_id(), (__u32)BPF_CORE_READ(task, exit_code), flags);
  return 0;
}

SEC("tracepoint/oom/mark_victim")
int coroot_oom_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
  __u32 pid = (__u32)ctx->pid;
  __u64 one = 1;
  bpf_map_update_elem(&oom_victims, &pid, &one, BPF_ANY);
  return 0;
}

// BTF-typed, for the task itself: a write to cgroup.procs is reported once, by the process's
// leader, but v1's `tasks` (and v2's cgroup.threads) move single threads, which are no process
// to the agent (each would cost it a /proc read): left out here.
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(coroot_cgroup_attach_task, struct cgroup *dst_cgrp, const char *path, struct task_struct *task,
             bool threadgroup)
{
  if (task->pid != task->tgid)
    return 0;
  emit(COROOT_PROC_MOVE, (__u32)task->pid, 0, 0, 0);
  return 0;
}

// The figures netlink taskstats gives per thread (kernel/delayacct.c): the scheduler's run-queue
// wait, kept whether or not delay accounting is on, and the block-I/O wait, kept in task->delays
// (allocated at fork while kernel.task_delayacct is 1).
SEC("iter/task")
int coroot_task_delays_iter(struct bpf_iter__task *ctx)
{
  struct task_struct *task = ctx->task;
  if (!task)
    return 0;
  // Direct loads (the iterator's task is a trusted BTF pointer; CO-RE still relocates the
  // offsets): with a bpf_probe_read_kernel call per field a visit took 147 ns instead of 113.
  struct coroot_task_delay rec = {};
  rec.tid = task->pid;
  rec.tgid = task->tgid;
  rec.cpu_delay_ns = task->sched_info.run_delay;
  struct task_delay_info *d = task->delays;
  if (d)
    rec.blkio_delay_ns = d->blkio_delay;
  bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
  return 0;
}
