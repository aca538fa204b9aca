#include "agent/tracer/proc_net_tcp.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::tracer {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHex(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = HexDigit(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// "0100007F:1F90" (v4: one 32-bit word in host order) or 32 hex digits (v6: four such words).
bool ParseAddr(std::string_view s, bool v6, Ip* ip, uint16_t* port) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view a = s.substr(0, colon), p = s.substr(colon + 1);
  uint64_t pv;
  if (p.size() != 4 || !ParseHex(p, &pv)) return false;
  *port = static_cast<uint16_t>(pv);
  size_t words = v6 ? 4 : 1;
  if (a.size() != words * 8) return false;
  uint8_t bytes[16];
  for (size_t w = 0; w < words; w++) {
    uint64_t word;
    if (!ParseHex(a.substr(w * 8, 8), &word)) return false;
    // The kernel prints each 32-bit word as a host-order (little-endian here) integer.
    for (int b = 0; b < 4; b++) bytes[w * 4 + b] = static_cast<uint8_t>(word >> (8 * b));
  }
  if (v6) {
    std::memcpy(ip->data(), bytes, 16);
  } else {
    *ip = IpV4(bytes[0], bytes[1], bytes[2], bytes[3]);
  }
  return true;
}

uint64_t InodeOf(const std::string& link) {
  // "socket:[12345]" / "net:[4026531840]"
  auto l = link.find('['), r = link.find(']');
  uint64_t v = 0;
  if (l == std::string::npos || r == std::string::npos || r <= l + 1) return 0;
  if (!ParseUint64(std::string_view(link).substr(l + 1, r - l - 1), &v)) return 0;
  return v;
}

std::string ReadLink(const std::string& path) {
  char buf[256];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

std::vector<ProcTcpSocket> ParseProcNetTcp(std::string_view text, bool v6, size_t* malformed) {
  std::vector<ProcTcpSocket> out;
  bool header = true;
  for (const auto& line : Split(text, '\n')) {
    if (header) {  // "  sl  local_address rem_address   st ..."
      header = false;
      continue;
    }
    if (Trim(line).empty()) continue;
    auto f = SplitAny(line, " \t");
    ProcTcpSocket s;
    uint64_t st = 0;
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (f.size() < 10 || !ParseAddr(f[1], v6, &s.local, &s.local_port) ||
        !ParseAddr(f[2], v6, &s.remote, &s.remote_port) || !ParseHex(f[3], &st) || st > 0xff ||
        !ParseUint64(f[9], &s.inode)) {
      if (malformed) ++*malformed;
      continue;
    }
    s.state = static_cast<int>(st);
    out.push_back(s);
  }
  return out;
}

// The numeric entries of proc_root, at most max of them.
static StatusOr<std::vector<uint32_t>> ListPids(const std::string& proc_root, size_t max) {
  DIR* d = opendir(proc_root.c_str());
  if (!d) return ErrnoStatus("opendir " + proc_root, errno);
  std::vector<uint32_t> pids;
  while (dirent* de = readdir(d)) {
    uint64_t pid;
    if (!ParseUint64(de->d_name, &pid) || pid == 0 || pid > UINT32_MAX) continue;
    if (pids.size() >= max) break;
    pids.push_back(static_cast<uint32_t>(pid));
  }
  closedir(d);
  return pids;
}

StatusOr<std::vector<ExistingSocket>> ScanExistingSockets(const std::string& proc_root, ScanLimits limits) {
  ASSIGN_OR_RETURN(std::vector<uint32_t> pids, ListPids(proc_root, limits.max_pids));

  std::unordered_map<uint64_t, uint32_t> inode_pid;  // socket inode -> first pid holding it
  std::map<uint32_t, uint32_t> netns_pid;            // netns inode -> a pid inside it
  for (uint32_t pid : pids) {
    std::string base = proc_root + "/" + std::to_string(pid);
    uint64_t ns = InodeOf(ReadLink(base + "/ns/net"));
    if (ns == 0) continue;  // gone, or a kernel thread we cannot inspect
    netns_pid.emplace(static_cast<uint32_t>(ns), pid);
    DIR* fd_dir = opendir((base + "/fd").c_str());
    if (!fd_dir) continue;
    size_t n = 0;
    while (dirent* de = readdir(fd_dir)) {
      if (de->d_name[0] == '.') continue;
      if (++n > limits.max_fds_per_pid) break;
      std::string link = ReadLink(base + "/fd/" + de->d_name);
      if (!StartsWith(link, "socket:[")) continue;
      inode_pid.emplace(InodeOf(link), pid);
    }
    closedir(fd_dir);
  }

  std::vector<ExistingSocket> out;
  for (const auto& [ns, pid] : netns_pid) {
    std::vector<ProcTcpSocket> socks;
    for (bool v6 : {false, true}) {
      auto text = ReadFile(proc_root + "/" + std::to_string(pid) + "/net/" + (v6 ? "tcp6" : "tcp"));
      if (!text.ok()) continue;
      auto parsed = ParseProcNetTcp(*text, v6);
      socks.insert(socks.end(), parsed.begin(), parsed.end());
    }
    std::set<uint16_t> listen_ports;
    for (const auto& s : socks)
      if (s.state == kTcpListen) listen_ports.insert(s.local_port);
    for (const auto& s : socks) {
      if (s.state != kTcpListen && s.state != kTcpEstablished) continue;
      auto owner = inode_pid.find(s.inode);
      if (owner == inode_pid.end()) continue;  // not held by any process (e.g. orphaned)
      ExistingSocket e;
      e.pid = owner->second;
      e.netns = ns;
      e.socket = s;
      e.outbound = s.state == kTcpEstablished && !listen_ports.count(s.local_port) && s.remote_port <= s.local_port;
      out.push_back(e);
    }
  }
  return out;
}

StatusOr<std::vector<ProcessSocket>> ScanDnsServerSockets(const std::string& proc_root, ScanLimits limits) {
  ASSIGN_OR_RETURN(std::vector<uint32_t> pids, ListPids(proc_root, limits.max_pids));

  // The port-53 UDP sockets of every namespace first: most nodes have none, and then no fd is read.
  std::set<uint64_t> netns_seen, inodes;
  for (uint32_t pid : pids) {
    std::string base = proc_root + "/" + std::to_string(pid);
    uint64_t ns = InodeOf(ReadLink(base + "/ns/net"));
    if (ns == 0 || !netns_seen.insert(ns).second) continue;
    for (bool v6 : {false, true}) {
      auto text = ReadFile(base + "/net/" + (v6 ? "udp6" : "udp"));
      if (!text.ok()) continue;
      for (const auto& s : ParseProcNetTcp(*text, v6))
        if (s.local_port == 53 && s.inode != 0) inodes.insert(s.inode);
    }
  }
  std::vector<ProcessSocket> out;
  if (inodes.empty()) return out;
  for (uint32_t pid : pids) {
    std::string fds = proc_root + "/" + std::to_string(pid) + "/fd";
    DIR* fd_dir = opendir(fds.c_str());
    if (!fd_dir) continue;
    size_t n = 0;
    while (dirent* de = readdir(fd_dir)) {
      uint64_t fd;
      if (!ParseUint64(de->d_name, &fd) || fd > INT32_MAX) continue;
      if (++n > limits.max_fds_per_pid) break;
      std::string link = ReadLink(fds + "/" + de->d_name);
      if (StartsWith(link, "socket:[") && inodes.count(InodeOf(link)))
        out.push_back({pid, static_cast<int>(fd)});
    }
    closedir(fd_dir);
  }
  return out;
}

}  // namespace coroot::agent::tracer
