/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Process lifecycle events (bpf/proc.bpf.c -> agent/tracer/proc_tracer.cc). Fixed layout, no
 * implicit padding: both sides check the size. */
#ifndef COROOT_BPF_PROC_ABI_H
#define COROOT_BPF_PROC_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

enum coroot_proc_event_type {
  COROOT_PROC_START = 1, /* task/task_newtask of a new process (threads are left out) */
  COROOT_PROC_EXIT = 2,  /* sched/sched_process_exit of a process's last thread */
  COROOT_PROC_MOVE = 3,  /* cgroup/cgroup_attach_task: a task moved to another cgroup (any hierarchy;
                            threads too: pid is the task's id, cgroup_id 0) */
};

/* flags of coroot_proc_event */
#define COROOT_PROC_OOM_KILLED 1 /* EXIT of a process that oom/mark_victim chose */

struct coroot_proc_event {
  __u64 ts_ns;      /* bpf_ktime_get_boot_ns(): START ~ the new process's start time since boot */
  __u64 cgroup_id;  /* cgroup v2 id (inode of the v2 dir) of the process */
  __u32 type;       /* enum coroot_proc_event_type */
  __u32 pid;        /* tgid */
  __u32 exit_code;  /* EXIT: task->exit_code (signal in the low 7 bits, status << 8) */
  __u32 flags;      /* COROOT_PROC_* */
};

/* One task (thread) as the task iterator (coroot_task_delays_iter) reports it. */
/* Records the task walk (task_delays.bpf.c) holds by default (ProcTracerOptions sets the array's
 * size before load): past this many tasks the agent reads the task iterator instead. */
#define COROOT_TASK_DELAYS_MAX 32768

struct coroot_task_delay {
  __u32 tid;
  __u32 tgid;
  __u64 cpu_delay_ns;   /* sched_info.run_delay: time runnable but waiting for a CPU */
  __u64 blkio_delay_ns; /* delays->blkio_delay: time waiting for synchronous block I/O */
};

#ifdef __cplusplus
static_assert(sizeof(struct coroot_task_delay) == 24, "coroot_task_delay layout");
#else
_Static_assert(sizeof(struct coroot_task_delay) == 24, "coroot_task_delay layout");
#endif

#ifdef __cplusplus
static_assert(sizeof(struct coroot_proc_event) == 32, "coroot_proc_event layout");
#else
_Static_assert(sizeof(struct coroot_proc_event) == 32, "coroot_proc_event layout");
#endif

#endif
