// Arbitrary bytes as a Cassandra v4 request and response frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/cassandra/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)cassandra::DetectRequest(in);
  L7Request r;
  int16_t stream = 0;
  (void)cassandra::ParseRequest(in, &r, &stream);
  // The statement is CQL text from the input, or "EXECUTE " + at most 64 hex digits.
  if (r.statement.size() > in.size() + 64) __builtin_trap();
  std::string_view status;
  (void)cassandra::ParseResponseStatus(in, &status, &stream);
  return 0;
}
