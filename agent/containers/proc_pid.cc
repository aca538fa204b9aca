#include <sys/stat.h>
#include "agent/containers/proc_pid.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::containers {

std::vector<int> ListPids(const std::string& proc_root, size_t max_pids, bool* truncated) {
  std::vector<int> pids;
  if (truncated) *truncated = false;
  DIR* d = opendir(proc_root.c_str());
  if (d == nullptr) return pids;
  while (dirent* e = readdir(d)) {
    uint64_t pid = 0;
    if (!ParseUint64(e->d_name, &pid) || pid == 0 || pid > 0x7fffffff) continue;
    if (pids.size() >= max_pids) {
      if (truncated) *truncated = true;
      break;
    }
    pids.push_back(static_cast<int>(pid));
  }
  closedir(d);
  std::sort(pids.begin(), pids.end());
  return pids;
}

bool ProcIsOfInitialPidNamespace(const std::string& proc_root) {
  constexpr uint64_t kInitPidNamespaceInode = 0xEFFFFFFCu;
  struct stat st {};
  return stat((proc_root + "/self/ns/pid").c_str(), &st) == 0 && static_cast<uint64_t>(st.st_ino) == kInitPidNamespaceInode;
}

StatusOr<uint64_t> ParseStartTicks(std::string_view stat) {
  size_t rp = stat.rfind(')');
  if (rp == std::string_view::npos) return InvalidArgument("stat: no ')'");
  // After ")": state(3) ppid(4) ... starttime(22) → the 20th field after the command. Walked in
  // place: the registry parses this for every process on every scan.
  std::string_view rest = stat.substr(rp + 1);
  size_t i = 0;
  for (int field = 0; field < 20; field++) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) i++;
    size_t end = i;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\n') end++;
    if (end == i) break;
    if (field == 19) {
      uint64_t ticks = 0;
      if (!ParseUint64(rest.substr(i, end - i), &ticks)) break;
      return ticks;
    }
    i = end;
  }
  return InvalidArgument("stat: no start time");
}

StatusOr<PidStat> ParsePidStat(std::string_view stat) {
  ASSIGN_OR_RETURN(uint64_t start, ParseStartTicks(stat));
  size_t lp = stat.find('(');
  size_t rp = stat.rfind(')');
  if (lp == std::string_view::npos || lp > rp) return InvalidArgument("stat: no command name");
  return PidStat{start, std::string(stat.substr(lp + 1, rp - lp - 1))};
}

StatusOr<PidStat> ReadPidStat(const std::string& proc_root, int pid) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/" + std::to_string(pid) + "/stat", 4096));
  return ParsePidStat(text);
}

StatusOr<uint64_t> ReadStartTicks(const std::string& proc_root, int pid) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/" + std::to_string(pid) + "/stat", 4096));
  return ParseStartTicks(text);
}

StatusOr<uint64_t> ParseBootTime(std::string_view proc_stat) {
  for (const std::string& line : Split(proc_stat, '\n')) {
    if (!StartsWith(line, "btime ")) continue;
    uint64_t v = 0;
    if (ParseUint64(Trim(std::string_view(line).substr(6)), &v)) return v;
  }
  return InvalidArgument("/proc/stat: no btime");
}

std::string ReadCmdline(const std::string& proc_root, int pid) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/cmdline";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string ReadExe(const std::string& proc_root, int pid) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/exe";
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace coroot::agent::containers
