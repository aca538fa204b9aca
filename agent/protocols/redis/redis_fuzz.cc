// Arbitrary bytes as a RESP request and as a reply.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/protocols/redis/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)redis::DetectRequest(in);
  L7Request r;
  (void)redis::ParseRequest(in, &r);
  std::vector<std::string_view> args;
  (void)redis::ParseCommand(in, &args);
  if (args.size() > redis::kMaxArgs) __builtin_trap();
  for (auto a : args)
    if (a.data() < in.data() || a.data() + a.size() > in.data() + in.size()) __builtin_trap();
  std::string_view status;
  (void)redis::ParseResponseStatus(in, &status);
  return 0;
}
