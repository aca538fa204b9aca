// SPDX-License-Identifier: GPL-2.0-only
// TCP connection tracking from tracepoints only (this kernel has no kprobes and no BPF trampolines).
//
//   syscalls/sys_enter_connect, sys_exit_connect  remember the fd of an in-flight connect(2)
//   sock/inet_sock_set_state                      connection and listen lifecycle
//   tcp/tcp_retransmit_skb                        retransmitted segments
//
// Bytes sent/received are NOT counted per read/write syscall. They are read from the socket's own
// RFC 4898 counters (struct tcp_sock: bytes_sent - bytes_retrans, bytes_received) when the
// connection closes (here) and, for open connections, by the map iterator in conn_iter.bpf.c when
// the agent collects. Why: it costs nothing on the data path (the syscall tracepoints fire for
// every read/write of every process, TCP or not, and need a CO-RE fd walk each time: ebpf.md
// measured 560 -> 720 ns per read with one such hook), and it counts what the kernel actually
// sent and received, including sendfile/splice/io_uring/kTLS traffic that syscall hooks miss.
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_ 2
#define TCP_CLOSE_ 7
#define TCP_LISTEN_ 10

// Addresses into the event as IPv6 (IPv4 v4-mapped). The tracepoint context is copied with
// bpf_probe_read_kernel: the verifier rejects loads through a computed context pointer, which
// clang emits for array fields passed by pointer.
#define FILL_ADDRS(e, ctx)                                                    \
  do {                                                                        \
    (e)->family = (ctx)->family;                                              \
    if ((ctx)->family == COROOT_AF_INET) {                                    \
      (e)->saddr[10] = (e)->saddr[11] = 0xff;                                 \
      (e)->daddr[10] = (e)->daddr[11] = 0xff;                                 \
      bpf_probe_read_kernel(&(e)->saddr[12], 4, (ctx)->saddr);                \
      bpf_probe_read_kernel(&(e)->daddr[12], 4, (ctx)->daddr);                \
    } else {                                                                  \
      bpf_probe_read_kernel((e)->saddr, 16, (ctx)->saddr_v6);                 \
      bpf_probe_read_kernel((e)->daddr, 16, (ctx)->daddr_v6);                 \
    }                                                                         \
  } while (0)

static __always_inline __u32 sock_netns(const void *sk)
{
  const struct sock *s = sk;
  return BPF_CORE_READ(s, __sk_common.skc_net.net, ns.inum);
}

static __always_inline struct coroot_tcp_event *reserve(__u32 type, const void *sk)
{
  struct coroot_tcp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    coroot_count_drop(COROOT_DROP_RINGBUF_FULL);
    return 0;
  }
  __builtin_memset(e, 0, sizeof(*e));
  e->type = type;
  e->sk = (__u64)sk;
  e->ts_ns = bpf_ktime_get_ns();
  e->fd = -1;
  return e;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int coroot_sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  __s64 fd = (__s64)ctx->args[0];
  if (bpf_map_update_elem(&connect_fds, &id, &fd, BPF_ANY))
    coroot_count_drop(COROOT_DROP_FDS_FULL);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int coroot_sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_delete_elem(&connect_fds, &id);
  return 0;
}

// Whether the socket was seeded from /proc at startup (by its addresses, ports and netns).
static __always_inline bool lookup_reconciled(struct trace_event_raw_inet_sock_set_state *ctx, const void *sk,
                                              struct coroot_tuple_key *k)
{
  struct coroot_tcp_event tmp = {};
  FILL_ADDRS(&tmp, ctx);
  __builtin_memcpy(k->saddr, tmp.saddr, 16);
  __builtin_memcpy(k->daddr, tmp.daddr, 16);
  k->sport = ctx->sport;
  k->dport = ctx->dport;
  k->netns = sock_netns(sk);
  return bpf_map_lookup_elem(&reconciled, k) != 0;
}

