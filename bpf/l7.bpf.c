// SPDX-License-Identifier: GPL-2.0-only
// L7 request tracing from syscall tracepoints (no kprobes/fentry on this kernel).
//
// Only sockets in l7_socks are looked at: outbound TCP connections (tcp.bpf.c adds them at
// SYN_SENT with the fd of connect(2)) and accepted ones (accept/accept4 below); close(2) removes them.
//
//   outbound: write-like syscall = request (classified, kept in l7_requests), the next read-like
//             syscall = its response -> one coroot_l7_event
//   inbound:  the mirror: a read is the request, the next write the response
//
// Write-like: write, writev, sendto, sendmsg (payload at sys_enter). Read-like: read, readv,
// recvfrom, recvmsg (buffer remembered at sys_enter, payload read at sys_exit). Vectored calls with
// several iovecs have the head of their data gathered first (l7_gather). One request is pending
// per socket (l7_requests: a new one replaces it, as Coroot does), except for protocols whose responses name their request (Kafka
// correlation id, Cassandra stream, Dubbo2 request id: l7_stream_requests), which pipeline.
// Fire-and-forget messages (RabbitMQ, NATS) are one event at once, without a response.
//
// DNS: UDP sockets are traced when they talk to port 53 (connect(2) to it, or sendto/sendmsg/
// sendmmsg with it as the destination); only DNS is looked for on them. Queries (also the second
// one of glibc's A + AAAA sendmmsg, and length-prefixed ones on TCP sockets) are kept by
// transaction id in l7_dns_requests; the response with that id gives one event whose payload is
// the response itself (question, rcode, answers) and whose status is the rcode.
// DNS servers: a UDP socket bound to port 53 is traced as inbound; a datagram it receives is a query
// (kept by client port + transaction id), one it sends to that client with that id is the
// response: an event with is_inbound = 1.
#include "common.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define SOCK_STREAM_ 1
#define SOCK_DGRAM_ 2
#define DNS_PORT 53
#define DNS_HEADER 12
#define S_IFMT_ 00170000
#define S_IFSOCK_ 0140000

// Bytes of a response looked at to classify it.
#define RESP_HEAD 32

static __always_inline __u64 l7_key(__u32 tgid, __u64 fd) { return ((__u64)tgid << 32) | (__u32)fd; }

// n = min(n, MAX), done in inline asm for the verifier: with a plain ternary clang 14 may test a
// copy of the register and pass the unbounded original to the helper.
#define CLAMP(n, MAX) asm volatile("if %[v] <= %[m] goto +1\n\t%[v] = %[m]" : [v] "+r"(n) : [m] "i"(MAX))

static __always_inline __u32 le32(const char *p)
{
  return (__u8)p[0] | ((__u32)(__u8)p[1] << 8) | ((__u32)(__u8)p[2] << 16) | ((__u32)(__u8)p[3] << 24);
}
static __always_inline __u32 be32(const char *p)
{
  return ((__u32)(__u8)p[0] << 24) | ((__u32)(__u8)p[1] << 16) | ((__u32)(__u8)p[2] << 8) | (__u8)p[3];
}

// ---- request detectors: p = the first min(size, 1024) bytes, size = bytes in the syscall ----

static __always_inline bool is_http_request(const char *p, __u64 size)
{
  if (size < 16)
    return false;
  switch (p[0]) {
  case 'G': return p[1] == 'E' && p[2] == 'T' && p[3] == ' ';
  case 'P':
    return (p[1] == 'O' && p[2] == 'S' && p[3] == 'T' && p[4] == ' ') || (p[1] == 'U' && p[2] == 'T' && p[3] == ' ') ||
           (p[1] == 'A' && p[2] == 'T' && p[3] == 'C' && p[4] == 'H' && p[5] == ' ');
  case 'H': return p[1] == 'E' && p[2] == 'A' && p[3] == 'D' && p[4] == ' ';
  case 'D': return p[1] == 'E' && p[2] == 'L' && p[3] == 'E' && p[4] == 'T' && p[5] == 'E' && p[6] == ' ';
  case 'C':  // not NATS's "CONNECT {json}"
    return p[1] == 'O' && p[2] == 'N' && p[3] == 'N' && p[4] == 'E' && p[5] == 'C' && p[6] == 'T' && p[7] == ' ' &&
           p[8] != '{';
  case 'O':
    return p[1] == 'P' && p[2] == 'T' && p[3] == 'I' && p[4] == 'O' && p[5] == 'N' && p[6] == 'S' && p[7] == ' ';
  }
  return false;
}

// Simple query (Q) or Close (C) as one whole message, or an extended-protocol batch ending in Sync.
static __always_inline bool is_postgres_request(const char *p, __u64 size)
{
  if (size < 5)
    return false;
  if ((p[0] == 'Q' || p[0] == 'C') && (__u64)be32(p + 1) + 1 == size)
    return true;
  if (size > COROOT_L7_PAYLOAD)
    return false;  // the Sync would be beyond the copied head
  __u32 o = size - 5;
  return p[o & (COROOT_L7_PAYLOAD - 1)] == 'S' && p[(o + 1) & (COROOT_L7_PAYLOAD - 1)] == 0 &&
         p[(o + 2) & (COROOT_L7_PAYLOAD - 1)] == 0 && p[(o + 3) & (COROOT_L7_PAYLOAD - 1)] == 0 &&
         p[(o + 4) & (COROOT_L7_PAYLOAD - 1)] == 4;
}

static __always_inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static __always_inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// RESP array of bulk strings: *<n>\r\n$<len>\r\n<command letters>
static __always_inline bool is_redis_request(const char *p, __u64 size)
{
  if (size < 10 || p[0] != '*' || !is_digit(p[1]))
    return false;
  int i = 2;
  if (is_digit(p[2]))
    i = 3;
  if (p[i] != '\r' || p[i + 1] != '\n' || p[i + 2] != '$' || !is_digit(p[i + 3]))
    return false;
  i += 4;
  if (is_digit(p[i]))
    i++;
  return p[i] == '\r' && p[i + 1] == '\n' && is_alpha(p[i + 2]);
}

// "<word> " at the start of p.
static __always_inline bool word(const char *p, const char *w, int n)
{
  for (int i = 0; i < n; i++)
    if (p[i] != w[i])
      return false;
  return p[n] == ' ';
}

static __always_inline bool is_memcached_request(const char *p, __u64 size)
{
  if (size < 6 || size > COROOT_L7_PAYLOAD)
    return false;
  __u32 o = size - 2;
  if (p[o & (COROOT_L7_PAYLOAD - 1)] != '\r' || p[(o + 1) & (COROOT_L7_PAYLOAD - 1)] != '\n')
    return false;
  switch (p[0]) {
  case 's': return word(p, "set", 3);
  case 'a': return word(p, "add", 3) || word(p, "append", 6);
  case 'c': return word(p, "cas", 3);
  case 'g': return word(p, "get", 3) || word(p, "gets", 4) || word(p, "gat", 3) || word(p, "gats", 4);
  case 'i': return word(p, "incr", 4);
  case 'd': return word(p, "decr", 4) || word(p, "delete", 6);
  case 't': return word(p, "touch", 5);
  case 'p': return word(p, "prepend", 7);
  case 'r': return word(p, "replace", 7);
  }
  return false;
}

#define MYSQL_COM_QUERY 0x03
#define MYSQL_COM_STMT_PREPARE 0x16
#define MYSQL_COM_STMT_EXECUTE 0x17

// One packet (3-byte length, sequence 0) carrying a query, a prepare or an execute.
// (COM_STMT_CLOSE has no response, so it is not paired.)
static __always_inline bool is_mysql_request(const char *p, __u64 size)
{
  if (size < 5 || p[3] != 0)
    return false;
  __u32 len = (__u8)p[0] | ((__u32)(__u8)p[1] << 8) | ((__u32)(__u8)p[2] << 16);
  if ((__u64)len + 4 != size)
    return false;
  return p[4] == MYSQL_COM_QUERY || p[4] == MYSQL_COM_STMT_PREPARE || p[4] == MYSQL_COM_STMT_EXECUTE;
}

static __always_inline __u16 be16(const char *p) { return ((__u16)(__u8)p[0] << 8) | (__u8)p[1]; }

// The message's own length field matches the syscall's size (or the message goes on beyond the
// copied head, when the syscall was bigger than it).
static __always_inline bool length_fits(__u64 total, __u64 size) { return total == size || (size >= COROOT_L7_PAYLOAD && total > size); }

#define MONGO_OP_COMPRESSED 2012
#define MONGO_OP_MSG 2013

// Header: length, requestID, responseTo (0 in a request), opCode; all little-endian.
static __always_inline bool is_mongo_request(const char *p, __u64 size)
{
  if (size < 16)
    return false;
  __u32 op = le32(p + 12);
  return (op == MONGO_OP_MSG || op == MONGO_OP_COMPRESSED) && le32(p + 8) == 0 && length_fits((__u64)le32(p) , size);
}

