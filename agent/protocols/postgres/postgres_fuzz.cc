// Arbitrary bytes as a Postgres frontend buffer (through the stitcher, with state carried across
// inputs) and as a backend response.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/postgres/parse.h"
#include "agent/protocols/postgres/stitch.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static StatementCache cache(64);
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)postgres::DetectRequest(in);
  postgres::Request req;
  if (postgres::ParseRequest(in, &req) != ParseResult::kInvalid) (void)postgres::StitchStatement(req, &cache);
  if (cache.size() > 64) __builtin_trap();
  std::string_view status;
  (void)postgres::ParseResponseStatus(in, &status);
  (void)postgres::ErrorMessage(in);
  return 0;
}
