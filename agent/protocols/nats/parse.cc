#include "agent/protocols/nats/parse.h"

#include <array>
#include <vector>

namespace coroot::agent::protocols::nats {
namespace {

struct Verb {
  std::string_view name;
  bool produce;
  size_t min_args, max_args;  // after the verb, including the subject and the byte counts
};
// PUB <subject> [reply-to] <#bytes>; HPUB <subject> [reply-to] <#hdr> <#total>;
// MSG <subject> <sid> [reply-to] <#bytes>; HMSG <subject> <sid> [reply-to] <#hdr> <#total>.
constexpr std::array<Verb, 4> kVerbs = {{{"PUB", true, 2, 3}, {"HPUB", true, 3, 4}, {"MSG", false, 3, 4},
                                          {"HMSG", false, 4, 5}}};

bool IsDigits(std::string_view s) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  L7Request r;
  return ParseMessage(buf, &r) == ParseResult::kSuccess;
}

ParseResult ParseMessage(std::string_view buf, L7Request* out) {
  const Verb* verb = nullptr;
  for (const auto& v : kVerbs)
    if (buf.size() > v.name.size() && buf.substr(0, v.name.size()) == v.name &&
        (buf[v.name.size()] == ' ' || buf[v.name.size()] == '\t')) {
      verb = &v;
      break;
    }
  if (verb == nullptr) return ParseResult::kInvalid;
  size_t eol = buf.find("\r\n");
  if (eol == std::string_view::npos) return ParseResult::kNeedMoreData;
  if (eol > kMaxSubjectLength * 3) return ParseResult::kInvalid;
  std::string_view line = buf.substr(verb->name.size(), eol - verb->name.size());
  std::vector<std::string_view> args;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t s = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') i++;
    if (i > s) {
      if (args.size() >= verb->max_args) return ParseResult::kInvalid;
      args.push_back(line.substr(s, i - s));
    }
  }
  if (args.size() < verb->min_args) return ParseResult::kInvalid;
  if (!IsDigits(args.back())) return ParseResult::kInvalid;
  std::string_view subject = args[0];
  if (subject.size() > kMaxSubjectLength) return ParseResult::kInvalid;
  for (char c : subject)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kNats;
  out->method = std::string(verb->produce ? kMethodProduce : kMethodConsume);
  out->path = std::string(subject);
  out->statement = std::string(verb->name);
  out->status = std::string(kStatusOk);
  return ParseResult::kSuccess;
}

size_t CountMessages(std::string_view buf, bool produce) {
  size_t n = 0, pos = 0;
  while (pos < buf.size()) {
    std::string_view rest = buf.substr(pos);
    size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) break;
    L7Request r;
    if (ParseMessage(rest, &r) != ParseResult::kSuccess) {
      // Another control line (PING, PONG, +OK, -ERR, SUB, UNSUB, INFO, CONNECT): skip it.
      if (eol == 0 || ((rest[0] < 'A' || rest[0] > 'Z') && rest[0] != '+' && rest[0] != '-')) break;
      pos += eol + 2;
      continue;
    }
    if ((r.method == kMethodProduce) != produce) break;
    n++;
    // The last argument is the payload size (HPUB/HMSG: headers + body); the payload ends in CRLF.
    std::string_view line = rest.substr(0, eol);
    size_t sp = line.find_last_of(" \t");
    uint64_t bytes = 0;
    for (char c : line.substr(sp + 1)) bytes = bytes * 10 + static_cast<uint64_t>(c - '0');
    if (bytes > buf.size()) break;  // past the head anyway (and no overflow below)
    pos += eol + 2 + bytes + 2;
  }
  return n;
}

}  // namespace coroot::agent::protocols::nats