// size, api_key, api_version, correlation_id (big-endian).
static __always_inline bool is_kafka_request(const char *p, __u64 size)
{
  if (size < 14)
    return false;
  __s32 len = be32(p);
  __s16 api_key = be16(p + 4), api_version = be16(p + 6);
  __s32 correlation = be32(p + 8);
  return len >= 8 && length_fits((__u64)len + 4, size) && api_key >= 0 && api_key <= 67 && api_version >= 0 &&
         api_version <= 20 && correlation > 0;
}

// Native protocol v4 frame: version 0x04, flags, stream, opcode QUERY(7) / EXECUTE(10) / BATCH(13).
static __always_inline bool is_cassandra_request(const char *p, __u64 size)
{
  if (size < 9 || p[0] != 0x04 || (__s16)be16(p + 2) < 0)
    return false;
  return (p[4] == 0x07 || p[4] == 0x0a || p[4] == 0x0d) && length_fits((__u64)be32(p + 5) + 9, size);
}

// Magic 0xdabb, flags: request (0x80) + two-way (0x40), not an event (0x20).
static __always_inline bool is_dubbo_request(const char *p, __u64 size)
{
  if (size < 16 || (__u8)p[0] != 0xda || (__u8)p[1] != 0xbb)
    return false;
  return (p[2] & 0x80) && (p[2] & 0x40) && !(p[2] & 0x20);
}

// length, xid, opcode (big-endian); xid -2 is a ping, -8 set-watches; ops of the ZooKeeper API.
static __always_inline bool is_zookeeper_request(const char *p, __u64 size)
{
  if (size < 12)
    return false;
  __s32 len = be32(p), xid = be32(p + 4), op = be32(p + 8);
  if (len < 8 || !length_fits((__u64)len + 4, size) || (xid < 0 && xid != -2 && xid != -8))
    return false;
  return (op >= 1 && op <= 9) || (op >= 11 && op <= 22) || op == -11 || op == 101 || op == 103;
}

// A ZooKeeper request whose path follows its header (int32 length, then '/'): create, get,
// set, delete, exists, get_children... Checked before Kafka: a ZooKeeper request with an xid
// below 65536 reads as a Kafka one (api key 0, version = xid, correlation id = opcode), and a Kafka
// request with a small correlation id as ZooKeeper's; Kafka never has a path at byte 16 (bytes
// 12..15 are the client id's length and first bytes, or a null transactional id).
static __always_inline bool is_zookeeper_path_request(const char *p, __u64 size)
{
  if (size < 17 || !is_zookeeper_request(p, size))
    return false;
  __s32 n = be32(p + 12);
  return n > 0 && n <= 4096 && p[16] == '/' && (__u64)n + 16 <= size;
}

// ---- FoundationDB (FlowTransport; the facts and the same checks in agent/protocols/foundationdb) ----
// A connection opens with a ConnectPacket (u32 length, u64 protocol version whose bytes 10..11 are
// 0xDB, 0x?F). Then each packet: u32 length (LE: token + message), a checksum (8 bytes XXH3 in
// 7.x, 4 bytes CRC32C up to 6.3, none on TLS), a 16-byte token, the message: u32 root offset,
// u32 file_identifier. Requests and replies are known by their file_identifier; a reply is
// ErrorOr<T>: (2 << 24) | T's id.
// The known file_identifiers (request types, and the base ids of reply types; the same lists, with
// their names, as agent/protocols/foundationdb/parse.cc) in a 512-slot table indexed by a
// multiplicative hash: one load and one compare per id, no branch per type, so that the verifier's
// work does not grow with the list. FDB_SLOT is collision-free for these ids (clang rejects two
// initializers of one slot: when an id added collides, pick another odd multiplier).
#define FDB_SLOT(id) ((__u32)((__u32)(id) * 0xa240998fu) >> 23)
#define FDB_REQ (1u << 24)
#define FDB_REP (2u << 24)
#define FDB_ID(id, kind) [FDB_SLOT(id)] = (id) | (kind)
static const __u32 fdb_ids[512] = {
  FDB_ID(8454530, FDB_REQ), FDB_ID(6795746, FDB_REQ), FDB_ID(6795747, FDB_REQ), FDB_ID(10457870, FDB_REQ),
  FDB_ID(14747733, FDB_REQ), FDB_ID(838566, FDB_REQ), FDB_ID(93948, FDB_REQ), FDB_ID(7554186, FDB_REQ),
  FDB_ID(8500026, FDB_REQ), FDB_ID(214728, FDB_REQ), FDB_ID(2828131, FDB_REQ), FDB_ID(9144680, FDB_REQ),
  FDB_ID(9467439, FDB_REQ | FDB_REP), FDB_ID(9467438, FDB_REQ), FDB_ID(14332605, FDB_REQ),
  FDB_ID(1254174, FDB_REQ), FDB_ID(905920, FDB_REQ), FDB_ID(16665642, FDB_REQ), FDB_ID(8265613, FDB_REQ),
  FDB_ID(10344153, FDB_REQ), FDB_ID(15604392, FDB_REQ), FDB_ID(6416816, FDB_REQ), FDB_ID(4022206, FDB_REQ),
  FDB_ID(11001131, FDB_REQ), FDB_ID(10072821, FDB_REQ), FDB_ID(13290999, FDB_REQ), FDB_ID(14419140, FDB_REQ),
  FDB_ID(4707015, FDB_REQ), FDB_ID(10624019, FDB_REQ), FDB_ID(4146513, FDB_REQ), FDB_ID(72435, FDB_REQ),
  FDB_ID(5838547, FDB_REQ), FDB_ID(2567474, FDB_REQ), FDB_ID(1985879, FDB_REQ), FDB_ID(4149140, FDB_REQ),
  FDB_ID(4150141, FDB_REQ), FDB_ID(2508597, FDB_REQ), FDB_ID(905381, FDB_REQ), FDB_ID(4844288, FDB_REQ),
  FDB_ID(7932681, FDB_REQ), FDB_ID(4980139, FDB_REQ), FDB_ID(4180191, FDB_REQ), FDB_ID(2378138, FDB_REQ),
  FDB_ID(923040, FDB_REQ), FDB_ID(103841, FDB_REQ), FDB_ID(178935, FDB_REQ), FDB_ID(601281, FDB_REQ),
  FDB_ID(3104275, FDB_REQ), FDB_ID(2323417, FDB_REQ), FDB_ID(1378929, FDB_REP), FDB_ID(1783066, FDB_REP),
  FDB_ID(1783067, FDB_REP), FDB_ID(11226513, FDB_REP), FDB_ID(15709388, FDB_REP), FDB_ID(3, FDB_REP),
  FDB_ID(11, FDB_REP), FDB_ID(1389929, FDB_REP), FDB_ID(2010442, FDB_REP), FDB_ID(14254927, FDB_REP),
  FDB_ID(11365689, FDB_REP), FDB_ID(10072848, FDB_REP), FDB_ID(15491478, FDB_REP), FDB_ID(10390645, FDB_REP),
  FDB_ID(15877089, FDB_REP), FDB_ID(3568822, FDB_REP), FDB_ID(9980504, FDB_REP), FDB_ID(9956350, FDB_REP),
  FDB_ID(16475696, FDB_REP), FDB_ID(14465374, FDB_REP), FDB_ID(9908409, FDB_REP), FDB_ID(6095215, FDB_REP),
  FDB_ID(6858612, FDB_REP), FDB_ID(2923309, FDB_REP), FDB_ID(6857512, FDB_REP), FDB_ID(12680327, FDB_REP),
  FDB_ID(10636023, FDB_REP), FDB_ID(2034110, FDB_REP), FDB_ID(2934851, FDB_REP), FDB_ID(234859, FDB_REP),
  FDB_ID(4014928, FDB_REP), FDB_ID(11544290, FDB_REP), FDB_ID(11530792, FDB_REP), FDB_ID(7784298, FDB_REP),
  FDB_ID(7784299, FDB_REP), FDB_ID(5355080, FDB_REP), FDB_ID(13838807, FDB_REP), FDB_ID(3985192, FDB_REP),
  FDB_ID(16684234, FDB_REP),
};

static __always_inline bool foundationdb_known(__u32 id, bool reply)
{
  __u32 base = id;
  if (reply) {
    if ((id >> 24) != 2)  // ErrorOr<T>
      return false;
    base = id & 0x00ffffff;
  }
  __u32 e = fdb_ids[FDB_SLOT(base) & 511];
  return (e & 0x00ffffff) == base && (e & (reply ? FDB_REP : FDB_REQ));
}

#define FDB_MIN_LEN 24         // token + root offset + file_identifier
#define FDB_MAX_LEN (1 << 27)  // above FLOW_KNOBS->PACKET_LIMIT

