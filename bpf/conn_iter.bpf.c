// SPDX-License-Identifier: GPL-2.0-only
// Byte counters of open connections, read on demand: when the agent collects, it reads this TCP
// socket iterator and gets one coroot_conn_bytes record per socket that is in the `conns` map and
// established. The iterator holds a reference on each socket it visits, so reading the socket is
// safe (an iterator over the `conns` map itself, iter/bpf_map_elem, would be cheaper, but loading
// it is refused with EPERM on this kernel; iter/tcp loads).
// An iter/tcp iterator walks the sockets of the network namespace of the process that creates it;
// connections in other namespaces get their totals from the CLOSE event only.
#include "common.h"

SEC("iter/tcp")
int coroot_conn_bytes_iter(struct bpf_iter__tcp *ctx)
{
  struct sock_common *skc = ctx->sk_common;
  if (!skc)
    return 0;
  __u64 key = (__u64)skc;
  struct coroot_conn *c = bpf_map_lookup_elem(&conns, &key);
  if (!c || !c->established)
    return 0;
  struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
  if (!tp)
    return 0;
  struct coroot_conn_bytes rec = {};
  rec.sk = key;
  coroot_read_tcp_bytes(tp, &rec.bytes_sent, &rec.bytes_received);
  bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
  return 0;
}