static __always_inline void on_close(struct trace_event_raw_inet_sock_set_state *ctx, const void *sk, int oldstate)
{
  if (oldstate == TCP_LISTEN_) {
    struct coroot_listen *l = bpf_map_lookup_elem(&listens, &sk);
    if (!l) {
      // Listening since before the agent started: reported if it was seeded from /proc.
      struct coroot_tuple_key k = {};
      if (!lookup_reconciled(ctx, sk, &k))
        return;
      struct coroot_tcp_event *e = reserve(COROOT_TCP_LISTEN_CLOSE, sk);
      if (e) {
        e->netns = k.netns;
        e->sport = ctx->sport;
        FILL_ADDRS(e, ctx);
        bpf_ringbuf_submit(e, coroot_rb_flags());
      }
      bpf_map_delete_elem(&reconciled, &k);
      return;
    }
    struct coroot_tcp_event *e = reserve(COROOT_TCP_LISTEN_CLOSE, sk);
    if (e) {
      e->pid = l->pid;
      e->cgroup_id = l->cgroup_id;
      e->netns = sock_netns(sk);
      e->sport = ctx->sport;
      FILL_ADDRS(e, ctx);
      bpf_ringbuf_submit(e, coroot_rb_flags());
    }
    bpf_map_delete_elem(&listens, &sk);
    return;
  }

  struct coroot_conn *c = bpf_map_lookup_elem(&conns, &sk);
  if (!c) {
    // Not opened under the agent: report it only if it was seeded from /proc at startup.
    struct coroot_tuple_key k = {};
    if (!lookup_reconciled(ctx, sk, &k))
      return;
    struct coroot_tcp_event *e = reserve(COROOT_TCP_CLOSE, sk);
    if (e) {
      e->netns = k.netns;
      e->sport = ctx->sport;
      e->dport = ctx->dport;
      FILL_ADDRS(e, ctx);
      coroot_read_tcp_bytes(sk, &e->bytes_sent, &e->bytes_received);
      bpf_ringbuf_submit(e, coroot_rb_flags());
    }
    bpf_map_delete_elem(&reconciled, &k);
    return;
  }

  __u32 type = oldstate == TCP_SYN_SENT_ ? COROOT_TCP_CONNECT_FAILED
                                          : (c->established ? COROOT_TCP_CLOSE : COROOT_TCP_CONNECT_FAILED);
  struct coroot_tcp_event *e = reserve(type, sk);
  if (e) {
    e->pid = c->pid;
    e->cgroup_id = c->cgroup_id;
    e->fd = c->fd;
    e->netns = c->netns;
    e->sport = ctx->sport;
    e->dport = ctx->dport;
    FILL_ADDRS(e, ctx);
    if (type == COROOT_TCP_CLOSE)
      coroot_read_tcp_bytes(sk, &e->bytes_sent, &e->bytes_received);
    else
      e->duration_ns = e->ts_ns - c->start_ns;
    bpf_ringbuf_submit(e, coroot_rb_flags());
  }
  bpf_map_delete_elem(&conns, &sk);
}