// Bytes of the ConnectPacket that starts p (4 + its length, at most 68), or 0.
static __always_inline __u32 foundationdb_connect_size(const char *p)
{
  if ((__u8)p[10] != 0xdb || (p[11] & 0x0f) != 0x0f)
    return 0;
  __u32 len = le32(p);
  return len >= 24 && len <= 64 ? len + 4 : 0;
}

// p: at least 128 readable bytes; o: where the packet starts (<= 68). The checksum width whose
// file_identifier is a known request (reply) and whose packet fits the data (or the data is a cut
// 1024-byte head), tried in the order 8, 4, 0; -1 if none.
static __always_inline int foundationdb_packet(const char *p, __u64 size, __u32 o, bool reply)
{
  CLAMP(o, 68);
  __u32 len = le32(p + o);
  if (len < FDB_MIN_LEN || len > FDB_MAX_LEN)
    return -1;
  for (int w = 8; w >= 0; w -= 4) {
    __u32 id = le32(p + o + 24 + w);
    if (!foundationdb_known(id, reply))
      continue;
    if ((__u64)o + 4 + w + len <= size || size >= COROOT_L7_PAYLOAD)
      return w;
  }
  return -1;
}

static __always_inline bool is_foundationdb_request(const char *p, __u64 size)
{
  if (size < 28)
    return false;
  __u32 o = foundationdb_connect_size(p);
  if (o && size <= o)
    return false;  // a ConnectPacket alone
  return foundationdb_packet(p, size, o, false) >= 0;
}

// ClickHouse native protocol: the client's Query packet. Strings are a varint length + bytes;
// here every ClientInfo string must be shorter than 128 bytes (a one-byte length).
#define CH_REV_QUERY_START_TIME 54449  // from this revision an 8-byte start time precedes the interface

// p[o] at a computed offset: masked in asm, since clang would fold a C mask into the offset.
static __always_inline __u8 ch_byte(const char *p, __u32 o)
{
  asm volatile("%[o] &= 1023" : [o] "+r"(o));
  return p[o];
}

static __always_inline bool ch_skip_string(const char *p, __u32 *o)
{
  __u8 n = ch_byte(p, *o);
  if (n >= 128)
    return false;
  *o += 1 + n;
  return true;
}

// ClickHouse ClientInfo from the interface byte on (o: after the address): a TCP client
// (interface 1) with os user, hostname, client name, major, minor and a protocol revision (3-byte
// varint) that agrees with the layout tried (with or without the start time).
static __always_inline bool ch_client_info(const char *p, __u64 size, __u32 o, bool with_start_time)
{
  if (with_start_time)
    o += 8;
  if (ch_byte(p, o) != 1)
    return false;
  o++;
#pragma unroll
  for (int i = 0; i < 3; i++)
    if (!ch_skip_string(p, &o))
      return false;
  __u8 major = ch_byte(p, o), minor = ch_byte(p, o + 1);
  __u8 b0 = ch_byte(p, o + 2), b1 = ch_byte(p, o + 3), b2 = ch_byte(p, o + 4);
  if (((major | minor) & 0x80) || !(b0 & 0x80) || !(b1 & 0x80) || (b2 & 0x80))
    return false;
  __u32 rev = (b0 & 0x7f) | ((__u32)(b1 & 0x7f) << 7) | ((__u32)b2 << 14);
  if (rev < 54000 || rev > 60000 || with_start_time != (rev >= CH_REV_QUERY_START_TIME))
    return false;
  return (__u64)o + 5 <= size;
}

// Query (packet 1): query id (empty or a 36-char UUID), query kind initial (1) or secondary (2),
// initial user, initial query id, initial address, then the rest of ClientInfo.
static __always_inline bool is_clickhouse_query(const char *p, __u64 size)
{
  if (size < 24 || p[0] != 1 || (p[1] != 0 && p[1] != 36))
    return false;
  __u32 o = 2 + (__u8)p[1];
  __u8 kind = ch_byte(p, o);
  if (kind != 1 && kind != 2)
    return false;
  o++;
#pragma unroll
  for (int i = 0; i < 3; i++)
    if (!ch_skip_string(p, &o))
      return false;
  return ch_client_info(p, size, o, false) || ch_client_info(p, size, o, true);
}

// AMQP 0-9-1 method frame of class Basic (60): Publish (40) when sent, Deliver (60) when received.
static __always_inline bool is_amqp_basic(const char *p, __u64 size, __u16 method)
{
  if (size < 12 || p[0] != 1)
    return false;
  __u32 len = be32(p + 3);
  if (be16(p + 7) != 60 || be16(p + 9) != method)
    return false;
  if ((__u64)len + 8 > size)
    return false;
  if ((__u64)len + 8 > COROOT_L7_PAYLOAD)
    return true;  // the frame-end is beyond the copied head: trust the header
  __u32 end = len + 7;
  asm volatile("%[e] &= 1023" : [e] "+r"(end));  // the verifier needs the mask it cannot see in C
  return (__u8)p[end] == 0xce;
}

// NATS: PUB / HPUB sent, MSG / HMSG received.
static __always_inline bool is_nats(const char *p, __u64 size, bool sent)
{
  if (size < 6)
    return false;
  if (sent)
    return word(p, "PUB", 3) || word(p, "HPUB", 4);
  return word(p, "MSG", 3) || word(p, "HMSG", 4);
}

static __always_inline __u8 detect_request(const char *p, __u64 size)
{
  if (is_http_request(p, size))
    return COROOT_L7_HTTP;
  if (is_postgres_request(p, size))
    return COROOT_L7_POSTGRES;
  if (is_redis_request(p, size))
    return COROOT_L7_REDIS;
  if (is_mysql_request(p, size))
    return COROOT_L7_MYSQL;
  if (is_memcached_request(p, size))
    return COROOT_L7_MEMCACHED;
  if (is_mongo_request(p, size))
    return COROOT_L7_MONGO;
  if (is_zookeeper_path_request(p, size))
    return COROOT_L7_ZOOKEEPER;
  if (is_kafka_request(p, size))
    return COROOT_L7_KAFKA;
  if (is_cassandra_request(p, size))
    return COROOT_L7_CASSANDRA;
  if (is_dubbo_request(p, size))
    return COROOT_L7_DUBBO2;
  if (is_zookeeper_request(p, size))
    return COROOT_L7_ZOOKEEPER;
  if (is_clickhouse_query(p, size))
    return COROOT_L7_CLICKHOUSE;
  if (is_foundationdb_request(p, size))
    return COROOT_L7_FOUNDATIONDB;
  return 0;
}

// Fire-and-forget messages (no response): counted as produce when sent, consume when received.
static __always_inline __u8 detect_message(const char *p, __u64 size, bool sent)
{
  if (is_amqp_basic(p, size, sent ? 40 : 60))
    return COROOT_L7_RABBITMQ;
  if (is_nats(p, size, sent))
    return COROOT_L7_NATS;
  return 0;
}

// ---- response classifiers: h = the first RESP_HEAD bytes (zero-filled), n = bytes read ----
// NO_MATCH: not a response to the pending request (it stays pending). ZooKeeper's status is its
// err code, where 0 means ok, hence a sentinel rather than 0.
#define NO_MATCH (-0x7fffffff)

