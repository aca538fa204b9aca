// Arbitrary bytes as a memcached command line and as a reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/memcached/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)memcached::DetectRequest(in);
  L7Request r;
  (void)memcached::ParseRequest(in, &r);
  if (r.keys.size() > memcached::kMaxKeys) __builtin_trap();
  std::string_view status;
  (void)memcached::ParseResponseStatus(in, &status);
  return 0;
}
