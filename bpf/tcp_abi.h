/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Plain-C structs shared by the kernel programs (bpf/<family>.bpf.c) and the agent (agent/tracer/).
 * Fixed layout, little-endian, no implicit padding: both sides are checked by static asserts. */
#ifndef COROOT_BPF_TCP_ABI_H
#define COROOT_BPF_TCP_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Kinds of coroot_tcp_event. */
enum coroot_tcp_event_type {
  COROOT_TCP_CONNECT_OK = 1,     /* SYN_SENT -> ESTABLISHED: duration_ns = connection time */
  COROOT_TCP_CONNECT_FAILED = 2, /* SYN_SENT -> CLOSE */
  COROOT_TCP_CLOSE = 3,          /* a tracked (or reconciled) connection reached CLOSE; final byte counts */
  COROOT_TCP_LISTEN_OPEN = 4,    /* CLOSE -> LISTEN */
  COROOT_TCP_LISTEN_CLOSE = 5,   /* LISTEN -> CLOSE */
  COROOT_TCP_RETRANSMIT = 6,     /* one tcp_retransmit_skb */
};

/* One event in the ring buffer. Addresses are IPv6; IPv4 is stored v4-mapped (::ffff:a.b.c.d). */
struct coroot_tcp_event {
  __u64 sk;             /* kernel address of the socket: the connection's identity while it lives */
  __u64 ts_ns;          /* bpf_ktime_get_ns() when the event happened */
  __u64 duration_ns;    /* CONNECT_OK / CONNECT_FAILED: time since SYN_SENT */
  __u64 cgroup_id;      /* cgroup v2 id (inode) of the process that opened the socket */
  __u64 bytes_sent;     /* CLOSE: data bytes sent, retransmissions excluded */
  __u64 bytes_received; /* CLOSE: data bytes received */
  __s64 fd;             /* the connecting fd (from connect(2)), -1 when unknown */
  __u32 type;           /* enum coroot_tcp_event_type */
  __u32 pid;            /* tgid of the owning process; 0 when unknown (reconciled, retransmit of an untracked socket) */
  __u32 netns;          /* inode of the socket's network namespace */
  __u16 family;         /* AF_INET or AF_INET6 */
  __u16 sport;          /* host byte order */
  __u16 dport;          /* host byte order */
  __u16 state;          /* RETRANSMIT: TCP state of the socket */
  __u32 segments;       /* RETRANSMIT: segments in the retransmitted skb (GSO), at least 1 */
  __u8 saddr[16];
  __u8 daddr[16];
};

/* Record written by the map iterator that refreshes byte counters of open connections. */
struct coroot_conn_bytes {
  __u64 sk;
  __u64 bytes_sent;
  __u64 bytes_received;
};

/* Key of the map of connections that existed before the agent started (filled from /proc). */
struct coroot_tuple_key {
  __u8 saddr[16];
  __u8 daddr[16];
  __u16 sport;
  __u16 dport;
  __u32 netns;
};

/* Kernel-side drop counters (indexes into the per-CPU `drops` array). */
enum coroot_drop_reason {
  COROOT_DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed: the agent lost an event */
  COROOT_DROP_CONNS_FULL = 1,   /* the `conns` map is full: a connection is not tracked */
  COROOT_DROP_LISTENS_FULL = 2, /* the `listens` map is full */
  COROOT_DROP_FDS_FULL = 3,     /* the `connect_fds` map is full: fd unknown for one connect */
  COROOT_DROP_MAX = 4,
};

#ifdef __cplusplus
static_assert(sizeof(struct coroot_tcp_event) == 112, "coroot_tcp_event layout");
static_assert(sizeof(struct coroot_conn_bytes) == 24, "coroot_conn_bytes layout");
static_assert(sizeof(struct coroot_tuple_key) == 40, "coroot_tuple_key layout");
#else
_Static_assert(sizeof(struct coroot_tcp_event) == 112, "coroot_tcp_event layout");
_Static_assert(sizeof(struct coroot_conn_bytes) == 24, "coroot_conn_bytes layout");
_Static_assert(sizeof(struct coroot_tuple_key) == 40, "coroot_tuple_key layout");
#endif

#endif