// Status code of "HTTP/1.x ddd", 0 when h is not a status line.
static __always_inline int http_status(const char *h)
{
  if (h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/' || h[8] != ' ')
    return NO_MATCH;
  if (!is_digit(h[9]) || !is_digit(h[10]) || !is_digit(h[11]))
    return NO_MATCH;
  return (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
}

// First message after ParseComplete / BindComplete / CloseComplete: ErrorResponse = failed.
static __always_inline int postgres_status(const char *h)
{
  int o = 0;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    char t = h[o & (RESP_HEAD - 1)];
    if (t != '1' && t != '2' && t != '3')
      break;
    o += 5;
  }
  char t = h[o & (RESP_HEAD - 1)];
  if (t == 'E')
    return COROOT_L7_STATUS_FAILED;
  if (t == 'T' || t == 'D' || t == 'C' || t == 'I' || t == 'n' || t == 's' || t == 'Z' || t == 't' || t == 'N' ||
      t == 'S' || t == '1' || t == '2' || t == '3')
    return COROOT_L7_STATUS_OK;
  return NO_MATCH;
}

static __always_inline int redis_status(const char *h)
{
  switch (h[0]) {
  case '-': case '!': return COROOT_L7_STATUS_FAILED;
  case '+': case ':': case '$': case '*': case '_': case ',': case '#': case '%': case '~': case '=': case '(':
  case '|': case '>':
    return COROOT_L7_STATUS_OK;
  }
  return NO_MATCH;
}

static __always_inline bool starts(const char *h, const char *w, int n)
{
  for (int i = 0; i < n; i++)
    if (h[i] != w[i])
      return false;
  return true;
}

static __always_inline int memcached_status(const char *h)
{
  if (starts(h, "ERROR", 5) || starts(h, "CLIENT_ERROR", 12) || starts(h, "SERVER_ERROR", 12))
    return COROOT_L7_STATUS_FAILED;
  if (starts(h, "VALUE", 5) || starts(h, "STORED", 6) || starts(h, "DELETED", 7) || starts(h, "TOUCHED", 7) ||
      starts(h, "NOT_", 4) || starts(h, "EXISTS", 6) || starts(h, "END", 3) || is_digit(h[0]))
    return COROOT_L7_STATUS_OK;
  return NO_MATCH;
}

// The first packet of the response (sequence > 0): ERR = failed; OK, EOF or a result set = ok.
// partial: the client read the packet header on its own (h[0..3] are zero).
static __always_inline int mysql_status(const char *h, bool partial, __u32 *stmt_id)
{
  if (!partial && h[3] == 0)
    return NO_MATCH;
  const char *b = h + 4;
  __u8 t = b[0];
  if (t == 0xff)
    return COROOT_L7_STATUS_FAILED;
  if (t == 0x00)
    *stmt_id = le32(b + 1);  // COM_STMT_PREPARE_OK: status(0) + statement id
  return COROOT_L7_STATUS_OK;
}

// OP_MSG / OP_COMPRESSED with responseTo set.
static __always_inline int mongo_status(const char *h)
{
  return le32(h + 8) != 0 ? COROOT_L7_STATUS_OK : NO_MATCH;
}

// The response's correlation id is the request's.
static __always_inline int kafka_status(const char *h, const char *req)
{
  return be32(h + 4) == be32(req + 8) ? COROOT_L7_STATUS_OK : NO_MATCH;
}

// v4 response (0x84) on the request's stream: RESULT ok, ERROR failed.
static __always_inline int cassandra_status(const char *h, const char *req)
{
  if ((__u8)h[0] != 0x84 || h[2] != req[2] || h[3] != req[3])
    return NO_MATCH;
  if (h[4] == 0x08)
    return COROOT_L7_STATUS_OK;
  if (h[4] == 0x00)
    return COROOT_L7_STATUS_FAILED;
  return NO_MATCH;
}

// Response (no request flag) with the request's id; status 20 = OK.
static __always_inline int dubbo_status(const char *h, const char *req)
{
  if ((__u8)h[0] != 0xda || (__u8)h[1] != 0xbb || (h[2] & 0x80))
    return NO_MATCH;
  for (int i = 4; i < 12; i++)
    if (h[i] != req[i])
      return NO_MATCH;
  return h[3] == 20 ? COROOT_L7_STATUS_OK : COROOT_L7_STATUS_FAILED;
}

// length, xid (the request's), zxid, err: the status is err.
static __always_inline int zookeeper_status(const char *h, const char *req)
{
  if (be32(h + 4) != be32(req + 4))
    return NO_MATCH;
  return (__s32)be32(h + 16);
}

// ClickHouse: the server's first packet after a query decides (one event per query, however many
// packets follow): Exception (2) = failed; Data, Progress, EndOfStream, ProfileInfo, Totals,
// Extremes, Log, TableColumns, ProfileEvents = ok.
static __always_inline int clickhouse_status(const char *h)
{
  switch (h[0]) {
  case 2: return COROOT_L7_STATUS_FAILED;
  case 1: case 3: case 5: case 6: case 7: case 8: case 10: case 11: case 14: return COROOT_L7_STATUS_OK;
  }
  return NO_MATCH;
}

// ---- pairing ----

// While the data of a vectored call is classified from the per-CPU gather buffer
// (l7_gather.active), it is addressed as GATHER_BASE + offset: a plain number like a user pointer
// (and below mmap_min_addr, so never one), which lets every function take buf as a scalar, global
// functions included. A direct bpf_probe_read_user of it fails, as it should.
#define GATHER_BASE 0x1000UL

// Reads n bytes of the data being classified: from user memory or from the gather buffer.
static __always_inline long read_data(void *dst, __u32 n, const void *src)
{
  __u32 zero = 0;
  struct coroot_l7_gather *g = bpf_map_lookup_elem(&l7_gather, &zero);
  if (!g || !g->active)
    return bpf_probe_read_user(dst, n, src);
  __u64 off = (__u64)src - GATHER_BASE;
  if (off >= sizeof(g->data) || n > sizeof(g->data) - off)
    return -1;  // beyond what was gathered
  return bpf_probe_read_kernel(dst, n, g->data + off);
}

// FoundationDB: a known ErrorOr reply; failed when its union type byte (field 0 of the root table)
// is 1 (Error), ok otherwise (also when the root table is not within the first FDB_HEAD bytes).
// Offsets are flatbuffers': vtable = table - i32 at table; vtable u16s: size, table size, fields.
#define FDB_HEAD 128
static __always_inline __u32 fdb_u8(const char *b, __u32 o)
{
  asm volatile("%[o] &= 127" : [o] "+r"(o));
  return (__u8)b[o];
}
static __always_inline __u32 fdb_u16(const char *b, __u32 o) { return fdb_u8(b, o) | fdb_u8(b, o + 1) << 8; }
static __always_inline __u32 fdb_u32(const char *b, __u32 o) { return fdb_u16(b, o) | fdb_u16(b, o + 2) << 16; }

// buf: user memory or the gather buffer (read_data); its first FDB_HEAD bytes are looked at.
static __always_inline int foundationdb_status(const void *buf, __u64 size)
{
  char b[FDB_HEAD] = {};
  __u64 n = size;
  CLAMP(n, FDB_HEAD);
  if (n < 28 || read_data(b, n, buf) != 0)
    return NO_MATCH;
  __u32 o = foundationdb_connect_size(b);
  if (o && size <= o)
    return NO_MATCH;
  int w = foundationdb_packet(b, size, o, true);
  if (w < 0)
    return NO_MATCH;
  __u32 m = o + 4 + w + 16;  // the message: root offset, file_identifier, tables
  __u32 table = m + fdb_u32(b, m);
  if (table < m + 8 || table + 4 > n)
    return COROOT_L7_STATUS_OK;
  __u32 vt = table - fdb_u32(b, table);
  if (vt < m + 8 || vt + 6 > n || fdb_u16(b, vt) < 6)
    return COROOT_L7_STATUS_OK;
  __u32 type_at = table + fdb_u16(b, vt + 4);
  if (type_at < table + 4 || type_at >= n)
    return COROOT_L7_STATUS_OK;
  return fdb_u8(b, type_at) == 1 ? COROOT_L7_STATUS_FAILED : COROOT_L7_STATUS_OK;
}

static __always_inline void emit(__u64 key, const struct coroot_l7_sock *s, const struct coroot_l7_request *req,
                                 int status, __u32 stmt_id)
{
  struct coroot_l7_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    coroot_count_drop(COROOT_DROP_RINGBUF_FULL);
    return;
  }
  e->fd = (__u32)key;
  e->connection_timestamp = s->ts_ns;
  e->pid = key >> 32;
  e->status = status;
  e->duration_ns = bpf_ktime_get_ns() - req->ts_ns;
  e->protocol = req->protocol;
  e->method = req->method;
  e->is_inbound = s->inbound;
  e->pad = 0;
  e->statement_id = stmt_id;
  e->payload_size = req->payload_size;
  bpf_probe_read_kernel(e->payload, sizeof(e->payload), req->payload);
  e->cgroup_id = s->cgroup_id;
  bpf_ringbuf_submit(e, coroot_rb_flags());
}

// Copies the head of the data (up to 1024 bytes) into the per-CPU scratch request.
static __always_inline struct coroot_l7_request *copy_head(const void *buf, __u64 size)
{
  __u32 zero = 0;
  struct coroot_l7_request *r = bpf_map_lookup_elem(&l7_scratch, &zero);
  if (!r)
    return 0;
  __u64 n = size;
  CLAMP(n, COROOT_L7_PAYLOAD);
  if (read_data(r->payload, n, buf) != 0)
    return 0;
  r->ts_ns = bpf_ktime_get_ns();
  r->payload_size = size;
  r->method = 0;
  r->skip = 0;
  return r;
}

// Servers of length-prefixed protocols (MySQL, Mongo, Kafka, ZooKeeper) often read the 4-byte
// header on its own and then the body: the header is kept (as a request of protocol 0) and put
// back in front of the body when that arrives, so the detectors see the whole message.
static __always_inline struct coroot_l7_request *join_header(__u64 key, const void *buf, __u64 *size)
{
  struct coroot_l7_request *prev = bpf_map_lookup_elem(&l7_requests, &key);
  if (!prev || prev->protocol != 0)
    return 0;
  __u32 zero = 0;
  struct coroot_l7_request *r = bpf_map_lookup_elem(&l7_scratch, &zero);
  if (!r)
    return 0;
  __builtin_memcpy(r->payload, prev->payload, 4);
  __u64 n = *size;
  CLAMP(n, COROOT_L7_PAYLOAD - 4);
  if (read_data(r->payload + 4, n, buf) != 0)
    return 0;
  *size += 4;
  r->ts_ns = bpf_ktime_get_ns();
  r->payload_size = *size;
  r->method = 0;
  r->skip = 0;
  return r;
}

