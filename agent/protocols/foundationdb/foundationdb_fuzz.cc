// Arbitrary bytes as a FoundationDB request and reply packet.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/foundationdb/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  bool detected = foundationdb::DetectRequest(in);
  L7Request r;
  ParseResult pr = foundationdb::ParseRequest(in, &r);
  // The detector and the parser agree, and a parsed request names a known type.
  if (detected != (pr == ParseResult::kSuccess)) __builtin_trap();
  if (pr == ParseResult::kSuccess && r.method.empty()) __builtin_trap();
  std::string_view status;
  uint16_t code = 0;
  if (foundationdb::ParseResponseStatus(in, &status, &code) == ParseResult::kSuccess &&
      status != kStatusOk && status != kStatusFailed)
    __builtin_trap();
  return 0;
}
