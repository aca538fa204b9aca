#pragma once
// Waiting for a BPF ring buffer without holding the lock that serializes its consumers.
//
// ring_buffer__poll() waits in epoll and then consumes, so a reader thread that calls it under
// the consumers' mutex holds that mutex while it sleeps; a thread that drains on demand (a
// gather) then waits for a mutex that the reader takes back at once after each timeout, and on
// some kernels' scheduling never gets it (seen: a registry scan blocked for minutes). Calling it
// without the mutex makes two consumers race on the ring instead. So: wait here, unlocked, on the
// ring's own epoll descriptor, and consume under the mutex only when it says there is data.
#include <bpf/libbpf.h>
#include <sys/epoll.h>

#include <cerrno>

namespace coroot::agent::tracer {

// > 0 when the ring has data to consume, 0 on timeout, -errno on failure (-EINTR included).
inline int WaitForRing(ring_buffer* rb, int timeout_ms) {
  epoll_event ev{};
  int n = epoll_wait(ring_buffer__epoll_fd(rb), &ev, 1, timeout_ms);
  return n < 0 ? -errno : n;
}

}  // namespace coroot::agent::tracer
