#pragma once
// ClickHouse native protocol (TCP, as ClickHouse's own client speaks it): packets start with a
// varint type. The client's Query packet (1) carries query id, ClientInfo (whose fields depend on
// the client's protocol revision, which ClientInfo itself carries), settings, stage, compression
// and the query text. Server packets: Data 1, Exception 2, Progress 3, Pong 4, EndOfStream 5,
// ProfileInfo 6, Totals 7, Extremes 8, ... .
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::clickhouse {

inline constexpr size_t kMaxShortString = 256;  // query id, user, address, host, client name

struct Query {
  std::string query_id;
  uint8_t kind = 0;  // 0 none, 1 initial, 2 secondary
  std::string client_name;
  uint64_t revision = 0;  // 0 when ClientInfo was absent
  std::string query;
  bool truncated = false;
};

// The kernel's detector: packet 1, a query id that is empty or 36 chars, query kind 1 or 2,
// ClientInfo strings shorter than 128 bytes, a TCP client (interface 1) and a protocol revision
// in 54000..60000 consistent with the layout (start time or not).
bool DetectRequest(std::string_view buf);

ParseResult ParseQuery(std::string_view buf, Query* out);
// method = "query"; statement = the query text.
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// Exception (2) → failed; Data, Progress, EndOfStream, ProfileInfo, Totals, Extremes, Log,
// TableColumns, ProfileEvents → ok.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status);
// The code and message of an Exception packet.
ParseResult ParseException(std::string_view buf, int32_t* code, std::string_view* message);

}  // namespace coroot::agent::protocols::clickhouse
