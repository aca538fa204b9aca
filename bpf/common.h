/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Helpers shared by the *.bpf.c files. */
#ifndef COROOT_BPF_COMMON_H
#define COROOT_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.h"

#define COROOT_AF_INET 2
#define COROOT_AF_INET6 10
#define COROOT_IPPROTO_TCP 6

/* Set by the loader before load; .rodata is frozen, so the verifier sees constants. */
/* Bytes of unread data in `events` at which a producer forces a wakeup; below it, events are
 * submitted with BPF_RB_NO_WAKEUP and the agent drains the ring on its poll timer. */
const volatile __u64 coroot_wakeup_bytes __weak = 256 * 1024;

static __always_inline void coroot_count_drop(__u32 reason)
{
  __u64 *v = bpf_map_lookup_elem(&drops, &reason);
  if (v)
    *v += 1; /* per-CPU slot: no atomic needed */
}

static __always_inline __u64 coroot_rb_flags(void)
{
  return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= coroot_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                               : BPF_RB_NO_WAKEUP;
}

#endif