// ---- DNS ----

// d = a message's 12-byte header: QR bit as wanted, opcode QUERY, one question; a query carries
// no answer or authority records.
static __always_inline bool dns_header(const char *d, bool response)
{
  __u8 flags = d[2];
  if ((flags >> 7) != (response ? 1 : 0) || ((flags >> 3) & 0xf) != 0 || be16(d + 4) != 1)
    return false;
  return response || (be16(d + 6) == 0 && be16(d + 8) == 0);
}

// A query of `size` bytes (tcp: with its 2-byte length first): remembered by transaction id (and,
// on a server's socket, the client's port: peer). h = the message's first 14 bytes.
static __always_inline bool dns_query(__u64 key, const char *h, __u64 size, bool tcp, __u32 peer)
{
  const char *d = tcp ? h + 2 : h;
  if (size < DNS_HEADER + 5 + (tcp ? 2 : 0) || !dns_header(d, false))
    return false;  // shorter than a header + the root name + type + class
  if (tcp && (__u64)be16(h) + 2 != size)
    return false;
  struct coroot_l7_stream_key sk = {.sock = key, .stream = (peer << 16) | be16(d)};
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&l7_dns_requests, &sk, &ts, BPF_ANY);
  return true;
}

// A query written to a UDP socket (buf in user memory).
static __always_inline void dns_udp_query(__u64 key, const void *buf, __u64 size)
{
  char h[14];
  if (size < sizeof(h) || bpf_probe_read_user(h, sizeof(h), buf) != 0)
    return;
  dns_query(key, h, size, false, 0);
}

// One DNS event: the response (buf, in user memory) to a query made at `start`; status = rcode.
// Inbound when the socket is a server's.
static __always_inline void dns_event(__u64 key, const struct coroot_l7_sock *s, __u64 start, const void *buf,
                                      __u64 size, int rcode)
{
  struct coroot_l7_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    coroot_count_drop(COROOT_DROP_RINGBUF_FULL);
    return;
  }
  __u64 n = size;
  CLAMP(n, COROOT_L7_PAYLOAD);
  if (bpf_probe_read_user(e->payload, n, buf) != 0) {
    bpf_ringbuf_discard(e, 0);
    return;
  }
  e->fd = (__u32)key;
  e->connection_timestamp = s->ts_ns;
  e->pid = key >> 32;
  e->status = rcode;
  e->duration_ns = bpf_ktime_get_ns() - start;
  e->protocol = COROOT_L7_DNS;
  e->method = 0;
  e->is_inbound = s->inbound ? 1 : 0;
  e->pad = 0;
  e->statement_id = 0;
  e->payload_size = size;
  e->cgroup_id = s->cgroup_id;
  bpf_ringbuf_submit(e, coroot_rb_flags());
}

// Data read on an outbound socket that may answer a kept query: one event carrying the response.
// On TCP the message comes after its 2-byte length, or alone when the length was read on its own
// (glibc reads 2 bytes, then the message).
static __always_inline bool dns_response(__u64 key, const struct coroot_l7_sock *s, const void *buf, __u64 size,
                                         bool tcp)
{
  char h[16];
  if (size < sizeof(h) || bpf_probe_read_user(h, sizeof(h), buf) != 0)
    return false;
  const char *d = h;
  if (tcp && dns_header(h + 2, true))
    d = h + 2;
  else if (!dns_header(h, true))
    return false;
  struct coroot_l7_stream_key sk = {.sock = key, .stream = be16(d)};
  __u64 *ts = bpf_map_lookup_elem(&l7_dns_requests, &sk);
  if (!ts)
    return false;
  __u64 start = *ts;
  bpf_map_delete_elem(&l7_dns_requests, &sk);
  dns_event(key, s, start, buf, size, d[3] & 0xf);
  return true;
}

// ---- DNS servers: UDP sockets bound to port 53 (bind(2) below). Their datagrams carry the
// client's address, whose port goes into the query's key with the transaction id: clients pick ids
// at random, and two of them may pick the same one. Not inlined: every read/write program calls
// these, and they are verified apart from the big pairing code.

// The port of a user sockaddr (IPv4/IPv6), 0 if there is none.
static __always_inline __u32 sockaddr_port(const void *addr)
{
  __u16 h[2];
  if (!addr || bpf_probe_read_user(h, sizeof(h), addr) != 0)
    return 0;
  return h[0] == COROOT_AF_INET || h[0] == COROOT_AF_INET6 ? bpf_ntohs(h[1]) : 0;
}

// A datagram a DNS server received (from the client at addr): a query is remembered.
static __noinline void dns_server_query(__u64 key, const void *buf, __u64 size, const void *addr)
{
  __u32 port = sockaddr_port(addr);
  char h[14];
  if (!port || size < sizeof(h) || bpf_probe_read_user(h, sizeof(h), buf) != 0)
    return;
  dns_query(key, h, size, false, port);
}

// A datagram a DNS server sends (to the client at addr): the response to a remembered query gives
// one inbound event.
static __noinline void dns_server_response(__u64 key, const struct coroot_l7_sock *s, const void *buf, __u64 size,
                                           const void *addr)
{
  __u32 port = sockaddr_port(addr);
  char h[DNS_HEADER];
  if (!port || size < 16 || bpf_probe_read_user(h, sizeof(h), buf) != 0 || !dns_header(h, true))
    return;
  struct coroot_l7_stream_key sk = {.sock = key, .stream = (port << 16) | be16(h)};
  __u64 *ts = bpf_map_lookup_elem(&l7_dns_requests, &sk);
  if (!ts)
    return;
  __u64 start = *ts;
  bpf_map_delete_elem(&l7_dns_requests, &sk);
  dns_event(key, s, start, buf, size, h[3] & 0xf);
}

// The id a response of this protocol will carry, for the protocols that pipeline (false: one
// request at a time, kept in l7_requests).
static __always_inline bool stream_of(const char *p, __u64 size, __u8 proto, __u32 *stream)
{
  switch (proto) {
  case COROOT_L7_KAFKA: *stream = be32(p + 8); return true;
  case COROOT_L7_CASSANDRA: *stream = be16(p + 2); return true;
  case COROOT_L7_DUBBO2: *stream = be32(p + 8); return true;
  }
  return false;
}

// ---- HTTP/2: after the client's connection preface, every read and write of the connection is
// shipped raw (its first 1024 bytes and its size) and the frames are paired in user space.

// The preface's first line: servers (Go's) read the 24-byte preface in pieces, 14 bytes first.
static const char h2_preface[14] = "PRI * HTTP/2.0";

// True when the data belongs to an HTTP/2 connection (and was shipped).
static __always_inline bool h2_data(__u64 key, const struct coroot_l7_sock *cs, const void *buf, __u64 size,
                                    bool from_client)
{
  struct coroot_l7_sock *s = (struct coroot_l7_sock *)cs;
  if (!s->http2) {
    if (!from_client || size < sizeof(h2_preface))
      return false;
    char p[sizeof(h2_preface)];
    if (read_data(p, sizeof(p), buf) != 0)
      return false;
    for (int i = 0; i < (int)sizeof(p); i++)
      if (p[i] != h2_preface[i])
        return false;
    s->http2 = 1;
    bpf_map_delete_elem(&l7_requests, &key);
  }
  struct coroot_h2_chunk *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) {
    coroot_count_drop(COROOT_DROP_RINGBUF_FULL);
    return true;
  }
  __u64 n = size;
  CLAMP(n, COROOT_L7_PAYLOAD);
  if (read_data(e->payload, n, buf) != 0) {
    bpf_ringbuf_discard(e, 0);
    return true;
  }
  e->fd = (__u32)key;
  e->connection_timestamp = s->ts_ns;
  e->ts_ns = bpf_ktime_get_ns();
  e->cgroup_id = s->cgroup_id;
  e->size = size;
  e->pid = key >> 32;
  e->direction = from_client ? COROOT_H2_CLIENT_TO_SERVER : COROOT_H2_SERVER_TO_CLIENT;
  e->is_inbound = s->inbound;
  e->pad[0] = e->pad[1] = 0;
  bpf_ringbuf_submit(e, coroot_rb_flags());
  return true;
}

