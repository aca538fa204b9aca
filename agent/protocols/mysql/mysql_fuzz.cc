// Arbitrary bytes as a MySQL command packet (through the statement stitcher) and as a reply.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/mysql/parse.h"
#include "agent/protocols/mysql/stitch.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static StatementCache cache(64);
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  (void)mysql::DetectRequest(in);
  mysql::Request req;
  if (mysql::ParseRequest(in, &req) != ParseResult::kInvalid)
    (void)mysql::StitchStatement(req, static_cast<uint32_t>(size), &cache);
  std::string_view status;
  (void)mysql::ParseResponseStatus(in, &status);
  uint32_t id = 0;
  (void)mysql::ParsePrepareOk(in, &id);
  uint16_t code = 0;
  std::string_view msg;
  (void)mysql::ParseError(in, &code, &msg);
  return 0;
}
