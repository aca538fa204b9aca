/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* Every BPF map of the agent, in one place. Each *.bpf.c includes this header; the maps are
 * __weak so that `bpftool gen object` merges the copies into one map per name.
 * Sizes here are defaults: the loader may resize maps before load (bpf_map__set_max_entries). */
#ifndef COROOT_BPF_MAPS_H
#define COROOT_BPF_MAPS_H

#include "tcp_abi.h"
#include "proc_abi.h"

/* Per-connection state kept in the kernel, keyed by the socket's address. */
struct coroot_conn {
  __u64 start_ns;  /* SYN_SENT time */
  __u64 cgroup_id;
  __s64 fd;
  __u32 pid;
  __u32 netns;
  __u32 established;
  __u32 reserved;
};

struct coroot_listen {
  __u64 cgroup_id;
  __u32 pid;
  __u32 reserved;
};

/* Events to user space. Wakeups are batched (see coroot_rb_flags in common.h). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps") __weak;

/* Outbound connections from SYN_SENT until CLOSE. A plain hash (not LRU) so that a full map is
 * visible: the insert fails and COROOT_DROP_CONNS_FULL is counted instead of a silent eviction. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct coroot_conn);
} conns SEC(".maps") __weak;

/* Listening sockets, so that LISTEN -> CLOSE is attributed to the process that listened. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct coroot_listen);
} listens SEC(".maps") __weak;

/* fd argument of an in-flight connect(2), keyed by pid_tgid (sys_enter_connect -> sys_exit_connect). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __s64);
} connect_fds SEC(".maps") __weak;

/* Connections that existed before the agent started (from /proc), so that their close is seen. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __type(key, struct coroot_tuple_key);
  __type(value, __u32);
} reconciled SEC(".maps") __weak;

/* Drop counters, enum coroot_drop_reason. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, COROOT_DROP_MAX);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps") __weak;

/* Process start/exit events (proc.bpf.c). A ring of its own: the process loader (ProcTracer)
 * reads it on its own thread, apart from the TCP events. */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} proc_events SEC(".maps") __weak;

/* Processes oom/mark_victim chose, by tgid, until their exit: that exit is the OOM kill. LRU so
 * that a victim whose exit is never seen cannot fill it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} oom_victims SEC(".maps") __weak;

/* Drop counters of proc.bpf.c (index 0: proc_events full). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} proc_drops SEC(".maps") __weak;

/* ---- Language runtimes (runtime.bpf.c: Python GIL wait, Node.js event-loop blocking) ---- */
#include "runtime_abi.h"

/* Per-process totals, by tgid, read by the agent at each gather. The agent deletes a process's
 * entry when it stops probing it; LRU so that entries of processes that die between two of its
 * passes cannot fill it (16384 >> the agent's bound of instrumented processes). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct coroot_runtime_stats);
} runtime_stats SEC(".maps") __weak;

/* A pthread_cond_timedwait in flight, keyed by pid_tgid (entry -> return). LRU: a thread killed
 * inside the wait never returns. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __u64);
} python_waits SEC(".maps") __weak;

/* The event loop of each Node.js process's main thread, by tgid. LRU: processes die without
 * telling. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct coroot_nodejs_loop);
} nodejs_loops SEC(".maps") __weak;

#endif

/* ---- L7 tracing (bpf/l7.bpf.c) ---- */
#include "l7_abi.h"

/* A socket whose reads and writes are traced (struct coroot_l7_sock, bpf/l7_abi.h), keyed by
 * coroot_l7_key(tgid, fd). Outbound: added by tcp.bpf.c at SYN_SENT (fd from connect(2)); inbound:
 * by accept(2)/accept4(2). Removed by close(2); LRU because a process that exits does not close
 * its fds one by one. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, __u64);
  __type(value, struct coroot_l7_sock);
} l7_socks SEC(".maps") __weak;

/* The request waiting for its response, one per socket (pipelined requests: the last one wins). */
struct coroot_l7_request {
  __u64 ts_ns;
  __u64 payload_size;
  __u8 protocol;
  __u8 method;
  __u8 skip; /* bytes of the response's header already read (a length prefix read on its own) */
  __u8 reserved;
  __u32 head_offset; /* scratch only: where copy_message found the message */
  char payload[COROOT_L7_PAYLOAD];
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, struct coroot_l7_request);
} l7_requests SEC(".maps") __weak;