// Where the first broker message of buf may start: past up to 3 NATS control lines (+OK, PING,
// PONG) or complete AMQP frames that are no message, as when a consumer's read starts with the
// reply to another command (Basic.ConsumeOk, a heartbeat, +OK) and goes on with a delivery, or a
// client writes PONG or Basic.Ack before a publish. -1 when buf cannot hold a message there.
// A global function: the verifier checks it once, not once per path that reaches it.
__noinline long message_offset(__u64 buf, __u64 size, int sent)
{
  __u64 o = 0;
  for (int i = 0; i < 4; i++) {  // a bounded loop: the verifier walks its 4 turns
    if (o + 12 > size)
      return -1;
    char h[12] = {};
    if (read_data(h, sizeof(h), (const char *)buf + o) != 0)
      return -1;
    if (h[0] == 'M' || h[0] == 'H' || (sent && h[0] == 'P' && h[1] == 'U'))
      return o;  // maybe MSG, HMSG, HPUB, PUB: detect_message decides
    if (h[0] == '+' && h[1] == 'O' && h[2] == 'K' && h[3] == '\r' && h[4] == '\n') {
      o += 5;
      continue;
    }
    if (h[0] == 'P' && (h[1] == 'I' || h[1] == 'O') && h[2] == 'N' && h[3] == 'G' && h[4] == '\r' && h[5] == '\n') {
      o += 6;
      continue;
    }
    if (h[0] != 1 && h[0] != 2 && h[0] != 3 && h[0] != 8)
      return -1;
    if (h[0] == 1 && be16(h + 7) == 60 && be16(h + 9) == (sent ? 40 : 60))
      return o;
    __u64 end = o + 7 + be32(h + 3);  // the frame-end octet
    char fe = 0;
    if (end >= size || read_data(&fe, 1, (const char *)buf + end) != 0 || (__u8)fe != 0xce)
      return -1;
    o = end + 1;
  }
  return -1;
}

// A broker message sent or received, possibly behind control lines or frames (message_offset):
// its head copied into the scratch request (payload_size = the bytes from it on), or 0.
static __always_inline struct coroot_l7_request *copy_message(const void *buf, __u64 size, bool sent)
{
  __u32 zero = 0;
  struct coroot_l7_request *r = bpf_map_lookup_elem(&l7_scratch, &zero);
  long o = message_offset((__u64)buf, size, sent);
  if (!r || o < 0)
    return 0;
  // Through the map: the verifier then goes on from one unknown offset, not from a precise one per
  // path that reaches here (each would walk copy_head and detect_message again).
  r->head_offset = o;
  __u64 off = r->head_offset;
  if (off >= size)
    return 0;
  r = copy_head((const char *)buf + off, size - off);
  if (!r || !(r->protocol = detect_message(r->payload, r->payload_size, sent)))
    return 0;
  return r;
}

// Data that may be a request: sent on an outbound socket, received on an inbound one.
static __always_inline void on_request(__u64 key, const struct coroot_l7_sock *s, const void *buf, __u64 size)
{
  if (h2_data(key, s, buf, size, true))
    return;
  struct coroot_l7_request *r = 0;
  if (s->inbound)
    r = join_header(key, buf, &size);
  bool joined = r != 0;
  if (!r)
    r = copy_head(buf, size);
  if (!r)
    return;
  if (s->inbound && size == 4 && !joined) {
    // Possibly a header read on its own; never in place of a request that awaits its response.
    r->protocol = 0;
    bpf_map_update_elem(&l7_requests, &key, r, BPF_NOEXIST);
    return;
  }
  __u8 proto = detect_request(r->payload, size);
  if (proto) {
    r->protocol = proto;
    struct coroot_l7_stream_key sk = {.sock = key};
    bool by_stream = stream_of(r->payload, size, proto, &sk.stream);
    if (by_stream)
      bpf_map_update_elem(&l7_stream_requests, &sk, r, BPF_ANY);
    // A Kafka request that could also be ZooKeeper's is kept both ways: its response decides
    // (the correlation id or the xid comes back).
    if (!by_stream || (proto == COROOT_L7_KAFKA && is_zookeeper_request(r->payload, size)))
      bpf_map_update_elem(&l7_requests, &key, r, BPF_ANY);
    return;
  }
  if (joined)
    bpf_map_delete_elem(&l7_requests, &key);  // a kept header whose body makes no request
  if (!s->inbound && dns_query(key, r->payload, size, true, 0))
    return;
  // A message a client publishes (Coroot counts messages on the client side only), maybe after
  // a PONG or an AMQP frame that is none (a consumer's Basic.Ack before a publish).
  if (s->inbound)
    return;
  char c = r->payload[0];
  if (c != 'P' && c != 'H' && c != '+' && c != 1 && c != 2 && c != 3 && c != 8)
    return;  // cheap pre-check before looking again
  if ((r = copy_message(buf, size, true)))
    emit(key, s, r, COROOT_L7_STATUS_OK, 0);
}

// A client received data that answers no request: a message delivered to a consumer?
static __always_inline void on_unsolicited(__u64 key, const struct coroot_l7_sock *s, const void *buf, __u64 size)
{
  struct coroot_l7_request *r = copy_message(buf, size, false);
  if (r)
    emit(key, s, r, COROOT_L7_STATUS_OK, 0);
}

// A response that names its request (Kafka, Cassandra, Dubbo2): looked up by that id. True when
// it was one (or may be: a 4-byte length prefix read alone, remembered in s->partial).
static __always_inline bool on_stream_response(__u64 key, struct coroot_l7_sock *s, const void *buf, __u64 size)
{
  char h[RESP_HEAD] = {};
  bool partial = s->partial;
  s->partial = 0;
  __u64 n = size;
  if (partial) {
    CLAMP(n, RESP_HEAD - 4);
    if (read_data(h + 4, n, buf) != 0)
      return false;
  } else {
    if (size == 4) {
      s->partial = 1;
      return true;
    }
    CLAMP(n, RESP_HEAD);
    if (read_data(h, n, buf) != 0)
      return false;
  }
  struct coroot_l7_stream_key sk = {.sock = key};
  struct coroot_l7_request *req;
  int status = NO_MATCH;
  // Cassandra v4 response / Dubbo2 magic: the id is at a fixed place; anything else may be Kafka.
  if ((__u8)h[0] == 0x84) {
    sk.stream = be16(h + 2);
    req = bpf_map_lookup_elem(&l7_stream_requests, &sk);
    if (req && req->protocol == COROOT_L7_CASSANDRA)
      status = cassandra_status(h, req->payload);
  } else if ((__u8)h[0] == 0xda && (__u8)h[1] == 0xbb) {
    sk.stream = be32(h + 8);
    req = bpf_map_lookup_elem(&l7_stream_requests, &sk);
    if (req && req->protocol == COROOT_L7_DUBBO2)
      status = dubbo_status(h, req->payload);
  } else {
    sk.stream = be32(h + 4);
    req = bpf_map_lookup_elem(&l7_stream_requests, &sk);
    if (req && req->protocol == COROOT_L7_KAFKA)
      status = COROOT_L7_STATUS_OK;
  }
  if (!req || status == NO_MATCH)
    return false;
  emit(key, s, req, status, 0);
  bpf_map_delete_elem(&l7_stream_requests, &sk);
  return true;
}

