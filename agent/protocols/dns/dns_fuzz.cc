// Arbitrary bytes as a DNS message (UDP and TCP framing) and as a name to collapse.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/dns/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)dns::DetectRequest(in);
  (void)dns::DetectResponse(in);
  dns::Message m;
  if (dns::ParseMessage(in, &m) == ParseResult::kSuccess) {
    // A name is at most 255 bytes on the wire, so its dotted text is at most 254.
    if (m.qname.size() > dns::kMaxNameLength || m.answers.size() > dns::kMaxAnswers) __builtin_trap();
  }
  dns::Message t;
  (void)dns::ParseTcpMessage(in, &t);
  L7Request r;
  (void)dns::ParseRequest(in, &r);
  (void)dns::NormalizeDomain(in);
  return 0;
}
