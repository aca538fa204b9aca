// Arbitrary bytes as a Kafka request header and response header.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/kafka/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)kafka::DetectRequest(in);
  L7Request r;
  (void)kafka::ParseRequest(in, &r);
  int32_t cid = 0;
  (void)kafka::ParseResponseCorrelationId(in, &cid);
  return 0;
}