// Data that may be the response to the socket's pending request.
static __always_inline void on_response(__u64 key, struct coroot_l7_sock *s, const void *buf, __u64 size)
{
  if (s->http2 && h2_data(key, s, buf, size, false))
    return;
  if (s->udp) {
    dns_response(key, s, buf, size, false);
    return;
  }
  struct coroot_l7_request *req = bpf_map_lookup_elem(&l7_requests, &key);
  if (!req) {
    if (!s->inbound && dns_response(key, s, buf, size, true))
      return;
    if (!on_stream_response(key, s, buf, size) && !s->inbound)
      on_unsolicited(key, s, buf, size);
    return;
  }
  // h = the response from its first byte on. After a 4-byte length prefix read on its own
  // (partial), this read's data goes at h + 4 so that every field is at its protocol offset.
  char h[RESP_HEAD] = {};
  bool partial = req->skip != 0;
  __u64 n = size;
  if (partial) {
    CLAMP(n, RESP_HEAD - 4);
    if (read_data(h + 4, n, buf) != 0)
      return;
  } else {
    CLAMP(n, RESP_HEAD);
    if (read_data(h, n, buf) != 0)
      return;
  }
  int status = NO_MATCH;
  __u32 stmt_id = 0;
  // Kept as Kafka, so also in l7_stream_requests (even if its response shows it is ZooKeeper's).
  const bool kafka_copy = req->protocol == COROOT_L7_KAFKA;
  switch (req->protocol) {
  case COROOT_L7_HTTP: status = http_status(h); break;
  case COROOT_L7_POSTGRES: status = postgres_status(h); break;
  case COROOT_L7_REDIS: status = redis_status(h); break;
  case COROOT_L7_MEMCACHED: status = memcached_status(h); break;
  case COROOT_L7_CASSANDRA: status = cassandra_status(h, req->payload); break;
  case COROOT_L7_DUBBO2: status = dubbo_status(h, req->payload); break;
  case COROOT_L7_CLICKHOUSE: status = clickhouse_status(h); break;
  case COROOT_L7_FOUNDATIONDB: status = foundationdb_status(buf, size); break;
  case COROOT_L7_MYSQL:
  case COROOT_L7_MONGO:
  case COROOT_L7_KAFKA:
  case COROOT_L7_ZOOKEEPER:
    // Clients of these length-prefixed protocols often read the 4-byte length on its own.
    if (size == 4 && !partial) {
      req->skip = 4;
      s->partial = 1;  // for on_stream_response, should this request not be the one answered
      return;
    }
    if (req->protocol == COROOT_L7_MYSQL)
      status = mysql_status(h, partial, &stmt_id);
    else if (req->protocol == COROOT_L7_MONGO)
      status = mongo_status(h);
    else if (req->protocol == COROOT_L7_KAFKA) {
      status = kafka_status(h, req->payload);
      // A ZooKeeper request can also pass for a Kafka one (xid = api key + version, op code =
      // correlation id); its response tells them apart: the xid comes back, not the opcode.
      if (status == NO_MATCH && is_zookeeper_request(req->payload, req->payload_size) &&
          (status = zookeeper_status(h, req->payload)) != NO_MATCH)
        req->protocol = COROOT_L7_ZOOKEEPER;
    }
    else
      status = zookeeper_status(h, req->payload);
    break;
  }
  if (status == NO_MATCH) {
    // Not the response to this request: maybe to a pipelined one (kept by id).
    on_stream_response(key, s, buf, size);
    return;
  }
  s->partial = 0;
  if (kafka_copy) {
    struct coroot_l7_stream_key sk = {.sock = key, .stream = be32(req->payload + 8)};
    bpf_map_delete_elem(&l7_stream_requests, &sk);  // its other copy
  }
  emit(key, s, req, status, stmt_id);
  bpf_map_delete_elem(&l7_requests, &key);
}

#include "l7_tls.h"

// Whether fd of the current process is a socket of this protocol and type (CO-RE walk files ->
// fdtable -> file -> socket).
static __always_inline bool fd_is_socket(__u64 fd, __u16 protocol, __u16 type)
{
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
  unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
  if (!fds || fd >= max)
    return false;
  struct file *f = 0;
  if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) != 0 || !f)
    return false;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT_) != S_IFSOCK_)
    return false;
  struct socket *sock = BPF_CORE_READ(f, private_data);
  if (!sock)
    return false;
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk)
    return false;
  return BPF_CORE_READ(sk, sk_protocol) == protocol && BPF_CORE_READ(sk, sk_type) == type;
}

// addr (a user sockaddr) is an IPv4/IPv6 address with port 53.
static __always_inline bool is_dns_addr(const void *addr)
{
  if (!addr)
    return false;
  __u16 h[2];
  if (bpf_probe_read_user(h, sizeof(h), addr) != 0)
    return false;
  return (h[0] == COROOT_AF_INET || h[0] == COROOT_AF_INET6) && h[1] == bpf_htons(DNS_PORT);
}

// Traces a UDP socket of the current process that talks to port 53 (connected to it, or sending
// a datagram to it).
static __always_inline void trace_dns_socket(__u64 fd)
{
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  if (bpf_map_lookup_elem(&l7_socks, &key) || !fd_is_socket(fd, IPPROTO_UDP_, SOCK_DGRAM_))
    return;
  struct coroot_l7_sock s = {.ts_ns = bpf_ktime_get_ns(), .cgroup_id = bpf_get_current_cgroup_id(), .udp = 1};
  bpf_map_update_elem(&l7_socks, &key, &s, BPF_ANY);
}

// A write-like syscall on fd: buf/size of its (first) buffer; addr = its destination (sendto,
// sendmsg), 0 if none.
static __always_inline void on_write(__u64 fd, const void *buf, __u64 size, const void *addr)
{
  if (size == 0)
    return;
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s || tls_claim_write(fd) || s->tls)
    return;
  if (s->udp) {
    if (s->inbound)
      dns_server_response(key, s, buf, size, addr);
    else
      dns_udp_query(key, buf, size);
    return;
  }
  if (s->inbound)
    on_response(key, s, buf, size);
  else
    on_request(key, s, buf, size);
}

// A send with a destination address (unconnected sockets): a datagram to port 53 starts tracing
// its socket.
static __always_inline void on_send(__u64 fd, const void *buf, __u64 size, const void *addr)
{
  if (is_dns_addr(addr))
    trace_dns_socket(fd);
  on_write(fd, buf, size, addr);
}

// addr: where recvfrom/recvmsg write the sender's address (0: read/readv).
// A read on a traced socket is remembered until its exit: buf/cap of the buffer, or (iovcnt > 1)
// buf = the iovec array.
static __always_inline void remember_read(__u64 fd, const void *buf, __u64 cap, __u64 iovcnt, const void *addr)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u64 key = l7_key(id >> 32, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s || tls_claim_read(fd) || s->tls)
    return;
  struct coroot_l7_read r = {.key = key, .buf = (__u64)buf, .cap = cap, .iovcnt = iovcnt, .addr = (__u64)addr};
  bpf_map_update_elem(&l7_reads, &id, &r, BPF_ANY);
}

static __always_inline void read_enter(__u64 fd, const void *buf, __u64 cap, const void *addr)
{
  remember_read(fd, buf, cap, 0, addr);
}

// The first iovec of an array in user memory.
static __always_inline bool first_iovec(const struct iovec *iov, __u64 cnt, const void **base, __u64 *len)
{
  if (!iov || cnt == 0)
    return false;
  struct iovec v = {};
  if (bpf_probe_read_user(&v, sizeof(v), iov) != 0)
    return false;
  *base = v.iov_base;
  *len = v.iov_len;
  return true;
}

// The iovec array and count of a msghdr in user memory, and its destination address (a sendmsg to
// an unconnected socket names it there).
static __always_inline bool msghdr_iov(const struct user_msghdr *m, const struct iovec **iov, __u64 *cnt,
                                       const void **name)
{
  struct user_msghdr h = {};
  if (bpf_probe_read_user(&h, sizeof(h), m) != 0)
    return false;
  if (name)
    *name = h.msg_name;
  *iov = h.msg_iov;
  *cnt = h.msg_iovlen;
  return true;
}

// The first iovec of a msghdr.
static __always_inline bool msghdr_iovec(const struct user_msghdr *m, const void **base, __u64 *len,
                                         const void **name)
{
  const struct iovec *iov;
  __u64 cnt;
  return msghdr_iov(m, &iov, &cnt, name) && first_iovec(iov, cnt, base, len);
}

// ---- vectored I/O: the head of the data is gathered from the first L7_IOV_MAX iovecs, so that a
// message split over iovecs (a header iovec + a body iovec) is classified as a whole.
#define L7_IOV_MAX 8

// Copies up to `want` bytes of the iovecs' data (the first COROOT_L7_PAYLOAD of them are kept) into
// the per-CPU gather buffer; *total = the bytes counted (at most want).
static __always_inline struct coroot_l7_gather *gather_iovecs(const struct iovec *iov, __u64 cnt, __u64 want,
                                                              __u64 *total)
{
  __u32 zero = 0;
  struct coroot_l7_gather *g = bpf_map_lookup_elem(&l7_gather, &zero);
  if (!g)
    return 0;
  __u64 sum = 0;
  for (int i = 0; i < L7_IOV_MAX; i++) {
    if (i >= cnt || sum >= want)
      break;
    struct iovec v = {};
    if (bpf_probe_read_user(&v, sizeof(v), &iov[i]) != 0)
      return 0;
    __u64 len = v.iov_len;
    if (len > want - sum)
      len = want - sum;
    if (sum < COROOT_L7_PAYLOAD && len > 0) {
      __u64 o = sum, n = len;
      asm volatile("%[o] &= 1023" : [o] "+r"(o));
      CLAMP(n, COROOT_L7_PAYLOAD);
      if (bpf_probe_read_user(g->data + o, n, v.iov_base) != 0)
        return 0;
    }
    sum += len;
  }
  *total = sum;
  return g;
}

// writev/sendmsg: one iovec is classified in place; more are gathered first (only for traced sockets).
static __always_inline void on_write_iov(__u64 fd, const struct iovec *iov, __u64 cnt, const void *addr)
{
  const void *base;
  __u64 len;
  if (cnt <= 1) {
    if (first_iovec(iov, cnt, &base, &len))
      on_write(fd, base, len, addr);
    return;
  }
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  if (!bpf_map_lookup_elem(&l7_socks, &key))
    return;
  __u64 total = 0;
  struct coroot_l7_gather *g = gather_iovecs(iov, cnt, ~0ULL, &total);
  if (!g)
    return;
  g->active = 1;
  on_write(fd, (const void *)GATHER_BASE, total, 0);  // (a DNS server's responses come in one iovec)
  g->active = 0;
}

