#pragma once
// The one table of L7 protocols: id (the kernel's numbering), name, Coroot's metric family names,
// and the functions that classify and decode each protocol. Everything else (the decoder, the
// metric accumulator, the fuzz targets, the tests) iterates this table instead of listing protocols.
#include <span>
#include <string>
#include <string_view>

#include "agent/protocols/l7_event.h"
#include "agent/protocols/statement_cache.h"
#include "agent/protocols/types.h"

namespace coroot::agent::protocols {

struct ProtocolSpec {
  L7Protocol id;
  std::string_view name;
  // Coroot families; "" when the protocol has none of that kind.
  std::string_view requests_total;
  std::string_view requests_duration;  // histogram, named ..._duration_seconds_total
  std::string_view inbound_requests_total;
  std::string_view inbound_requests_duration;
  // The kernel classifier mirrored in user space (null: not implemented here yet).
  bool (*detect_request)(std::string_view buf);
  // Decodes an event's request payload into out (fields beyond the common ones). conn holds the
  // per-connection prepared statements. Null: only the common fields are filled.
  ParseResult (*decode_request)(const L7Event& ev, ConnectionState* conn, L7Request* out);
  // Classifies the head of a response into Coroot's status vocabulary (null: not implemented).
  ParseResult (*decode_response_status)(std::string_view buf, std::string* status);
};

// All 16 protocols, in id order (Registry()[i].id == i + 1).
std::span<const ProtocolSpec> Registry();
// The entry for an id, or null for 0 / out of range.
const ProtocolSpec* FindProtocol(L7Protocol id);
const ProtocolSpec* FindProtocolByName(std::string_view name);
// The first protocol whose detector accepts buf (L7Protocol::kUnknown when none does).
L7Protocol DetectRequestProtocol(std::string_view buf);

// The status label for the kernel's numeric event status: HTTP → "2xx"...; DNS → rcode name;
// others → ok / failed / unknown (200 / 500 / anything else, see l7_event.h).
std::string EventStatusLabel(L7Protocol protocol, int32_t status);

}  // namespace coroot::agent::protocols
