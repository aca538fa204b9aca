// Feeds arbitrary bytes to every tracer parser (/proc/net/tcp{,6}, /proc/<pid>/cgroup, addresses,
// CIDRs, port ranges, ICMP replies) and to the connection table as kernel events; none may crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "agent/tracer/conntrack.h"
#include "agent/tracer/container_resolver.h"
#include "agent/tracer/net_latency.h"
#include "agent/tracer/net_rules.h"
#include "agent/tracer/netns_addrs.h"
#include "agent/tracer/proc_net_tcp.h"
#include "agent/tracer/tcp_tracker.h"

using namespace coroot::agent::tracer;

namespace {
class FixedResolver : public IContainerResolver {
 public:
  std::string ContainerKey(uint32_t pid, uint64_t) override { return pid % 7 ? "/c" + std::to_string(pid % 5) : ""; }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (data == nullptr) text = {};
  size_t malformed = 0;
  (void)ParseProcNetTcp(text, false, &malformed);
  (void)ParseProcNetTcp(text, true, &malformed);
  (void)CgroupPathFromProcFile(text);
  (void)ParseFibTrieLocal(text);
  (void)ParseConntrackReply(text);
  (void)ParseIfInet6(text);
  (void)ParseIp(text);
  (void)ParseCidr(text);
  (void)ParsePortRange(text);
  (void)DestinationFilter::Create(text, text, 1);
  IcmpEchoReply reply;
  (void)ParseIcmpEchoReply(text, true, &reply);
  (void)ParseIcmpEchoReply(text, false, &reply);

  // The same bytes as a stream of kernel events.
  auto filter = DestinationFilter::Create("32768-60999", "0.0.0.0/0", 1);
  TcpTrackerOptions opts;
  opts.max_connections = 16;
  opts.max_series = 16;
  opts.max_listens = 4;
  TcpTracker tracker(*filter, std::make_shared<FixedResolver>(), opts);
  for (size_t off = 0; off + sizeof(coroot_tcp_event) <= size; off += sizeof(coroot_tcp_event)) {
    coroot_tcp_event e;
    std::memcpy(&e, data + off, sizeof(e));
    e.sk &= 0xf;  // make collisions (socket reuse) likely
    tracker.OnEvent(e);
    coroot_conn_bytes b{e.sk, e.bytes_sent, e.bytes_received};
    tracker.OnConnBytes(b);
  }
  std::vector<coroot::prom::MetricFamily> out;
  tracker.Collect(&out);
  return 0;
}
