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

#endif