SEC("tracepoint/sock/inet_sock_set_state")
int coroot_inet_sock_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
  if (ctx->protocol != COROOT_IPPROTO_TCP)
    return 0;
  const void *sk = ctx->skaddr;
  int oldstate = ctx->oldstate, newstate = ctx->newstate;

  if (newstate == TCP_SYN_SENT_) {
    // Inside connect(2): `current` is the connecting process.
    __u64 id = bpf_get_current_pid_tgid();
    struct coroot_conn c = {};
    c.start_ns = bpf_ktime_get_ns();
    c.cgroup_id = bpf_get_current_cgroup_id();
    c.pid = id >> 32;
    c.netns = sock_netns(sk);
    __s64 *fd = bpf_map_lookup_elem(&connect_fds, &id);
    c.fd = fd ? *fd : -1;
    if (bpf_map_update_elem(&conns, &sk, &c, BPF_ANY))
      coroot_count_drop(COROOT_DROP_CONNS_FULL);
    if (c.fd >= 0) {
      // L7 tracing (l7.bpf.c) follows the reads and writes of this fd from now on.
      __u64 key = ((__u64)c.pid << 32) | (__u32)c.fd;
      struct coroot_l7_sock s = {.ts_ns = c.start_ns, .cgroup_id = c.cgroup_id};
      bpf_map_update_elem(&l7_socks, &key, &s, BPF_ANY);
      bpf_map_delete_elem(&l7_requests, &key);
    }
    return 0;
  }

  if (oldstate == TCP_SYN_SENT_ && newstate == TCP_ESTABLISHED_) {
    // Usually in softirq context (the SYN-ACK), so pid/cgroup come from the map, not `current`.
    struct coroot_conn *c = bpf_map_lookup_elem(&conns, &sk);
    if (!c)
      return 0;
    c->established = 1;
    struct coroot_tcp_event *e = reserve(COROOT_TCP_CONNECT_OK, sk);
    if (!e)
      return 0;
    e->pid = c->pid;
    e->cgroup_id = c->cgroup_id;
    e->fd = c->fd;
    e->netns = c->netns;
    e->duration_ns = e->ts_ns - c->start_ns;
    e->sport = ctx->sport;
    e->dport = ctx->dport;
    FILL_ADDRS(e, ctx);
    bpf_ringbuf_submit(e, coroot_rb_flags());
    return 0;
  }

  if (newstate == TCP_LISTEN_) {
    // Inside listen(2).
    struct coroot_listen l = {};
    l.pid = bpf_get_current_pid_tgid() >> 32;
    l.cgroup_id = bpf_get_current_cgroup_id();
    if (bpf_map_update_elem(&listens, &sk, &l, BPF_ANY))
      coroot_count_drop(COROOT_DROP_LISTENS_FULL);
    struct coroot_tcp_event *e = reserve(COROOT_TCP_LISTEN_OPEN, sk);
    if (!e)
      return 0;
    e->pid = l.pid;
    e->cgroup_id = l.cgroup_id;
    e->netns = sock_netns(sk);
    e->sport = ctx->sport;
    FILL_ADDRS(e, ctx);
    bpf_ringbuf_submit(e, coroot_rb_flags());
    return 0;
  }

  if (newstate == TCP_CLOSE_)
    on_close(ctx, sk, oldstate);
  return 0;
}

// Since 6.x the tracepoint also fires for retransmissions that failed (err != 0, nothing was
// sent); older kernels fire only on success. Count what was sent, in segments: a GSO skb carries
// several, and the kernel's TCP RetransSegs counter counts each of them.
struct trace_event_raw_tcp_retransmit_skb___err {
  int err;
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_retransmit_skb")
int coroot_tcp_retransmit_skb(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
  struct trace_event_raw_tcp_retransmit_skb___err *ectx = (void *)ctx;
  if (bpf_core_field_exists(ectx->err) && BPF_CORE_READ(ectx, err) != 0)
    return 0;
  const void *sk = ctx->skaddr;
  struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;
  struct tcp_skb_cb *tcb = (struct tcp_skb_cb *)__builtin_preserve_access_index(&skb->cb[0]);
  __u16 segs = BPF_CORE_READ(tcb, tcp_gso_segs);
  struct coroot_tcp_event *e = reserve(COROOT_TCP_RETRANSMIT, sk);
  if (!e)
    return 0;
  struct coroot_conn *c = bpf_map_lookup_elem(&conns, &sk);
  if (c) {
    e->pid = c->pid;
    e->cgroup_id = c->cgroup_id;
    e->fd = c->fd;
  }
  e->netns = sock_netns(sk);
  e->state = ctx->state;
  e->segments = segs ? segs : 1;
  e->sport = ctx->sport;
  e->dport = ctx->dport;
  FILL_ADDRS(e, ctx);
  bpf_ringbuf_submit(e, coroot_rb_flags());
  return 0;
}
