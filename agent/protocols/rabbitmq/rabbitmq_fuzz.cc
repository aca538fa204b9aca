// Arbitrary bytes as an AMQP 0-9-1 frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/rabbitmq/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)rabbitmq::DetectRequest(in);
  if (rabbitmq::CountMessages(in, true) > in.size() || rabbitmq::CountMessages(in, false) > in.size()) __builtin_trap();
  L7Request r;
  (void)rabbitmq::ParseMessage(in, &r);
  return 0;
}
