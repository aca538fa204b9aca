// Arbitrary bytes through every HTTP/1.x entry point; none may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/http/parse.h"

using namespace coroot::agent::protocols;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = data ? std::string_view(reinterpret_cast<const char*>(data), size) : std::string_view();
  L7Request r;
  (void)http::DetectRequest(in);
  (void)http::ParseRequest(in, &r);
  int code = 0;
  if (http::ParseResponseStatus(in, &code) == ParseResult::kSuccess && (code < 0 || code > 999)) __builtin_trap();
  (void)http::PathWithoutQuery(in);
  // First line as a glob, the rest as the path: the matcher must stay bounded on any pair.
  size_t nl = in.find('\n');
  if (nl != std::string_view::npos && nl < 256) (void)http::GlobMatch(in.substr(0, nl), in.substr(nl + 1));
  return 0;
}
