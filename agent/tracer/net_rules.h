#pragma once
// Addresses and the rules of spec §1.b that decide which TCP destinations and listens are
// tracked: the ephemeral-port range, loopback outside the host network namespace, link-local,
// and public networks outside --track-public-network.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::tracer {

// An IPv6 address; IPv4 is stored v4-mapped (::ffff:a.b.c.d), as the kernel events carry it.
using Ip = std::array<uint8_t, 16>;

Ip IpV4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
bool IsV4Mapped(const Ip& ip);
bool IsUnspecified(const Ip& ip);  // 0.0.0.0 or ::
bool IsLoopback(const Ip& ip);     // 127/8, ::1
bool IsLinkLocal(const Ip& ip);    // 169.254/16, fe80::/10
bool IsPrivate(const Ip& ip);      // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7
// "10.0.0.1" / "::1" (v4-mapped addresses print as IPv4).
std::string FormatIp(const Ip& ip);
// "10.0.0.1:5432" / "[::1]:5432": Coroot's destination and listen_addr format.
std::string FormatIpPort(const Ip& ip, uint16_t port);
StatusOr<Ip> ParseIp(std::string_view s);

struct Cidr {
  Ip addr{};
  int bits = 0;  // in IPv6 terms (an IPv4 /8 is /104)
  bool Contains(const Ip& ip) const;
};
StatusOr<Cidr> ParseCidr(std::string_view s);

struct PortRange {
  uint16_t lo = 32768, hi = 60999;
};
StatusOr<PortRange> ParsePortRange(std::string_view s);  // "32768-60999"

enum class Verdict { kTrack, kEphemeralPort, kLoopbackInContainer, kLinkLocal, kPublicNotTracked };
const char* VerdictName(Verdict v);

class DestinationFilter {
 public:
  // ephemeral: --ephemeral-port-range; track_public: --track-public-network (CIDRs separated by
  // commas or spaces; "" tracks no public network); host_netns: inode of the host's network
  // namespace (loopback destinations count only for sockets in it).
  static StatusOr<DestinationFilter> Create(std::string_view ephemeral, std::string_view track_public,
                                            uint32_t host_netns);
  DestinationFilter() = default;

  // Ports in the ephemeral range are skipped, except 50051 (gRPC's customary port).
  bool IsEphemeralPort(uint16_t port) const;
  Verdict CheckConnection(const Ip& dst, uint16_t dport, uint32_t netns) const;
  Verdict CheckListen(const Ip& addr, uint16_t port, uint32_t netns) const;

 private:
  PortRange ephemeral_;
  std::vector<Cidr> public_;
  uint32_t host_netns_ = 0;
};

}  // namespace coroot::agent::tracer