/* Per-CPU room to build a request in (too big for the 512-byte BPF stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct coroot_l7_request);
} l7_scratch SEC(".maps") __weak;

/* A read in flight on a traced socket (sys_enter -> sys_exit), keyed by pid_tgid. */
struct coroot_l7_read {
  __u64 key;  /* l7_socks key */
  __u64 buf;  /* user buffer (the first iovec's for readv/recvmsg) */
  __u64 cap;  /* its size */
  __u64 iovcnt; /* readv/recvmsg with more than one iovec: buf is the iovec array (0 otherwise) */
  __u64 addr;   /* recvfrom/recvmsg: where the sender's address is written (DNS servers tell clients apart) */
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, struct coroot_l7_read);
} l7_reads SEC(".maps") __weak;

/* Per-CPU room for the head of a vectored call's data, gathered from its first iovecs
 * (bpf/l7.bpf.c). data is twice COROOT_L7_PAYLOAD so that the verifier can see every copy
 * (offset < 1024, length <= 1024) fits; only its first COROOT_L7_PAYLOAD bytes are classified.
 * active: set while the data path reads from here rather than from user memory. */
struct coroot_l7_gather {
  __u32 active;
  __u32 reserved;
  char data[2 * COROOT_L7_PAYLOAD];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct coroot_l7_gather);
} l7_gather SEC(".maps") __weak;

/* Requests of protocols whose responses name their request (Kafka: correlation id, Cassandra:
 * stream, Dubbo2: request id), so that pipelined requests each find their response. Not removed
 * at close(2): an unanswered one ages out of the LRU. */
struct coroot_l7_stream_key {
  __u64 sock; /* l7_socks key */
  __u32 stream;
  __u32 reserved;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct coroot_l7_stream_key);
  __type(value, struct coroot_l7_request);
} l7_stream_requests SEC(".maps") __weak;

/* DNS queries waiting for their response, by socket and transaction id (stream): only the time of
 * the query is kept, as the event carries the response (which repeats the question). LRU: an
 * unanswered query ages out. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct coroot_l7_stream_key);
  __type(value, __u64);
} l7_dns_requests SEC(".maps") __weak;

/* fd of a bind(2) in flight to port 53, keyed by pid_tgid (sys_enter_bind -> sys_exit_bind): a UDP
 * socket bound there is a DNS server's. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, __u64);
} l7_dns_binds SEC(".maps") __weak;

/* ---- TLS plaintext (bpf/l7_tls.h: OpenSSL and Go crypto/tls uprobes) ---- */
/* An OpenSSL call in flight on a thread (entry -> return), keyed by pid_tgid. */
struct coroot_tls_call {
  __u64 ssl;       /* the SSL* */
  __u64 buf;       /* plaintext buffer */
  __u64 size;      /* write: plaintext length */
  __u64 readbytes; /* SSL_read_ex: where the length is written */
  __s64 fd;        /* the socket, once known; -1 before */
  __u32 done;      /* write: the plaintext was handed over */
  __u32 reserved;
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, struct coroot_tls_call);
} tls_writes SEC(".maps") __weak;
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u64);
  __type(value, struct coroot_tls_call);
} tls_reads SEC(".maps") __weak;

/* The socket an SSL* was last seen on (an SSL_read served from OpenSSL's buffer makes no syscall). */
struct coroot_tls_ssl_key {
  __u64 ssl;
  __u32 tgid;
  __u32 pad;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct coroot_tls_ssl_key);
  __type(value, __s64);
} tls_fds SEC(".maps") __weak;

/* A Go crypto/tls (*Conn).Read in flight, keyed by goroutine (it may resume on another thread). */
struct coroot_go_read_key {
  __u64 g;
  __u32 tgid;
  __u32 pad;
};
struct coroot_go_read {
  __u64 buf;
  __s64 fd;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 10240);
  __type(key, struct coroot_go_read_key);
  __type(value, struct coroot_go_read);
} go_tls_reads SEC(".maps") __weak;
