#include "agent/tracer/net_latency.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "agent/tracer/tcp_tracker.h"

namespace coroot::agent::tracer {

namespace {
constexpr uint8_t kEchoReply = 0, kEchoRequest = 8;
constexpr int kIcmpFilter = 1;  // linux/icmp.h ICMP_FILTER (SOL_RAW)

uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint16_t Checksum(std::string_view b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2)
    sum += static_cast<uint32_t>(static_cast<uint8_t>(b[i]) << 8 | static_cast<uint8_t>(b[i + 1]));
  if (b.size() % 2) sum += static_cast<uint32_t>(static_cast<uint8_t>(b.back()) << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t V4(const Ip& ip) {  // network byte order
  uint32_t a;
  std::memcpy(&a, ip.data() + 12, 4);
  return a;
}

// The probe itself, on a thread that is already in the target namespace.
StatusOr<std::map<Ip, double>> ProbeHere(const std::vector<Ip>& dsts, const IcmpProbeOptions& options) {
  bool raw = options.raw_socket;
  int fd = raw ? socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP) : -1;
  if (fd < 0) {
    raw = false;  // no CAP_NET_RAW: a ping socket (needs net.ipv4.ping_group_range)
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMP);
    if (fd < 0) return ErrnoStatus(options.raw_socket ? "ICMP socket (raw and ping)" : "ICMP ping socket", errno);
  }
  if (raw) {
    uint32_t filter = ~(1u << kEchoReply);  // deliver echo replies only
    (void)setsockopt(fd, SOL_RAW, kIcmpFilter, &filter, sizeof(filter));
  }
  static std::atomic<uint32_t> counter{0};
  uint16_t id = static_cast<uint16_t>(getpid() * 31 + counter.fetch_add(1) * 7919);

  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> sent(dsts.size());
  std::vector<bool> pending(dsts.size(), false);
  size_t waiting = 0;
  for (size_t i = 0; i < dsts.size(); i++) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = V4(dsts[i]);
    std::string pkt = BuildIcmpEchoRequest(id, static_cast<uint16_t>(i), "coroot-netlat");
    sent[i] = Clock::now();
    // A failed send (no route in this namespace, ...) is an unanswered destination.
    if (sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) ==
        static_cast<ssize_t>(pkt.size())) {
      pending[i] = true;
      waiting++;
    }
  }
  std::map<Ip, double> out;
  auto deadline = Clock::now() + options.timeout;
  char buf[2048];
  while (waiting > 0) {
    sockaddr_in from{};
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
    auto now = Clock::now();
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) break;
      if (now >= deadline) break;
      pollfd p{fd, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
      if (poll(&p, 1, static_cast<int>(left)) < 0 && errno != EINTR) break;
      continue;
    }
    IcmpEchoReply r;
    if (ParseIcmpEchoReply(std::string_view(buf, static_cast<size_t>(n)), raw, &r) != IcmpParse::kEchoReply) continue;
    // A ping socket only gets replies to its own identifier (the kernel rewrites it): match by
    // sequence and source there; a raw socket sees every reply of the namespace.
    if (raw && r.id != id) continue;
    if (r.seq >= dsts.size() || !pending[r.seq]) continue;
    if (from.sin_family == AF_INET && from.sin_addr.s_addr != V4(dsts[r.seq])) continue;
    if (now > deadline) break;
    pending[r.seq] = false;
    waiting--;
    out[dsts[r.seq]] = std::chrono::duration<double>(now - sent[r.seq]).count();
  }
  close(fd);
  return out;
}
}  // namespace

IcmpParse ParseIcmpEchoReply(std::string_view packet, bool with_ip_header, IcmpEchoReply* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(packet.data());
  size_t n = packet.size();
  uint32_t src = 0;
  if (with_ip_header) {
    if (n < 20) return IcmpParse::kMalformed;
    if ((p[0] >> 4) != 4) return IcmpParse::kMalformed;
    size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > n) return IcmpParse::kMalformed;
    if (p[9] != IPPROTO_ICMP) return IcmpParse::kOther;
    std::memcpy(&src, p + 12, 4);
    p += ihl;
    n -= ihl;
  }
  if (n < 8) return IcmpParse::kMalformed;
  if (p[0] != kEchoReply || p[1] != 0) return IcmpParse::kOther;
  out->id = Be16(p + 4);
  out->seq = Be16(p + 6);
  out->src = src;
  return IcmpParse::kEchoReply;
}

std::string BuildIcmpEchoRequest(uint16_t id, uint16_t seq, std::string_view payload) {
  std::string pkt(8, '\0');
  pkt[0] = static_cast<char>(kEchoRequest);
  pkt[4] = static_cast<char>(id >> 8);
  pkt[5] = static_cast<char>(id & 0xff);
  pkt[6] = static_cast<char>(seq >> 8);
  pkt[7] = static_cast<char>(seq & 0xff);
  pkt.append(payload);
  uint16_t sum = Checksum(pkt);
  pkt[2] = static_cast<char>(sum >> 8);
  pkt[3] = static_cast<char>(sum & 0xff);
  return pkt;
}

