#include "agent/tracer/net_rules.h"

#include <arpa/inet.h>

#include <cstring>

#include "lib/base/strings.h"

namespace coroot::agent::tracer {

Ip IpV4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  Ip ip{};
  ip[10] = ip[11] = 0xff;
  ip[12] = a;
  ip[13] = b;
  ip[14] = c;
  ip[15] = d;
  return ip;
}

bool IsV4Mapped(const Ip& ip) {
  for (int i = 0; i < 10; i++)
    if (ip[i]) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}

bool IsUnspecified(const Ip& ip) {
  if (IsV4Mapped(ip)) return !ip[12] && !ip[13] && !ip[14] && !ip[15];
  for (uint8_t b : ip)
    if (b) return false;
  return true;
}

bool IsLoopback(const Ip& ip) {
  if (IsV4Mapped(ip)) return ip[12] == 127;
  for (int i = 0; i < 15; i++)
    if (ip[i]) return false;
  return ip[15] == 1;
}

bool IsLinkLocal(const Ip& ip) {
  if (IsV4Mapped(ip)) return ip[12] == 169 && ip[13] == 254;
  return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
}

bool IsPrivate(const Ip& ip) {
  if (IsV4Mapped(ip)) {
    uint8_t a = ip[12], b = ip[13];
    return a == 10 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) || (a == 100 && (b & 0xc0) == 64);
  }
  return (ip[0] & 0xfe) == 0xfc;
}

std::string FormatIp(const Ip& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (IsV4Mapped(ip)) {
    inet_ntop(AF_INET, &ip[12], buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, ip.data(), buf, sizeof(buf));
  }
  return buf;
}

std::string FormatIpPort(const Ip& ip, uint16_t port) {
  if (IsV4Mapped(ip)) return FormatIp(ip) + ":" + std::to_string(port);
  return "[" + FormatIp(ip) + "]:" + std::to_string(port);
}

StatusOr<Ip> ParseIp(std::string_view s) {
  std::string str(s);
  Ip ip{};
  uint8_t v4[4];
  if (inet_pton(AF_INET, str.c_str(), v4) == 1) return IpV4(v4[0], v4[1], v4[2], v4[3]);
  if (inet_pton(AF_INET6, str.c_str(), ip.data()) == 1) return ip;
  return InvalidArgument("not an IP address: \"" + str + "\"");
}

bool Cidr::Contains(const Ip& ip) const {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(ip.data(), addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip[full] & mask) == (addr[full] & mask);
}

StatusOr<Cidr> ParseCidr(std::string_view s) {
  auto slash = s.find('/');
  std::string_view host = s.substr(0, slash);
  ASSIGN_OR_RETURN(Ip ip, ParseIp(host));
  bool v4 = IsV4Mapped(ip) && host.find(':') == std::string_view::npos;
  int max = v4 ? 32 : 128;
  uint64_t bits = max;
  if (slash != std::string_view::npos) {
    auto b = s.substr(slash + 1);
    if (!ParseUint64(b, &bits) || std::to_string(bits) != b || bits > static_cast<uint64_t>(max))
      return InvalidArgument("bad prefix length in \"" + std::string(s) + "\"");
  }
  Cidr c;
  c.addr = ip;
  c.bits = static_cast<int>(bits) + (v4 ? 96 : 0);
  return c;
}

StatusOr<PortRange> ParsePortRange(std::string_view s) {
  auto dash = s.find('-');
  uint64_t lo = 0, hi = 0;
  if (dash == std::string_view::npos || !ParseUint64(Trim(s.substr(0, dash)), &lo) ||
      !ParseUint64(Trim(s.substr(dash + 1)), &hi) || lo > hi || hi > 65535)
    return InvalidArgument("bad port range \"" + std::string(s) + "\" (want LO-HI)");
  return PortRange{static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kTrack: return "track";
    case Verdict::kEphemeralPort: return "ephemeral_port";
    case Verdict::kLoopbackInContainer: return "loopback_in_container";
    case Verdict::kLinkLocal: return "link_local";
    case Verdict::kPublicNotTracked: return "public_not_tracked";
  }
  return "unknown";
}

StatusOr<DestinationFilter> DestinationFilter::Create(std::string_view ephemeral, std::string_view track_public,
                                                      uint32_t host_netns) {
  DestinationFilter f;
  if (!Trim(ephemeral).empty()) {
    ASSIGN_OR_RETURN(f.ephemeral_, ParsePortRange(ephemeral));
  } else {
    f.ephemeral_ = PortRange{1, 0};  // empty: nothing is ephemeral
  }
  for (const auto& part : SplitAny(track_public, ", ")) {
    ASSIGN_OR_RETURN(Cidr c, ParseCidr(part));
    f.public_.push_back(c);
    // 0.0.0.0/0 means every public network, IPv6 included (as Coroot's default intends).
    if (c.bits == 96 && IsUnspecified(c.addr)) f.public_.push_back(Cidr{Ip{}, 0});
  }
  f.host_netns_ = host_netns;
  return f;
}

bool DestinationFilter::IsEphemeralPort(uint16_t port) const {
  return port != 50051 && port >= ephemeral_.lo && port <= ephemeral_.hi;
}

Verdict DestinationFilter::CheckConnection(const Ip& dst, uint16_t dport, uint32_t netns) const {
  if (IsEphemeralPort(dport)) return Verdict::kEphemeralPort;
  if (IsLoopback(dst)) return host_netns_ == 0 || netns == host_netns_ ? Verdict::kTrack : Verdict::kLoopbackInContainer;
  if (IsLinkLocal(dst)) return Verdict::kLinkLocal;
  if (IsPrivate(dst) || IsUnspecified(dst)) return Verdict::kTrack;
  for (const auto& c : public_)
    if (c.Contains(dst)) return Verdict::kTrack;
  return Verdict::kPublicNotTracked;
}

Verdict DestinationFilter::CheckListen(const Ip& addr, uint16_t port, uint32_t netns) const {
  // Only the ephemeral-port rule applies to listens (spec §1.b).
  return IsEphemeralPort(port) ? Verdict::kEphemeralPort : Verdict::kTrack;
}

}  // namespace coroot::agent::tracer
