#include "agent/node/net_interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "agent/node/host_ns.h"
#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::node {

NetDev ParseNetDev(std::string_view text) {
  NetDev out;
  for (const std::string& line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      // The two header lines have '|' and no ':'; anything else without ':' is garbage.
      if (line.find('|') == std::string::npos && !Trim(line).empty()) out.skipped_lines++;
      continue;
    }
    // "  eth0: 123 ..." (older kernels: "eth0:123"). Interface names cannot contain ':'.
    std::string name = Trim(std::string_view(line).substr(0, colon));
    std::vector<std::string> f = SplitAny(std::string_view(line).substr(colon + 1), " \t\r");
    // Receive: bytes packets errs drop fifo frame compressed multicast; then Transmit: bytes packets ...
    NetDevStat s;
    s.name = name;
    bool ok = !name.empty() && name.size() < IFNAMSIZ && f.size() >= 16 && ParseUint64(f[0], &s.rx_bytes) &&
              ParseUint64(f[1], &s.rx_packets) && ParseUint64(f[8], &s.tx_bytes) &&
              ParseUint64(f[9], &s.tx_packets);
    if (!ok) {
      out.skipped_lines++;
      continue;
    }
    out.interfaces.push_back(std::move(s));
  }
  return out;
}

bool IsIgnoredInterface(std::string_view name) {
  if (name == "lo") return true;
  // veth: container ends of veth pairs; cali: Calico; flannel, cni: Flannel/bridge CNI; docker,
  // br-: Docker bridges; kube-ipvs: kube-proxy IPVS dummy; cilium, lxc: Cilium; vxlan: VXLAN
  // overlays (e.g. vxlan.calico); tunl: Calico IPIP; weave: Weave Net.
  static constexpr std::string_view kPrefixes[] = {"veth",   "cali", "flannel", "cni",  "docker", "br-",
                                                   "kube-ipvs", "cilium", "lxc",  "vxlan", "tunl", "weave"};
  for (std::string_view p : kPrefixes)
    if (StartsWith(name, p)) return true;
  return false;
}

std::optional<std::string> ReportedAddress(const struct sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    uint32_t a = ntohl(in->sin_addr.s_addr);
    if ((a >> 16) == 0xa9fe || (a >> 28) == 0xe) return std::nullopt;  // 169.254/16, 224/4
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) == nullptr) return std::nullopt;
    return std::string(buf);
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) || IN6_IS_ADDR_MULTICAST(&in6->sin6_addr)) return std::nullopt;
    if (inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf) == nullptr) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

StatusOr<InterfaceStates> ReadInterfaceStates() {
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return ErrnoStatus("getifaddrs", errno);
  InterfaceStates states;
  for (struct ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_name == nullptr) continue;
    // IPv4 addresses carry their label ("eth0:1" for an alias); the interface is before ':'.
    std::string name(a->ifa_name);
    name = name.substr(0, name.find(':'));
    InterfaceState& st = states[name];
    if ((a->ifa_flags & IFF_UP) && (a->ifa_flags & IFF_RUNNING)) st.up = true;
    if (std::optional<std::string> ip = ReportedAddress(a->ifa_addr)) st.ips.push_back(std::move(*ip));
  }
  freeifaddrs(list);
  for (auto& [name, st] : states) {
    std::sort(st.ips.begin(), st.ips.end());
    st.ips.erase(std::unique(st.ips.begin(), st.ips.end()), st.ips.end());
  }
  return states;
}

std::vector<NetInterface> MergeInterfaces(const std::vector<NetDevStat>& stats, const InterfaceStates& states) {
  std::vector<NetInterface> out;
  for (const NetDevStat& s : stats) {
    if (IsIgnoredInterface(s.name)) continue;
    NetInterface i;
    i.stat = s;
    if (auto it = states.find(s.name); it != states.end()) {
      i.up = it->second.up;
      i.ips = it->second.ips;
    }
    out.push_back(std::move(i));
  }
  return out;
}

StatusOr<std::vector<NetInterface>> ReadNetInterfaces(const std::string& netns_path, int* skipped_lines) {
  // Both reads happen inside the namespace. /proc/thread-self/net is the calling thread's
  // namespace (/proc/self/net would be the main thread's).
  StatusOr<std::string> text = Internal("not read");
  StatusOr<InterfaceStates> states = Internal("not read");
  RETURN_IF_ERROR(RunInNamespace(netns_path, [&] {
    text = ReadFile("/proc/thread-self/net/dev");
    states = ReadInterfaceStates();
  }));
  if (!text.ok()) return text.status();
  if (!states.ok()) return states.status();
  NetDev dev = ParseNetDev(*text);
  if (skipped_lines != nullptr) *skipped_lines = dev.skipped_lines;
  return MergeInterfaces(dev.interfaces, *states);
}

}  // namespace coroot::agent::node
