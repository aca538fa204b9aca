// SPDX-License-Identifier: GPL-2.0-only
// Every cgroup's throttling and pressure counters in one read() per hierarchy, instead of the
// kernel formatting (and the agent parsing) a v1 cpu.stat and three pressure files per container
// at each gather:
//
//   iter/cgroup   attached once per hierarchy root (descendants, pre-order); one record per
//                 cgroup: CFS throttled time (cpu controller), PSI totals (v2), a fingerprint of
//                 the memory controller's counters (memory.stat is read again only when it moves)
//
// The values are the ones those files print: throttled time is the CFS bandwidth's own counter.
// PSI totals are the group's aggregated totals, which the kernel brings up to date every 2 s
// while the group is active (a pressure file's read does it on the spot), so they lag the file
// by up to 2 s. CPU usage is not here: cpuacct's and v2's are per-CPU counters, and this kernel
// offers no way to a per-CPU address (no percpu type tags in its BTF, no data symbols in kallsyms).
#include "common.h"
#include "cgroup_stats_abi.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline struct cgroup_subsys_state *own_css(struct cgroup *cgrp, int id)
{
  struct cgroup_subsys_state *css = 0;
  bpf_core_read(&css, sizeof(css), &cgrp->subsys[id]);
  if (!css || BPF_CORE_READ(css, cgroup) != cgrp)
    return 0;
  return css;
}

// Set by the reader before each read(): the walk reports only the cgroups of one shard (a hash
// of the id, modulo shards). One read() session must hold a whole walk (the kernel's iterator
// buffer is 32 KB, about 450 records, and a cgroup walk cannot go on in a second session: read()
// then fails with EOPNOTSUPP), so a hierarchy with more cgroups is read in shards, a walk each.
__u32 coroot_cgroup_shards = 1;
__u32 coroot_cgroup_shard = 0;

// memcg->vmstats->state: the memory controller's hierarchical counters, whose values memory.stat
// prints (anon, file, file_mapped, ... of v2; total_rss, total_cache, ... of v1). Their order is
// kernel-internal, so they are hashed, not named: the agent only asks whether any of them moved.
// The kernel updates the array when it flushes per-CPU deltas (every 2 s, or at a memory.stat read
// when enough are pending), so the fingerprint moves at most 2 s after the file's values would.
#define COROOT_MEMCG_STATE_MAX 128
static __always_inline __u64 memcg_fingerprint(struct mem_cgroup *memcg, __u32 *flags)
{
  struct memcg_vmstats *vs = BPF_CORE_READ(memcg, vmstats);
  if (!vs)
    return 0;
  __u32 size = bpf_core_field_size(vs->state);
  __u64 h = 0xcbf29ce484222325ULL, chunk[8];
  for (__u32 off = 0; off < COROOT_MEMCG_STATE_MAX * 8; off += sizeof(chunk)) {
    if (off >= size)
      break;
    __u32 n = size - off;
    if (n > sizeof(chunk))
      n = sizeof(chunk);
    __builtin_memset(chunk, 0, sizeof(chunk));
    if (bpf_probe_read_kernel(chunk, n, (void *)vs->state + off))
      return 0;
    for (int i = 0; i < 8; i++)
      h = (h ^ chunk[i]) * 0x100000001b3ULL; // FNV-1a over 64-bit words: the order counts
  }
  *flags |= COROOT_CGROUP_MEMORY;
  return h;
}

SEC("iter/cgroup")
int coroot_cgroup_stats_iter(struct bpf_iter__cgroup *ctx)
{
  struct cgroup *cgrp = ctx->cgroup;
  if (!cgrp)
    return 0;
  struct coroot_cgroup_stat rec = {};
  rec.id = BPF_CORE_READ(cgrp, kn, id);
  __u32 shards = coroot_cgroup_shards;
  // Hashed: ids step by the number of kernfs nodes a cgroup directory makes, so id % shards
  // would put them all in one shard.
  if (shards > 1 && ((rec.id * 0x9E3779B97F4A7C15ULL) >> 32) % shards != coroot_cgroup_shard)
    return 0;
  rec.level = BPF_CORE_READ(cgrp, level);

  if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) {
    struct cgroup_subsys_state *css = own_css(cgrp, bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id));
    if (css) {
      struct task_group *tg = (void *)css; // css is task_group's first member
      rec.throttled_ns = BPF_CORE_READ(tg, cfs_bandwidth.throttled_time);
      rec.flags |= COROOT_CGROUP_CPU_BW;
    }
  }
  if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
    struct cgroup_subsys_state *css = own_css(cgrp, bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id));
    if (css)
      rec.memory_fingerprint = memcg_fingerprint((void *)css, &rec.flags); // css is mem_cgroup's first member
  }
  struct psi_group *psi = BPF_CORE_READ(cgrp, psi);
  if (psi && (!bpf_core_field_exists(psi->enabled) || BPF_CORE_READ(psi, enabled))) {
    // total[PSI_AVGS][state]: PSI_AVGS is row 0, and the states' order is that of the ABI.
    if (!bpf_core_read(rec.psi_total_ns, sizeof(rec.psi_total_ns), &psi->total))
      rec.flags |= COROOT_CGROUP_PSI;
  }
  bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
  return 0;
}
