#pragma once
// What one decoded request becomes as an eBPF span (Coroot's §1.e contract): a CLIENT span named
// after the method/command/op (or "query"), with OpenTelemetry attributes per protocol. Protocols
// without spans (Kafka, Cassandra, RabbitMQ, NATS, Dubbo, DNS, FoundationDB) and inbound requests
// yield nothing. The exporter adds net.peer.name / net.peer.port and timing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols {

using SpanValue = std::variant<std::string, int64_t, std::vector<std::string>>;

struct SpanData {
  std::string name;
  std::vector<std::pair<std::string, SpanValue>> attributes;
  bool error = false;
};

// peer: "host:port" of the destination as shown in http.url.
std::optional<SpanData> BuildSpan(const L7Request& r, std::string_view peer);

}  // namespace coroot::agent::protocols