StatusOr<std::map<Ip, double>> ProbeIcmp(const std::string& ns_path, uint32_t expected_inode,
                                         const std::vector<Ip>& destinations, const IcmpProbeOptions& options) {
  std::vector<Ip> dsts;
  {
    std::set<Ip> seen;
    for (const auto& ip : destinations)
      if (IsV4Mapped(ip) && dsts.size() < options.max_destinations && seen.insert(ip).second) dsts.push_back(ip);
  }
  int ns = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) return ErrnoStatus("network namespace " + ns_path, errno);
  struct stat st;
  if (fstat(ns, &st) != 0 || (expected_inode && st.st_ino != expected_inode)) {
    close(ns);
    return NotFound("network namespace " + ns_path + " is not net:[" + std::to_string(expected_inode) +
                    "] (the process is gone)");
  }
  if (dsts.empty()) {
    close(ns);
    return std::map<Ip, double>{};
  }
  StatusOr<std::map<Ip, double>> result = Internal("not run");
  // setns changes the namespace of the calling thread only: a thread of its own, gone after.
  std::thread t([&] {
    if (setns(ns, CLONE_NEWNET) != 0) {
      result = ErrnoStatus("setns " + ns_path, errno);
      return;
    }
    result = ProbeHere(dsts, options);
  });
  t.join();
  close(ns);
  return result;
}

NetLatencyMonitor::NetLatencyMonitor(std::shared_ptr<TcpTracker> tracker, NetLatencyOptions options)
    : tracker_(std::move(tracker)), options_(std::move(options)) {}

NetLatencyMonitor::~NetLatencyMonitor() { Stop(); }

void NetLatencyMonitor::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(run_mu_);
    while (!stop_) {
      lock.unlock();
      ProbeRound();
      lock.lock();
      cv_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

void NetLatencyMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NetLatencyMonitor::ProbeRound() {
  auto targets = tracker_->OpenDestinationsByNamespace();
  std::map<uint32_t, std::map<Ip, double>> rtt;
  std::map<std::string, uint64_t> dropped;
  uint64_t answered = 0, unanswered = 0;
  size_t budget = options_.max_destinations_per_round, namespaces = 0;
  for (const auto& [netns, t] : targets) {
    std::set<Ip> ips;
    for (const auto& [container, set] : t.containers) ips.insert(set.begin(), set.end());
    if (namespaces >= options_.max_namespaces_per_round) {
      dropped["namespaces_per_round"] += ips.size();
      continue;
    }
    std::vector<Ip> dsts;
    for (const auto& ip : ips) {
      if (dsts.size() >= options_.probe.max_destinations) {
        dropped["destinations_per_netns"]++;
      } else if (budget == 0) {
        dropped["destinations_per_round"]++;
      } else {
        dsts.push_back(ip);
        budget--;
      }
    }
    if (dsts.empty()) continue;
    namespaces++;
    auto r = ProbeIcmp(options_.proc_root + "/" + std::to_string(t.pid) + "/ns/net", netns, dsts, options_.probe);
    if (!r.ok()) {
      dropped["netns_unavailable"] += dsts.size();
      continue;
    }
    answered += r->size();
    unanswered += dsts.size() - r->size();
    rtt[netns] = std::move(*r);
  }
  std::lock_guard<std::mutex> lock(mu_);
  rtt_ = std::move(rtt);
  for (const auto& [reason, n] : dropped) dropped_[reason] += n;
  answered_ += answered;
  unanswered_ += unanswered;
  rounds_++;
}

void NetLatencyMonitor::Collect(std::vector<prom::MetricFamily>* out) {
  // Only pairs still connected now: a destination whose connections closed goes away at once.
  auto targets = tracker_->OpenDestinationsByNamespace();
  prom::MetricFamily latency("container_net_latency_seconds", prom::MetricType::kGauge,
                             "Round-trip time between the container and a remote IP (ICMP echo)");
  prom::MetricFamily dropped("coroot_node_agent_net_latency_dropped_total", prom::MetricType::kCounter,
                             "Destinations not probed for network latency, by reason");
  prom::MetricFamily probes("coroot_node_agent_net_latency_probes_total", prom::MetricType::kCounter,
                            "ICMP echo requests sent for network latency, by result");
  std::map<std::pair<std::string, Ip>, double> samples;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [netns, t] : targets) {
      auto r = rtt_.find(netns);
      if (r == rtt_.end()) continue;
      for (const auto& [container, ips] : t.containers)
        for (const auto& ip : ips)
          if (auto v = r->second.find(ip); v != r->second.end()) samples.emplace(std::make_pair(container, ip), v->second);
    }
    for (const auto& [reason, n] : dropped_) dropped.Add({{"reason", reason}}, static_cast<double>(n));
    probes.Add({{"result", "answered"}}, static_cast<double>(answered_));
    probes.Add({{"result", "unanswered"}}, static_cast<double>(unanswered_));
  }
  for (const auto& [k, v] : samples) latency.Add({{"container_id", k.first}, {"destination_ip", FormatIp(k.second)}}, v);
  out->push_back(std::move(latency));
  out->push_back(std::move(dropped));
  out->push_back(std::move(probes));
}

}  // namespace coroot::agent::tracer
