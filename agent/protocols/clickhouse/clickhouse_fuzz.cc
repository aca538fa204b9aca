// Arbitrary bytes as a ClickHouse native Query packet and server packet.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/clickhouse/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)clickhouse::DetectRequest(in);
  clickhouse::Query q;
  (void)clickhouse::ParseQuery(in, &q);
  if (q.query.size() > in.size()) __builtin_trap();
  L7Request r;
  (void)clickhouse::ParseRequest(in, &r);
  std::string_view status, msg;
  (void)clickhouse::ParseResponseStatus(in, &status);
  int32_t code = 0;
  (void)clickhouse::ParseException(in, &code, &msg);
  return 0;
}
