// Arbitrary bytes as a kernel l7 event, decoded and fed to the decoder and the metric accumulator:
// the whole user-space path an event takes (decode, count, span).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/decoder.h"
#include "agent/protocols/l7_metrics.h"
#include "agent/protocols/span.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static L7Decoder decoder(256);
  static L7Metrics metrics([] {
    L7MetricsOptions o;
    o.max_series = 512;
    o.http_exclude = http::PathFilter({"/health*"});
    return o;
  }());
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  L7Event ev;
  if (DecodeL7Event(in, &ev) != ParseResult::kSuccess) return 0;
  if (ev.payload.size() > kMaxPayloadSize) __builtin_trap();
  L7Request r;
  (void)decoder.Decode(ev, &r);
  (void)metrics.Add("c", "d:1", "", r);
  (void)BuildSpan(r, "d:1");
  if (metrics.series() > 512 || decoder.connections() > 256) __builtin_trap();
  if (size % 64 == 0) decoder.ForgetConnection(ev.pid, ev.fd);
  return 0;
}
