// SPDX-License-Identifier: GPL-2.0-only
// Every task's CPU and block-I/O delays (the figures netlink taskstats gives per thread) in one
// run of a syscall program, started by the agent with BPF_PROG_RUN at each gather:
//
//   syscall   walks the kernel's task list (open-coded task iterator, all threads) under RCU and
//             writes a record per task into task_delays_out, which the agent reads in place
//
// iter/task (proc.bpf.c) gives the same records, but its walk looks each task up by pid, takes a
// reference and runs the program once per task: ~0.65 us per task here, against a list step
// and a few loads per task in this walk.
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

// The records of the last run, read in place by the agent (mmap). Defined here, not in maps.h, so
// that only this program's object has it; ProcTracer sizes it (task_walk_capacity) before load.
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, COROOT_TASK_DELAYS_MAX);
  __type(key, __u32);
  __type(value, struct coroot_task_delay);
} task_delays_out SEC(".maps");

// BPF_TASK_ITER_ALL_THREADS of kernel/bpf/task_iter.c (a kfunc argument: part of the ABI).
#define COROOT_TASK_ITER_ALL_THREADS 1

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task, unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_rcu_read_lock(void) __weak __ksym;
extern void bpf_rcu_read_unlock(void) __weak __ksym;

// Results of the last run: the records written, and whether there were more tasks than room.
// Globals (map memory), not locals: the verifier then needs no bound on the count per iteration.
__u32 coroot_task_delays_count = 0;
__u32 coroot_task_delays_overflow = 0;

SEC("syscall")
int coroot_task_delays_walk(void *ctx)
{
  struct bpf_iter_task it;
  struct task_struct *task;
  coroot_task_delays_count = 0;
  coroot_task_delays_overflow = 0;
  bpf_rcu_read_lock();
  bpf_iter_task_new(&it, NULL, COROOT_TASK_ITER_ALL_THREADS);
  while ((task = bpf_iter_task_next(&it))) {
    __u32 i = coroot_task_delays_count;
    struct coroot_task_delay *rec = bpf_map_lookup_elem(&task_delays_out, &i);
    if (!rec) {
      coroot_task_delays_overflow = 1;
      break;
    }
    rec->tid = task->pid;
    rec->tgid = task->tgid;
    rec->cpu_delay_ns = task->sched_info.run_delay;
    struct task_delay_info *d = task->delays;
    rec->blkio_delay_ns = d ? d->blkio_delay : 0;
    coroot_task_delays_count = i + 1;
  }
  bpf_iter_task_destroy(&it);
  bpf_rcu_read_unlock();
  return 0;
}
