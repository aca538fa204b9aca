// Arbitrary bytes as a NATS protocol line.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/nats/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)nats::DetectRequest(in);
  if (nats::CountMessages(in, true) > in.size() || nats::CountMessages(in, false) > in.size()) __builtin_trap();
  L7Request r;
  if (nats::ParseMessage(in, &r) == ParseResult::kSuccess && r.path.size() > nats::kMaxSubjectLength) __builtin_trap();
  return 0;
}
