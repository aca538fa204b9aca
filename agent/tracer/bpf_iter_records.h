#pragma once
// Reading a BPF iterator (bpf_iter_create's fd) whose program writes fixed-size records.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/base/status.h"

namespace coroot::agent::tracer {

// Reads fd to its end, calling fn(const Record&) for each whole record (a read() may end inside
// one: the rest waits for the next read), and closes fd. what names the iterator in errors;
// read_errno, when given, receives the errno of a failed read() (0 otherwise).
template <typename Record, typename Fn>
Status ReadIterRecords(int fd, const std::string& what, Fn&& fn, int* read_errno = nullptr) {
  if (read_errno) *read_errno = 0;
  char buf[sizeof(Record) * 256];
  size_t have = 0;
  Status st;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof(buf) - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (read_errno) *read_errno = errno;
      st = ErrnoStatus("reading the " + what, errno);
      break;
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    size_t off = 0;
    for (; off + sizeof(Record) <= have; off += sizeof(Record)) {
      Record rec;
      std::memcpy(&rec, buf + off, sizeof(rec));
      fn(rec);
    }
    std::memmove(buf, buf + off, have - off);
    have -= off;
  }
  close(fd);
  return st;
}

}  // namespace coroot::agent::tracer
