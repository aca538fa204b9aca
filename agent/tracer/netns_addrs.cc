#include "agent/tracer/netns_addrs.h"

#include <algorithm>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::tracer {

namespace {
void AddUnique(std::vector<Ip>* out, const Ip& ip) {
  if (std::find(out->begin(), out->end(), ip) == out->end()) out->push_back(ip);
}
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::vector<Ip> ParseFibTrieLocal(std::string_view text) {
  std::vector<Ip> out;
  bool have_leaf = false;
  Ip leaf{};
  for (const auto& raw : Split(text, '\n')) {
    std::string line = Trim(raw);
    if (StartsWith(line, "|-- ")) {
      auto ip = ParseIp(Trim(line.substr(4)));
      have_leaf = ip.ok() && IsV4Mapped(*ip);
      if (have_leaf) leaf = *ip;
      continue;
    }
    if (StartsWith(line, "+-- ")) {
      have_leaf = false;
      continue;
    }
    if (have_leaf && line == "/32 host LOCAL" && out.size() < 4096) AddUnique(&out, leaf);
  }
  return out;
}

std::vector<Ip> ParseIfInet6(std::string_view text) {
  std::vector<Ip> out;
  for (const auto& line : Split(text, '\n')) {
    auto f = SplitAny(line, " \t");
    if (f.empty() || f[0].size() != 32) continue;
    Ip ip{};
    bool ok = true;
    for (int i = 0; i < 16 && ok; i++) {
      int hi = Hex(f[0][2 * i]), lo = Hex(f[0][2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      ip[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (ok && out.size() < 4096) AddUnique(&out, ip);
  }
  return out;
}

std::vector<Ip> NetnsAddresses(const std::string& proc_root, uint32_t pid) {
  std::vector<Ip> out;
  std::string base = proc_root + "/" + std::to_string(pid) + "/net/";
  if (auto t = ReadFile(base + "fib_trie", 4 << 20); t.ok())
    for (const auto& ip : ParseFibTrieLocal(*t)) out.push_back(ip);
  if (auto t = ReadFile(base + "if_inet6", 1 << 20); t.ok())
    for (const auto& ip : ParseIfInet6(*t)) AddUnique(&out, ip);
  out.erase(std::remove_if(out.begin(), out.end(), [](const Ip& ip) { return IsLinkLocal(ip); }), out.end());
  return out;
}

}  // namespace coroot::agent::tracer
