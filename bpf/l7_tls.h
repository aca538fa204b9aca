/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS plaintext for L7 tracing, from uprobes that the agent attaches per library/binary file
 * (agent/tracer/tls decides where). Part of l7.bpf.c's compilation unit: it feeds the same
 * request/response pairing (on_request/on_response) with the data before encryption / after
 * decryption. A socket that carried plaintext is marked `tls`, and the syscall hooks then skip its
 * ciphertext.
 *
 * OpenSSL: the SSL* does not give the fd, so the first read/write syscall the library makes inside
 * SSL_write/SSL_read on the same thread names it (tls_claim_*), and tls_fds remembers it for calls
 * that make no syscall. SSL_write and SSL_write_ex share programs, as their first three arguments
 * agree; their int/size_t length is taken as 32 bits (the upper half of an int argument's register
 * is undefined).
 *
 * Go (register ABI, Go >= 1.17): (*Conn).Write(b) has c in RAX, b.ptr in RBX, b.len in RCX; the
 * goroutine is R14; Read's n is in RAX at each RET (uprobes on the RET instructions: Go functions
 * cannot take uretprobes). The fd: tls.Conn starts with its net.Conn interface {itab, data}; data
 * points to a net.TCPConn whose first word is the *netFD, and netFD.pfd.Sysfd is 16 bytes in
 * (after poll.fdMutex). */
#ifndef COROOT_BPF_L7_TLS_H
#define COROOT_BPF_L7_TLS_H

/* Plaintext written (is_write) or read on the process's socket fd. */
static __always_inline void tls_data(__u32 tgid, __s64 fd, __u64 buf, __u64 size, bool is_write)
{
  if (fd < 0 || size == 0)
    return;
  __u64 key = l7_key(tgid, fd);
  struct coroot_l7_sock *s = bpf_map_lookup_elem(&l7_socks, &key);
  if (!s)
    return;
  s->tls = 1;
  if (is_write == (bool)s->inbound)
    on_response(key, s, (const void *)buf, size);
  else
    on_request(key, s, (const void *)buf, size);
}

static __always_inline void tls_remember_fd(__u64 ssl, __u32 tgid, __s64 fd)
{
  struct coroot_tls_ssl_key k = {.ssl = ssl, .tgid = tgid};
  bpf_map_update_elem(&tls_fds, &k, &fd, BPF_ANY);
}

static __always_inline __s64 tls_known_fd(__u64 ssl, __u32 tgid)
{
  struct coroot_tls_ssl_key k = {.ssl = ssl, .tgid = tgid};
  __s64 *fd = bpf_map_lookup_elem(&tls_fds, &k);
  return fd ? *fd : -1;
}

/* A write syscall on a traced socket: true when it is OpenSSL's, inside SSL_write (the plaintext
 * is handed over here, the ciphertext is to be skipped). */
static __always_inline bool tls_claim_write(__u64 fd)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call *c = bpf_map_lookup_elem(&tls_writes, &id);
  if (!c)
    return false;
  if (!c->done) {
    c->done = 1;
    c->fd = fd;
    tls_remember_fd(c->ssl, id >> 32, fd);
    tls_data(id >> 32, fd, c->buf, c->size, true);
  }
  return true;
}

/* A read syscall on a traced socket: true when it is inside SSL_read (its fd is noted; the
 * plaintext comes at SSL_read's return). */
static __always_inline bool tls_claim_read(__u64 fd)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call *c = bpf_map_lookup_elem(&tls_reads, &id);
  if (!c)
    return false;
  if (c->fd != (__s64)fd) {
    c->fd = fd;
    tls_remember_fd(c->ssl, id >> 32, fd);
  }
  return true;
}

SEC("uprobe")
int BPF_KPROBE(coroot_openssl_write_enter, void *ssl, const void *buf, __u64 num)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call c = {.ssl = (__u64)ssl, .buf = (__u64)buf, .size = (__u32)num};
  c.fd = tls_known_fd(c.ssl, id >> 32);
  if (c.fd >= 0) {  /* the socket is known: no need to wait for the syscall */
    c.done = 1;
    tls_data(id >> 32, c.fd, c.buf, c.size, true);
  }
  bpf_map_update_elem(&tls_writes, &id, &c, BPF_ANY);
  return 0;
}

