#pragma once
// Network latency (spec §1.a, container_net_latency_seconds{destination_ip}): one ICMP echo
// request to each IPv4 destination, sent from inside the network namespace of the container,
// RTT of the replies that come within 300 ms.
//
// ProbeIcmp enters the namespace on a short-lived thread of its own (setns(CLONE_NEWNET) changes
// only the calling thread), creates the socket there (it stays in that namespace) and sends all
// echoes first, then collects replies until one common deadline. NetLatencyMonitor runs ProbeIcmp
// for every namespace with open connections on a timer and reports the last results at Collect.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "agent/tracer/net_rules.h"
#include "lib/base/status.h"
#include "lib/prom/metric.h"

namespace coroot::agent::tracer {

class TcpTracker;

// An ICMP echo reply read from a socket. Raw sockets (SOCK_RAW) deliver the IPv4 header first;
// ping sockets (SOCK_DGRAM/IPPROTO_ICMP) deliver the ICMP message only.
struct IcmpEchoReply {
  uint16_t id = 0, seq = 0;
  uint32_t src = 0;  // network byte order; only with the IP header (0 otherwise)
};
enum class IcmpParse { kEchoReply, kOther, kMalformed };
// Pure: any bytes; kOther for well-formed ICMP that is not an echo reply (requests, errors).
IcmpParse ParseIcmpEchoReply(std::string_view packet, bool with_ip_header, IcmpEchoReply* out);
// An echo request (type 8) with its checksum.
std::string BuildIcmpEchoRequest(uint16_t id, uint16_t seq, std::string_view payload);

struct IcmpProbeOptions {
  std::chrono::milliseconds timeout{300};
  size_t max_destinations = 256;  // per call; the rest are not probed
  bool raw_socket = true;  // false: the ping socket only (what is used when raw sockets are refused)
};

// RTT in seconds per destination that answered (IPv4 only: other addresses are ignored).
// ns_path: a network namespace file (/proc/<pid>/ns/net); expected_inode != 0: fails when the
// file is another namespace (the pid was reused).
StatusOr<std::map<Ip, double>> ProbeIcmp(const std::string& ns_path, uint32_t expected_inode,
                                         const std::vector<Ip>& destinations, const IcmpProbeOptions& options = {});

struct NetLatencyOptions {
  bool enabled = true;
  std::chrono::seconds interval{15};
  std::string proc_root = "/proc";
  IcmpProbeOptions probe;
  size_t max_destinations_per_round = 4096;
  size_t max_namespaces_per_round = 64;  // each costs up to probe.timeout
};

// Probes the open connections' destinations of TcpTracker in the background; Collect reports
// container_net_latency_seconds for the (container, destination IP) pairs still connected.
class NetLatencyMonitor : public prom::ICollector {
 public:
  NetLatencyMonitor(std::shared_ptr<TcpTracker> tracker, NetLatencyOptions options);
  ~NetLatencyMonitor() override;
  void Start();  // the timer thread (first round at once)
  void Stop();
  void ProbeRound();  // one round on the calling thread
  void Collect(std::vector<prom::MetricFamily>* out) override;
  uint64_t rounds() const { return rounds_.load(); }

 private:
  std::shared_ptr<TcpTracker> tracker_;
  NetLatencyOptions options_;
  std::mutex mu_;
  std::map<uint32_t, std::map<Ip, double>> rtt_;  // netns -> destination -> seconds (last round)
  std::map<std::string, uint64_t> dropped_;       // reason -> count
  uint64_t answered_ = 0, unanswered_ = 0;
  std::atomic<uint64_t> rounds_{0};
  std::mutex run_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace coroot::agent::tracer
