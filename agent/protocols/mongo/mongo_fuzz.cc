// Arbitrary bytes as a MongoDB OP_MSG and as a bare BSON document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/mongo/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)mongo::DetectRequest(in);
  (void)mongo::DetectResponse(in);
  L7Request r;
  (void)mongo::ParseRequest(in, &r);
  if (r.statement.size() > mongo::kMaxRenderedBytes + 3) __builtin_trap();
  std::string out;
  (void)mongo::RenderBson(in, &out);
  if (out.size() > mongo::kMaxRenderedBytes + 3) __builtin_trap();
  return 0;
}
