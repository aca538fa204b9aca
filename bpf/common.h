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

// Data bytes a TCP socket has sent (retransmissions excluded) and received, from its RFC 4898
// counters in struct tcp_sock. bytes_received also counts the peer's FIN (it follows rcv_nxt,
// and a FIN takes one sequence number), so one is taken off when the FIN has arrived: tcp_fin()
// sets SOCK_DONE on the socket, and nothing else on an established TCP socket does.
static __always_inline void coroot_read_tcp_bytes(const void *sk, __u64 *sent, __u64 *received)
{
  const struct tcp_sock *tp = sk;
  const struct sock *s = sk;
  __u64 out = 0, retrans = 0, in = 0;
  if (bpf_core_field_exists(tp->bytes_sent)) {
    out = BPF_CORE_READ(tp, bytes_sent);
    if (bpf_core_field_exists(tp->bytes_retrans))
      retrans = BPF_CORE_READ(tp, bytes_retrans);
    out = out >= retrans ? out - retrans : 0;
  } else {
    out = BPF_CORE_READ(tp, bytes_acked); // kernels < 4.19: acked bytes (+1 for the SYN)
  }
  in = BPF_CORE_READ(tp, bytes_received);
  unsigned long flags = BPF_CORE_READ(s, __sk_common.skc_flags);
  int done_bit = bpf_core_enum_value(enum sock_flags, SOCK_DONE);
  if (done_bit >= 0 && done_bit < 64 && (flags >> done_bit) & 1 && in > 0)
    in -= 1;
  *sent = out;
  *received = in;
}

#endif
