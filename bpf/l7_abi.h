/* SPDX-License-Identifier: (GPL-2.0-only OR Apache-2.0) */
/* The kernel's L7 event, shared by bpf/l7.bpf.c and the agent. The layout is the one
 * agent/protocols/l7_event.h decodes (Coroot's): change both together. */
#ifndef COROOT_BPF_L7_ABI_H
#define COROOT_BPF_L7_ABI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define COROOT_L7_PAYLOAD 1024

/* Protocol ids, as agent/protocols/types.h numbers them. */
enum coroot_l7_protocol {
  COROOT_L7_HTTP = 1,
  COROOT_L7_POSTGRES = 2,
  COROOT_L7_REDIS = 3,
  COROOT_L7_MEMCACHED = 4,
  COROOT_L7_MYSQL = 5,
  COROOT_L7_MONGO = 6,
  COROOT_L7_KAFKA = 7,
  COROOT_L7_CASSANDRA = 8,
  COROOT_L7_RABBITMQ = 9,
  COROOT_L7_NATS = 10,
  COROOT_L7_DUBBO2 = 12,
  COROOT_L7_DNS = 13, /* status = the response's rcode; payload = the response (it repeats the question) */
  COROOT_L7_CLICKHOUSE = 14,
  COROOT_L7_ZOOKEEPER = 15,
  COROOT_L7_FOUNDATIONDB = 16, /* status: failed only when the reply's ErrorOr holds an Error */
};

/* The value of map l7_socks (bpf/maps.h): user space adds DNS servers' sockets that were bound
 * before the agent started. */
struct coroot_l7_sock {
  __u64 ts_ns; /* connect / accept / bind time: the connection's identity with (pid, fd) */
  __u64 cgroup_id;
  __u32 inbound;
  __u32 partial; /* the last read was a 4-byte length prefix alone (stream protocols) */
  __u16 tls;     /* plaintext came from TLS uprobes: the syscalls carry ciphertext, skipped */
  __u16 http2;   /* the client sent the HTTP/2 preface: every read/write is shipped raw */
  __u16 udp;     /* a UDP socket talking to port 53 (inbound: bound to it, a server's): only DNS is looked for */
  __u16 reserved;
};

/* Numeric status for protocols without their own code (HTTP carries its status code). */
#define COROOT_L7_STATUS_OK 200
#define COROOT_L7_STATUS_FAILED 500

/* One request and its response. Written to the same ring buffer as coroot_tcp_event (so it is
 * ordered after the connect that made its connection); told apart by its size. */
struct coroot_l7_event {
  __u64 fd;
  __u64 connection_timestamp; /* ktime of the connect (outbound) or accept (inbound) */
  __u32 pid;
  __s32 status;
  __u64 duration_ns;
  __u8 protocol;
  __u8 method;
  __u8 is_inbound;
  __u8 pad;
  __u32 statement_id; /* MySQL: the statement id of a COM_STMT_PREPARE's response */
  __u64 payload_size; /* size of the write/read the request came in */
  char payload[COROOT_L7_PAYLOAD];
  /* Appended to Coroot's layout (agent/protocols/l7_event.h decodes the part before it): cgroup v2
   * id of the process that connected/accepted, so that a server that exited before the agent read
   * the event still gets its container. */
  __u64 cgroup_id;
};

/* One read or write of an HTTP/2 connection (told apart by its size, like coroot_l7_event): the
 * frames are paired with their HPACK state in user space (agent/protocols/http2). */
#define COROOT_H2_CLIENT_TO_SERVER 0
#define COROOT_H2_SERVER_TO_CLIENT 1
struct coroot_h2_chunk {
  __u64 fd;
  __u64 connection_timestamp;
  __u64 ts_ns;     /* when the bytes were written/read */
  __u64 cgroup_id; /* as in coroot_l7_event */
  __u64 size;      /* bytes the syscall moved; at most COROOT_L7_PAYLOAD of them are in payload */
  __u32 pid;
  __u8 direction;  /* COROOT_H2_* */
  __u8 is_inbound;
  __u8 pad[2];
  char payload[COROOT_L7_PAYLOAD];
};

#ifdef __cplusplus
static_assert(sizeof(struct coroot_l7_event) == 48 + COROOT_L7_PAYLOAD + 8, "coroot_l7_event layout");
#else
_Static_assert(sizeof(struct coroot_l7_event) == 48 + COROOT_L7_PAYLOAD + 8, "coroot_l7_event layout");
#endif
#ifdef __cplusplus
static_assert(sizeof(struct coroot_h2_chunk) == 48 + COROOT_L7_PAYLOAD, "coroot_h2_chunk layout");
#else
_Static_assert(sizeof(struct coroot_h2_chunk) == 48 + COROOT_L7_PAYLOAD, "coroot_h2_chunk layout");
#endif

#endif
