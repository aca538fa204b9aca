#pragma once
// actual_destination: the post-NAT address of a connection, asked from the kernel's conntrack
// table over netlink (ctnetlink IPCTNL_MSG_CT_GET by the original tuple; the reply tuple's source
// is where the connection really goes). The netlink socket is opened inside the socket's network
// namespace (a socket stays bound to the namespace it was created in), one per namespace.
// This replaces Coroot's kprobe on nf_ct_deliver_cached_events, which this kernel cannot attach.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "agent/tracer/net_rules.h"
#include "lib/base/status.h"

namespace coroot::agent::tracer {

struct IpPort {
  Ip ip{};
  uint16_t port = 0;
};

// The request for the TCP connection src:sport -> dst:dport (IPv4 when both are v4-mapped).
std::string BuildConntrackGet(const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport, uint32_t seq);
// Parses the kernel's answer: the reply tuple's source, nullopt when there is no entry
// (ENOENT), an error for anything malformed. Never reads out of bounds.
StatusOr<std::optional<IpPort>> ParseConntrackReply(std::string_view msg);

class Conntrack {
 public:
  // proc_root: to enter other namespaces through /proc/<pid>/ns/net.
  explicit Conntrack(std::string proc_root = "/proc", uint32_t own_netns = 0);
  ~Conntrack();
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  // The post-NAT destination of a connection of process pid in namespace netns.
  StatusOr<std::optional<IpPort>> ActualDestination(uint32_t pid, uint32_t netns, const Ip& src, uint16_t sport,
                                                    const Ip& dst, uint16_t dport);

 private:
  StatusOr<int> SocketFor(uint32_t pid, uint32_t netns);

  static constexpr size_t kMaxSockets = 256;
  std::string proc_root_;
  uint32_t own_netns_;
  std::mutex mu_;
  std::map<uint32_t, int> sockets_;  // netns inode -> netlink socket in it (bounded: kMaxSockets)
  uint32_t seq_ = 1;
};

}  // namespace coroot::agent::tracer
