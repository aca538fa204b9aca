// Arbitrary bytes as a ZooKeeper request and reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/zookeeper/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)zookeeper::DetectRequest(in);
  L7Request r;
  (void)zookeeper::ParseRequest(in, &r);
  if (r.path.size() > zookeeper::kMaxPathLength) __builtin_trap();
  std::string_view status;
  int32_t err = 0;
  (void)zookeeper::ParseResponseStatus(in, &status, &err);
  return 0;
}
