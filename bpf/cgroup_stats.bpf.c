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

// Fields are loaded directly, not with bpf_probe_read_kernel: the iterator's cgroup is a BTF
// pointer, and so is every pointer loaded from it (the verifier makes such loads fault-safe), and
// a probe-read call per field cost ~10 times as much here (~15 per cgroup were 7.5 % of a gather).
// A controller's state embeds its css as first member; bpf_rdonly_cast retypes the css pointer.
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

// id must be a constant for the verifier: bpf_core_enum_value is one once relocated.
static __always_inline struct cgroup_subsys_state *own_css(struct cgroup *cgrp, int id)
{
  struct cgroup_subsys_state *css = cgrp->subsys[id];
  if (!css || css->cgroup != cgrp)
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
// Unrolled by hand (clang does not unroll a loop whose bound is a CO-RE relocation), so that
// each load has the constant offset the verifier wants; 64 words cover the 40 of 6.18.
#define COROOT_MEMCG_WORD(i)                                                          \
  if ((i) < n)                                                                        \
    h = (h ^ state[i]) * 0x100000001b3ULL;
#define COROOT_MEMCG_8_WORDS(b)                                                       \
  COROOT_MEMCG_WORD(b) COROOT_MEMCG_WORD(b + 1) COROOT_MEMCG_WORD(b + 2) COROOT_MEMCG_WORD(b + 3) \
  COROOT_MEMCG_WORD(b + 4) COROOT_MEMCG_WORD(b + 5) COROOT_MEMCG_WORD(b + 6) COROOT_MEMCG_WORD(b + 7)

static __always_inline __u64 memcg_fingerprint(struct cgroup_subsys_state *css, __u32 *flags)
{
  struct mem_cgroup *memcg = bpf_rdonly_cast(css, bpf_core_type_id_kernel(struct mem_cgroup));
  struct memcg_vmstats *vs = memcg->vmstats;
  if (!vs)
    return 0;
  // The array's own index would be checked against this build's vmlinux.h; its address is not.
  const __u64 *state = (const __u64 *)&vs->state;
  const __u32 n = bpf_core_field_size(vs->state) / sizeof(__u64);
  __u64 h = 0xcbf29ce484222325ULL; // FNV-1a over 64-bit words: the order counts
  COROOT_MEMCG_8_WORDS(0) COROOT_MEMCG_8_WORDS(8) COROOT_MEMCG_8_WORDS(16) COROOT_MEMCG_8_WORDS(24)
  COROOT_MEMCG_8_WORDS(32) COROOT_MEMCG_8_WORDS(40) COROOT_MEMCG_8_WORDS(48) COROOT_MEMCG_8_WORDS(56)
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
  rec.id = cgrp->kn->id;
  __u32 shards = coroot_cgroup_shards;
  // Hashed: ids step by the number of kernfs nodes a cgroup directory makes, so id % shards
  // would put them all in one shard.
  if (shards > 1 && ((rec.id * 0x9E3779B97F4A7C15ULL) >> 32) % shards != coroot_cgroup_shard)
    return 0;
  rec.level = cgrp->level;

  if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id)) {
    struct cgroup_subsys_state *css = own_css(cgrp, bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id));
    if (css) {
      struct task_group *tg = bpf_rdonly_cast(css, bpf_core_type_id_kernel(struct task_group));
      rec.throttled_ns = tg->cfs_bandwidth.throttled_time;
      rec.flags |= COROOT_CGROUP_CPU_BW;
    }
  }
  if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
    struct cgroup_subsys_state *css = own_css(cgrp, bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id));
    if (css)
      rec.memory_fingerprint = memcg_fingerprint(css, &rec.flags);
  }
  struct psi_group *psi = cgrp->psi;
  if (psi && (!bpf_core_field_exists(psi->enabled) || psi->enabled)) {
    // total[PSI_AVGS][state]: PSI_AVGS is row 0, and the states' order is that of the ABI.
    const __u64 *total = (const __u64 *)&psi->total;
#pragma unroll
    for (int i = 0; i < COROOT_PSI_STATES; i++)
      rec.psi_total_ns[i] = total[i];
    rec.flags |= COROOT_CGROUP_PSI;
  }
  bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
  return 0;
}
