#include "agent/protocols/memcached/parse.h"

#include <array>

namespace coroot::agent::protocols::memcached {
namespace {

enum class KeyRule { kAll, kAllAfterFirst, kFirst };
struct Command {
  std::string_view name;
  KeyRule keys;
};
constexpr std::array<Command, 14> kCommands = {{
    {"set", KeyRule::kFirst},     {"add", KeyRule::kFirst},    {"cas", KeyRule::kFirst},
    {"get", KeyRule::kAll},       {"gets", KeyRule::kAll},     {"gat", KeyRule::kAllAfterFirst},
    {"gats", KeyRule::kAllAfterFirst}, {"incr", KeyRule::kFirst}, {"decr", KeyRule::kFirst},
    {"touch", KeyRule::kFirst},   {"delete", KeyRule::kFirst}, {"append", KeyRule::kFirst},
    {"prepend", KeyRule::kFirst}, {"replace", KeyRule::kFirst},
}};

const Command* FindCommand(std::string_view buf) {
  for (const auto& c : kCommands)
    if (buf.size() > c.name.size() && buf.substr(0, c.name.size()) == c.name && buf[c.name.size()] == ' ')
      return &c;
  return nullptr;
}

bool IsKeyChar(char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; }

}  // namespace

bool DetectRequest(std::string_view buf) {
  return FindCommand(buf) != nullptr && buf.find("\r\n") != std::string_view::npos;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  const Command* cmd = FindCommand(buf);
  if (cmd == nullptr) return ParseResult::kInvalid;
  size_t eol = buf.find("\r\n");
  bool cut = eol == std::string_view::npos;
  std::string_view line = buf.substr(cmd->name.size() + 1, cut ? std::string_view::npos : eol - cmd->name.size() - 1);
  out->protocol = L7Protocol::kMemcached;
  out->method = std::string(cmd->name);
  out->keys.clear();
  size_t i = 0, token = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') i++;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') {
      if (!IsKeyChar(line[i])) return ParseResult::kInvalid;
      i++;
    }
    if (start == i) break;
    std::string_view tok = line.substr(start, i - start);
    bool is_key = cmd->keys == KeyRule::kAll || (cmd->keys == KeyRule::kFirst && token == 0) ||
                  (cmd->keys == KeyRule::kAllAfterFirst && token > 0);
    if (is_key && tok.size() > kMaxKeyLength) return ParseResult::kInvalid;
    if (is_key && out->keys.size() < kMaxKeys) out->keys.emplace_back(tok);
    token++;
    if (cmd->keys == KeyRule::kFirst) break;  // the rest are flags, exptime, bytes, cas, noreply
  }
  if (out->keys.empty()) return cut ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
  out->statement.clear();
  for (size_t k = 0; k < out->keys.size(); k++) {
    if (k) out->statement += ' ';
    out->statement += out->keys[k];
  }
  out->truncated = cut;
  return cut ? ParseResult::kNeedMoreData : ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status) {
  size_t eol = buf.find("\r\n");
  std::string_view line = buf.substr(0, eol);
  size_t sp = line.find(' ');
  std::string_view word = line.substr(0, sp);
  if (eol == std::string_view::npos) {
    // Enough bytes to recognize the keyword still decide it.
    if (sp == std::string_view::npos) return ParseResult::kNeedMoreData;
  }
  static constexpr std::array<std::string_view, 10> kOk = {"VALUE",   "END",       "STORED",    "DELETED", "TOUCHED",
                                                           "EXISTS",  "NOT_STORED", "NOT_FOUND", "OK",      "RESET"};
  static constexpr std::array<std::string_view, 3> kFailed = {"ERROR", "CLIENT_ERROR", "SERVER_ERROR"};
  for (auto w : kOk)
    if (word == w) {
      *status = kStatusOk;
      return ParseResult::kSuccess;
    }
  for (auto w : kFailed)
    if (word == w) {
      *status = kStatusFailed;
      return ParseResult::kSuccess;
    }
  if (!word.empty() && word.size() <= 20) {
    bool digits = true;
    for (char c : word) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      *status = kStatusOk;  // incr/decr reply
      return ParseResult::kSuccess;
    }
  }
  return ParseResult::kInvalid;
}

}  // namespace coroot::agent::protocols::memcached
