/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* A cgroup's counters as the cgroup iterator reports them (bpf/cgroup_stats.bpf.c ->
 * agent/tracer/cgroup_stats_iter.cc). Fixed layout, no implicit padding: both sides check the size. */
#ifndef COROOT_BPF_CGROUP_STATS_ABI_H
#define COROOT_BPF_CGROUP_STATS_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* flags of coroot_cgroup_stat: which fields this cgroup has */
#define COROOT_CGROUP_CPU_BW 1 /* a cpu-controller cgroup: throttled_ns (CFS bandwidth) */
#define COROOT_CGROUP_PSI 2    /* pressure accounting on (v2): psi_total_ns */
#define COROOT_CGROUP_MEMORY 4 /* a memory-controller cgroup: memory_fingerprint */

/* Indexes of psi_total_ns: the kernel's enum psi_states order (include/linux/psi_types.h). */
enum coroot_psi_state {
  COROOT_PSI_IO_SOME = 0,
  COROOT_PSI_IO_FULL = 1,
  COROOT_PSI_MEM_SOME = 2,
  COROOT_PSI_MEM_FULL = 3,
  COROOT_PSI_CPU_SOME = 4,
  COROOT_PSI_CPU_FULL = 5,
  COROOT_PSI_STATES = 6,
};

struct coroot_cgroup_stat {
  __u64 id;                /* kernfs node id: the inode number of the cgroup's directory */
  __u64 throttled_ns;      /* cpu.stat throttled_time (v1) / throttled_usec * 1000 (v2) */
  __u64 psi_total_ns[COROOT_PSI_STATES]; /* the "total=" of cpu/memory/io.pressure, in ns */
  __u32 flags;             /* COROOT_CGROUP_* */
  __u32 level;             /* depth below the hierarchy's root (0 = the root) */
  /* A hash of the memory controller's hierarchical counters (the values memory.stat prints for
   * the cgroup and its descendants, as last flushed): equal while none of them changed. */
  __u64 memory_fingerprint;
};

#ifdef __cplusplus
static_assert(sizeof(struct coroot_cgroup_stat) == 80, "coroot_cgroup_stat layout");
#else
_Static_assert(sizeof(struct coroot_cgroup_stat) == 80, "coroot_cgroup_stat layout");
#endif

#endif