SEC("uretprobe")
int coroot_openssl_write_exit(struct pt_regs *ctx)
{
  __u64 id = bpf_get_current_pid_tgid();
  bpf_map_delete_elem(&tls_writes, &id);
  return 0;
}

static __always_inline void openssl_read_enter(void *ssl, const void *buf, __u64 readbytes)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call c = {.ssl = (__u64)ssl, .buf = (__u64)buf, .readbytes = readbytes};
  c.fd = tls_known_fd(c.ssl, id >> 32);
  bpf_map_update_elem(&tls_reads, &id, &c, BPF_ANY);
}

static __always_inline void openssl_read_exit(__s64 n)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call *c = bpf_map_lookup_elem(&tls_reads, &id);
  if (!c)
    return;
  __u64 buf = c->buf;
  __s64 fd = c->fd;
  bpf_map_delete_elem(&tls_reads, &id);
  if (n > 0)
    tls_data(id >> 32, fd, buf, n, false);
}

SEC("uprobe")
int BPF_KPROBE(coroot_openssl_read_enter, void *ssl, void *buf)
{
  openssl_read_enter(ssl, buf, 0);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(coroot_openssl_read_exit, int ret)
{
  openssl_read_exit(ret);
  return 0;
}

SEC("uprobe")
int BPF_KPROBE(coroot_openssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
  openssl_read_enter(ssl, buf, (__u64)readbytes);
  return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(coroot_openssl_read_ex_exit, int ret)
{
  __u64 id = bpf_get_current_pid_tgid();
  struct coroot_tls_call *c = bpf_map_lookup_elem(&tls_reads, &id);
  if (!c)
    return 0;
  __u64 n = 0;
  if (ret == 1 && c->readbytes)
    bpf_probe_read_user(&n, sizeof(n), (const void *)c->readbytes);
  openssl_read_exit(ret == 1 ? (__s64)n : 0);
  return 0;
}

static __always_inline __s64 go_conn_fd(__u64 conn)
{
  __u64 data = 0, netfd = 0;
  __s64 fd = -1;
  if (bpf_probe_read_user(&data, sizeof(data), (const void *)(conn + 8)) != 0 || !data)
    return -1;
  if (bpf_probe_read_user(&netfd, sizeof(netfd), (const void *)data) != 0 || !netfd)
    return -1;
  if (bpf_probe_read_user(&fd, sizeof(fd), (const void *)(netfd + 16)) != 0)
    return -1;
  return fd;
}

SEC("uprobe")
int coroot_go_tls_write_enter(struct pt_regs *ctx)
{
  __s64 fd = go_conn_fd(ctx->ax);
  tls_data(bpf_get_current_pid_tgid() >> 32, fd, ctx->bx, ctx->cx, true);
  return 0;
}

SEC("uprobe")
int coroot_go_tls_read_enter(struct pt_regs *ctx)
{
  struct coroot_go_read_key k = {.g = ctx->r14, .tgid = bpf_get_current_pid_tgid() >> 32};
  struct coroot_go_read r = {.buf = ctx->bx, .fd = go_conn_fd(ctx->ax)};
  if (r.fd >= 0)
    bpf_map_update_elem(&go_tls_reads, &k, &r, BPF_ANY);
  return 0;
}

SEC("uprobe")
int coroot_go_tls_read_exit(struct pt_regs *ctx)
{
  struct coroot_go_read_key k = {.g = ctx->r14, .tgid = bpf_get_current_pid_tgid() >> 32};
  struct coroot_go_read *r = bpf_map_lookup_elem(&go_tls_reads, &k);
  if (!r)
    return 0;
  __u64 buf = r->buf;
  __s64 fd = r->fd, n = (__s64)ctx->ax;
  bpf_map_delete_elem(&go_tls_reads, &k);
  if (n > 0)
    tls_data(k.tgid, fd, buf, n, false);
  return 0;
}

#endif
