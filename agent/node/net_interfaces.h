#pragma once
// Network interfaces of the node: traffic counters (/proc/net/dev), up/down state and assigned
// IPs (getifaddrs).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

struct sockaddr;

namespace coroot::agent::node {

struct NetDevStat {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_packets = 0;
};

struct NetDev {
  std::vector<NetDevStat> interfaces;
  int skipped_lines = 0;  // malformed lines that were ignored
};

// Parses /proc/net/dev. The two header lines are recognised and skipped; malformed lines are
// skipped and counted.
NetDev ParseNetDev(std::string_view text);

// True for interfaces that are not the node's own links: loopback, and the per-container
// plumbing that CNIs and container runtimes create (veth pairs, bridges, overlay tunnels). On a
// Kubernetes node there can be hundreds of them, come and go with pods, and their traffic is
// already counted on the physical interface, so reporting them would only add churning series.
bool IsIgnoredInterface(std::string_view name);

// The value of node_net_interface_ip for an address, or nullopt for addresses that do not
// identify the node: link-local (fe80::/10, 169.254/16, as Coroot's agent) and multicast.
std::optional<std::string> ReportedAddress(const struct sockaddr* addr);

struct InterfaceState {
  // IFF_UP && IFF_RUNNING: administratively up and the link has carrier. We use the flags rather
  // than sysfs operstate because they come from the same getifaddrs() call as the addresses (no
  // per-interface file reads), and because operstate stays "unknown" for drivers that do not
  // report it (tun, wireguard, some virtual NICs) even while they pass traffic; the kernel sets
  // IFF_RUNNING for both "up" and "unknown".
  bool up = false;
  std::vector<std::string> ips;  // sorted, unique
};
using InterfaceStates = std::map<std::string, InterfaceState>;

// Flags and addresses of every interface of the current network namespace.
StatusOr<InterfaceStates> ReadInterfaceStates();

struct NetInterface {
  NetDevStat stat;
  bool up = false;
  std::vector<std::string> ips;
};

// Joins counters with state, dropping ignored interfaces. An interface getifaddrs did not list
// (it vanished between the two reads) is reported down with no IPs.
std::vector<NetInterface> MergeInterfaces(const std::vector<NetDevStat>& stats, const InterfaceStates& states);

// Reads /proc/net/dev and getifaddrs() inside the network namespace at netns_path ("" = ours;
// Coroot reads the host's, /proc/1/ns/net). skipped_lines gets the malformed-line count.
StatusOr<std::vector<NetInterface>> ReadNetInterfaces(const std::string& netns_path = "",
                                                      int* skipped_lines = nullptr);

}  // namespace coroot::agent::node
