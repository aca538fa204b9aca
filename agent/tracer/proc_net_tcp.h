#pragma once
// Startup reconciliation: connections and listen sockets that existed before the tracer was
// attached, read from /proc/<pid>/net/tcp{,6} (one read per network namespace) and mapped to
// processes through the socket inodes in /proc/<pid>/fd.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/tracer/net_rules.h"
#include "lib/base/status.h"

namespace coroot::agent::tracer {

constexpr int kTcpEstablished = 1;
constexpr int kTcpListen = 10;

struct ProcTcpSocket {
  Ip local{}, remote{};
  uint16_t local_port = 0, remote_port = 0;
  int state = 0;
  uint64_t inode = 0;
};

// Parses the text of /proc/net/tcp (v6 = false) or /proc/net/tcp6. Lines that do not parse are
// skipped and counted in *malformed (when given); never fails on bad input.
std::vector<ProcTcpSocket> ParseProcNetTcp(std::string_view text, bool v6, size_t* malformed = nullptr);

struct ExistingSocket {
  uint32_t pid = 0;
  uint32_t netns = 0;
  ProcTcpSocket socket;
  bool outbound = false;  // for ESTABLISHED sockets
};

struct ScanLimits {
  size_t max_pids = 100000;
  size_t max_fds_per_pid = 65536;
};

// Walks proc_root ("/proc") and returns the LISTEN sockets and the ESTABLISHED sockets that
// belong to a process. A connection is outbound unless its local port is a listen port of its
// namespace or its remote port is greater than its local port (Coroot's rule).
StatusOr<std::vector<ExistingSocket>> ScanExistingSockets(const std::string& proc_root, ScanLimits limits = {});

// A socket as a process holds it.
struct ProcessSocket {
  uint32_t pid = 0;
  int fd = -1;
};

// UDP sockets bound to port 53 (DNS servers started before the tracer; /proc/<pid>/net/udp{,6},
// one read per network namespace), with every (pid, fd) that holds them.
StatusOr<std::vector<ProcessSocket>> ScanDnsServerSockets(const std::string& proc_root, ScanLimits limits = {});

}  // namespace coroot::agent::tracer
