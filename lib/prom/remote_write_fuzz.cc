// Remote-write bodies arrive from the network: the decoder must reject any bytes cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/prom/remote_write.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = coroot::prom::Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok()) {
    // A decoded request re-encodes and decodes to the same series count.
    auto again = coroot::prom::Decode(coroot::prom::Encode(*r));
    if (!again.ok() || again->series.size() != r->series.size()) __builtin_trap();
  }
  return 0;
}