// readv/recvmsg with more than one iovec: the array is remembered, the data gathered at exit.
static __always_inline void read_enter_iov(__u64 fd, const struct iovec *iov, __u64 cnt, const void *addr)
{
  const void *base;
  __u64 len;
  if (cnt <= 1) {
    if (first_iovec(iov, cnt, &base, &len))
      read_enter(fd, base, len, addr);
    return;
  }
  remember_read(fd, iov, 0, cnt, addr);
}

static __always_inline void read_exit_iov(__u64 key, struct coroot_l7_sock *s, const struct iovec *iov, __u64 cnt,
                                          long ret)
{
  __u64 total = 0;
  struct coroot_l7_gather *g = gather_iovecs(iov, cnt, ret, &total);
  if (!g || total == 0)
    return;
  g->active = 1;
  if (s->inbound)
    on_request(key, s, (const void *)GATHER_BASE, total);
  else
    on_response(key, s, (const void *)GATHER_BASE, total);
  g->active = 0;
}

static __always_inline void read_exit(long ret)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_l7_read *r = bpf_map_lookup_elem(&l7_reads, &id);
  if (!r)
    return;
  __u64 key = r->key, buf = r->buf, cap = r->cap, iovcnt = r->iovcnt, addr = r->addr;
  bpf_map_delete_elem(&l7_reads, &id);
  if (ret <= 0)
    return;
  __u64 n = (__u64)ret < cap ? (__u64)ret : cap;
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s)
    return;
  if (s->udp && s->inbound) {
    const void *base = (const void *)buf;
    if (iovcnt > 1 && !first_iovec((const struct iovec *)buf, iovcnt, &base, &n))
      return;
    dns_server_query(key, base, n < (__u64)ret ? n : (__u64)ret, (const void *)addr);
    return;
  }
  if (iovcnt > 1) {
    read_exit_iov(key, s, (const struct iovec *)buf, iovcnt, ret);
    return;
  }
  if (s->inbound)
    on_request(key, s, (const void *)buf, n);
  else
    on_response(key, s, (const void *)buf, n);
}

SEC("tracepoint/syscalls/sys_enter_write")
int coroot_l7_enter_write(struct trace_event_raw_sys_enter *ctx)
{
  on_write(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int coroot_l7_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
  on_send(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], (const void *)ctx->args[4]);
  return 0;
}

// DNS over TCP written as [2-byte length][message] iovec pairs (dig: one pair; glibc: two, A and
// AAAA): the messages are in the second iovec of each pair, beyond the first-iovec rule.
#define DNS_TCP_WRITEV_PAIRS 2
static __always_inline bool dns_tcp_writev(__u64 fd, const struct iovec *iov, __u64 cnt)
{
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s || s->inbound || s->udp || s->tls || s->http2)
    return false;
  bool found = false;
  for (int i = 0; i < DNS_TCP_WRITEV_PAIRS; i++) {
    struct iovec v[2] = {};
    char h[14];
    if (2 * i + 1 >= cnt || bpf_probe_read_user(v, sizeof(v), iov + 2 * i) != 0 || v[0].iov_len != 2 ||
        v[1].iov_len < DNS_HEADER || bpf_probe_read_user(h, 2, v[0].iov_base) != 0 ||
        bpf_probe_read_user(h + 2, DNS_HEADER, v[1].iov_base) != 0 || !dns_query(key, h, v[1].iov_len + 2, true, 0))
      break;
    found = true;
  }
  return found;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int coroot_l7_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
  __u64 fd = ctx->args[0], cnt = ctx->args[2];
  const struct iovec *iov = (const struct iovec *)ctx->args[1];
  const void *base;
  __u64 len;
  // glibc and dig write DNS over TCP as [2-byte length][message] iovec pairs.
  if (cnt >= 2 && first_iovec(iov, cnt, &base, &len) && len == 2 && dns_tcp_writev(fd, iov, cnt))
    return 0;
  on_write_iov(fd, iov, cnt, 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int coroot_l7_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
  const struct iovec *iov;
  __u64 cnt;
  const void *name = 0;
  if (!msghdr_iov((const struct user_msghdr *)ctx->args[1], &iov, &cnt, &name))
    return 0;
  if (is_dns_addr(name))
    trace_dns_socket(ctx->args[0]);
  on_write_iov(ctx->args[0], iov, cnt, name);
  return 0;
}

// Messages after the first of a sendmmsg(2) looked at for DNS queries (glibc sends A and AAAA
// together; dig one at a time).
#define SENDMMSG_DNS_MAX 4

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int coroot_l7_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
  __u64 fd = ctx->args[0];
  const struct mmsghdr *v = (const struct mmsghdr *)ctx->args[1];
  __u64 vlen = ctx->args[2];
  const void *base, *name = 0;
  __u64 len;
  if (vlen == 0 || !msghdr_iovec(&v[0].msg_hdr, &base, &len, &name))
    return 0;
  on_send(fd, base, len, name);  // the first message, as a sendmsg
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s || !s->udp || s->inbound)
    return 0;
  for (int i = 1; i <= SENDMMSG_DNS_MAX; i++) {
    if (i >= vlen || !msghdr_iovec(&v[i].msg_hdr, &base, &len, 0))
      break;
    dns_udp_query(key, base, len);
  }
  return 0;
}

// connect(2) of a UDP socket to port 53: its datagrams are DNS queries and responses.
SEC("tracepoint/syscalls/sys_enter_connect")
int coroot_l7_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
  if (is_dns_addr((const void *)ctx->args[1]))
    trace_dns_socket(ctx->args[0]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int coroot_l7_enter_read(struct trace_event_raw_sys_enter *ctx)
{
  read_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int coroot_l7_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
  read_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2], (const void *)ctx->args[4]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int coroot_l7_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
  read_enter_iov(ctx->args[0], (const struct iovec *)ctx->args[1], ctx->args[2], 0);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int coroot_l7_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
  const struct iovec *iov;
  __u64 cnt;
  const void *name = 0;
  if (msghdr_iov((const struct user_msghdr *)ctx->args[1], &iov, &cnt, &name))
    read_enter_iov(ctx->args[0], iov, cnt, name);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int coroot_l7_exit_read(struct trace_event_raw_sys_exit *ctx)
{
  read_exit(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int coroot_l7_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
  read_exit(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_readv")
int coroot_l7_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
  read_exit(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int coroot_l7_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
  read_exit(ctx->ret);
  return 0;
}

// bind(2) of a UDP socket to port 53: a DNS server's socket, whose datagrams are queries (read)
// and responses (written). The fd is remembered until the bind is known to have succeeded.
SEC("tracepoint/syscalls/sys_enter_bind")
int coroot_l7_enter_bind(struct trace_event_raw_sys_enter *ctx)
{
  if (!is_dns_addr((const void *)ctx->args[1]))
    return 0;
  __u64 id = bpf_get_current_pid_tgid(), fd = ctx->args[0];
  bpf_map_update_elem(&l7_dns_binds, &id, &fd, BPF_ANY);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_bind")
int coroot_l7_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u64 *p = bpf_map_lookup_elem(&l7_dns_binds, &id);
  if (!p)
    return 0;
  __u64 fd = *p;
  bpf_map_delete_elem(&l7_dns_binds, &id);
  if (ctx->ret != 0 || !fd_is_socket(fd, IPPROTO_UDP_, SOCK_DGRAM_))
    return 0;
  __u64 key = l7_key(id >> 32, fd);
  struct coroot_l7_sock s = {
      .ts_ns = bpf_ktime_get_ns(), .cgroup_id = bpf_get_current_cgroup_id(), .inbound = 1, .udp = 1};
  bpf_map_update_elem(&l7_socks, &key, &s, BPF_ANY);
  return 0;
}

static __always_inline void on_accept(long fd)
{
  if (fd < 0 || !fd_is_socket(fd, IPPROTO_TCP_, SOCK_STREAM_))
    return;
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock s = {.ts_ns = bpf_ktime_get_ns(), .cgroup_id = bpf_get_current_cgroup_id(), .inbound = 1};
  bpf_map_update_elem(&l7_socks, &key, &s, BPF_ANY);
  bpf_map_delete_elem(&l7_requests, &key);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int coroot_l7_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
  on_accept(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int coroot_l7_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
  on_accept(ctx->ret);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int coroot_l7_enter_close(struct trace_event_raw_sys_enter *ctx)
{
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, ctx->args[0]);
  if (bpf_map_delete_elem(&l7_socks, &key) == 0)
    bpf_map_delete_elem(&l7_requests, &key);
  return 0;
}
