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
// recvfrom, recvmsg (buffer remembered at sys_enter, payload read at sys_exit). Vectored calls are
// classified on their first iovec. One request is pending per socket: pipelined requests are
// paired last-request-wins (Coroot tracks no pipelines for these protocols).
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

#define IPPROTO_TCP_ 6
#define SOCK_STREAM_ 1
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
  case 'C':
    return p[1] == 'O' && p[2] == 'N' && p[3] == 'N' && p[4] == 'E' && p[5] == 'C' && p[6] == 'T' && p[7] == ' ';
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
  return 0;
}

// ---- response classifiers: h = the first RESP_HEAD bytes (zero-filled), n = bytes read ----

// Status code of "HTTP/1.x ddd", 0 when h is not a status line.
static __always_inline int http_status(const char *h)
{
  if (h[0] != 'H' || h[1] != 'T' || h[2] != 'T' || h[3] != 'P' || h[4] != '/' || h[8] != ' ')
    return 0;
  if (!is_digit(h[9]) || !is_digit(h[10]) || !is_digit(h[11]))
    return 0;
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
  return 0;
}

static __always_inline int redis_status(const char *h)
{
  switch (h[0]) {
  case '-': case '!': return COROOT_L7_STATUS_FAILED;
  case '+': case ':': case '$': case '*': case '_': case ',': case '#': case '%': case '~': case '=': case '(':
  case '|': case '>':
    return COROOT_L7_STATUS_OK;
  }
  return 0;
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
  return 0;
}

// The first packet of the response (sequence > 0): ERR = failed; OK, EOF or a result set = ok.
static __always_inline int mysql_status(const char *h, __u32 *stmt_id)
{
  if (h[3] == 0)
    return 0;
  __u8 t = h[4];
  if (t == 0xff)
    return COROOT_L7_STATUS_FAILED;
  if (t == 0x00)
    *stmt_id = le32(h + 5);  // COM_STMT_PREPARE_OK: status(0) + statement id
  return COROOT_L7_STATUS_OK;
}

// ---- pairing ----

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
  bpf_ringbuf_submit(e, coroot_rb_flags());
}

// Data the socket's owner sent or received that may be a request: copy its head and classify it.
static __always_inline void on_request(__u64 key, const void *buf, __u64 size)
{
  __u32 zero = 0;
  struct coroot_l7_request *r = bpf_map_lookup_elem(&l7_scratch, &zero);
  if (!r)
    return;
  __u64 n = size;
  CLAMP(n, COROOT_L7_PAYLOAD);
  if (bpf_probe_read_user(r->payload, n, buf) != 0)
    return;
  __u8 proto = detect_request(r->payload, size);
  if (!proto)
    return;
  r->ts_ns = bpf_ktime_get_ns();
  r->payload_size = size;
  r->protocol = proto;
  r->method = 0;
  bpf_map_update_elem(&l7_requests, &key, r, BPF_ANY);
}

// Data that may be the response to the socket's pending request.
static __always_inline void on_response(__u64 key, const struct coroot_l7_sock *s, const void *buf, __u64 size)
{
  struct coroot_l7_request *req = bpf_map_lookup_elem(&l7_requests, &key);
  if (!req)
    return;
  char h[RESP_HEAD] = {};
  __u64 n = size;
  CLAMP(n, RESP_HEAD);
  if (bpf_probe_read_user(h, n, buf) != 0)
    return;
  int status = 0;
  __u32 stmt_id = 0;
  switch (req->protocol) {
  case COROOT_L7_HTTP: status = http_status(h); break;
  case COROOT_L7_POSTGRES: status = postgres_status(h); break;
  case COROOT_L7_REDIS: status = redis_status(h); break;
  case COROOT_L7_MEMCACHED: status = memcached_status(h); break;
  case COROOT_L7_MYSQL:
    if (size < 5)
      return;  // the client read only the 4-byte header: the rest follows
    status = mysql_status(h, &stmt_id);
    break;
  }
  if (!status)
    return;  // not a response of this protocol: keep waiting
  emit(key, s, req, status, stmt_id);
  bpf_map_delete_elem(&l7_requests, &key);
}

// A write-like syscall on fd: buf/size of its (first) buffer.
static __always_inline void on_write(__u64 fd, const void *buf, __u64 size)
{
  if (size == 0)
    return;
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s)
    return;
  if (s->inbound)
    on_response(key, s, buf, size);
  else
    on_request(key, buf, size);
}

static __always_inline void read_enter(__u64 fd, const void *buf, __u64 cap)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u64 key = l7_key(id >> 32, fd);
  if (!bpf_map_lookup_elem(&l7_socks, &key))
    return;
  struct coroot_l7_read r = {.key = key, .buf = (__u64)buf, .cap = cap};
  bpf_map_update_elem(&l7_reads, &id, &r, BPF_ANY);
}

static __always_inline void read_exit(long ret)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_l7_read *r = bpf_map_lookup_elem(&l7_reads, &id);
  if (!r)
    return;
  __u64 key = r->key, buf = r->buf, cap = r->cap;
  bpf_map_delete_elem(&l7_reads, &id);
  if (ret <= 0)
    return;
  __u64 n = (__u64)ret < cap ? (__u64)ret : cap;
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s)
    return;
  if (s->inbound)
    on_request(key, (const void *)buf, n);
  else
    on_response(key, s, (const void *)buf, n);
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

static __always_inline bool msghdr_iovec(const struct user_msghdr *m, const void **base, __u64 *len)
{
  struct user_msghdr h = {};
  if (bpf_probe_read_user(&h, sizeof(h), m) != 0)
    return false;
  return first_iovec(h.msg_iov, h.msg_iovlen, base, len);
}

SEC("tracepoint/syscalls/sys_enter_write")
int coroot_l7_enter_write(struct trace_event_raw_sys_enter *ctx)
{
  on_write(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int coroot_l7_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
  on_write(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int coroot_l7_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
  const void *base;
  __u64 len;
  if (first_iovec((const struct iovec *)ctx->args[1], ctx->args[2], &base, &len))
    on_write(ctx->args[0], base, len);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int coroot_l7_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
  const void *base;
  __u64 len;
  if (msghdr_iovec((const struct user_msghdr *)ctx->args[1], &base, &len))
    on_write(ctx->args[0], base, len);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int coroot_l7_enter_read(struct trace_event_raw_sys_enter *ctx)
{
  read_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int coroot_l7_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
  read_enter(ctx->args[0], (const void *)ctx->args[1], ctx->args[2]);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int coroot_l7_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
  const void *base;
  __u64 len;
  if (first_iovec((const struct iovec *)ctx->args[1], ctx->args[2], &base, &len))
    read_enter(ctx->args[0], base, len);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int coroot_l7_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
  const void *base;
  __u64 len;
  if (msghdr_iovec((const struct user_msghdr *)ctx->args[1], &base, &len))
    read_enter(ctx->args[0], base, len);
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

// Whether fd of the current process is a TCP socket (CO-RE walk files -> fdtable -> file -> socket).
static __always_inline bool fd_is_tcp(__u64 fd)
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
  return BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP_ && BPF_CORE_READ(sk, sk_type) == SOCK_STREAM_;
}

static __always_inline void on_accept(long fd)
{
  if (fd < 0 || !fd_is_tcp(fd))
    return;
  __u64 key = l7_key(bpf_get_current_pid_tgid() >> 32, fd);
  struct coroot_l7_sock s = {.ts_ns = bpf_ktime_get_ns(), .inbound = 1};
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
