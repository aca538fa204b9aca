// Arbitrary bytes as a Dubbo 2 request and response.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/dubbo/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)dubbo::DetectRequest(in);
  L7Request r;
  uint64_t id = 0;
  (void)dubbo::ParseRequest(in, &r, &id);
  if (r.method.size() > in.size()) __builtin_trap();
  std::string_view status;
  (void)dubbo::ParseResponseStatus(in, &status, &id);
  return 0;
}
