#include "agent/protocols/redis/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::redis {
namespace {

// "<decimal>\r\n" after the type byte; values up to 512 MiB (Redis' own proto-max-bulk-len).
ParseResult ReadLength(BinaryReader* r, char type, int64_t* n) {
  uint8_t t = 0;
  L7_RETURN_IF_NOT_OK(r->ReadU8(&t));
  if (t != static_cast<uint8_t>(type)) return ParseResult::kInvalid;
  std::string_view digits;
  L7_RETURN_IF_NOT_OK(r->ReadUntil(std::string_view("\r\n"), &digits));
  if (digits == "-1") {
    *n = -1;
    return ParseResult::kSuccess;
  }
  if (digits.empty() || digits.size() > 10) return ParseResult::kInvalid;
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return ParseResult::kInvalid;
    v = v * 10 + (c - '0');
  }
  if (v > (512LL << 20)) return ParseResult::kInvalid;
  *n = v;
  return ParseResult::kSuccess;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  int64_t n = 0, len = 0;
  if (ReadLength(&r, '*', &n) != ParseResult::kSuccess || n < 1) return false;
  if (ReadLength(&r, '$', &len) != ParseResult::kSuccess || len < 1) return false;
  uint8_t c = 0;
  return r.PeekU8(&c) == ParseResult::kSuccess && IsAlpha(static_cast<char>(c));
}

ParseResult ParseCommand(std::string_view buf, std::vector<std::string_view>* args) {
  BinaryReader r(buf);
  int64_t n = 0;
  L7_RETURN_IF_NOT_OK(ReadLength(&r, '*', &n));
  if (n < 1) return ParseResult::kInvalid;
  for (int64_t i = 0; i < n; i++) {
    if (args->size() >= kMaxArgs) return ParseResult::kSuccess;  // bounded: the rest is not needed
    int64_t len = 0;
    L7_RETURN_IF_NOT_OK(ReadLength(&r, '$', &len));
    if (len < 0) return ParseResult::kInvalid;  // a null bulk string is not a valid argument
    std::string_view arg;
    if (r.ReadBytes(static_cast<size_t>(len), &arg) != ParseResult::kSuccess) {
      args->push_back(r.rest());  // cut argument: keep the prefix
      return ParseResult::kNeedMoreData;
    }
    args->push_back(arg);
    std::string_view crlf;
    L7_RETURN_IF_NOT_OK(r.ReadBytes(2, &crlf));
    if (crlf != "\r\n") return ParseResult::kInvalid;
  }
  return ParseResult::kSuccess;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  std::vector<std::string_view> args;
  ParseResult res = ParseCommand(buf, &args);
  if (res == ParseResult::kInvalid || args.empty()) return ParseResult::kInvalid;
  // The command must be complete and look like a command name.
  if (res == ParseResult::kNeedMoreData && args.size() == 1) return ParseResult::kInvalid;
  for (char c : args[0])
    if (!IsAlpha(c) && c != '_' && c != '-' && c != '.' && c != '|') return ParseResult::kInvalid;
  out->protocol = L7Protocol::kRedis;
  out->method = std::string(args[0]);
  out->statement = out->method;
  if (args.size() > 1) {
    out->statement += ' ';
    out->statement += std::string(args[1].substr(0, kMaxArgBytesKept));
  }
  out->truncated = res == ParseResult::kNeedMoreData;
  return res;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status) {
  if (buf.empty()) return ParseResult::kNeedMoreData;
  switch (buf[0]) {
    case '-': case '!':
      *status = kStatusFailed;
      return ParseResult::kSuccess;
    case '+': case ':': case '$': case '*':                       // RESP2
    case '_': case ',': case '#': case '(': case '=': case '%':  // RESP3
    case '~': case '>': case '|':
      *status = kStatusOk;
      return ParseResult::kSuccess;
    default:
      return ParseResult::kInvalid;
  }
}

}  // namespace coroot::agent::protocols::redis
