#include "lib/cgroup/proc_cgroup.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::cgroup {

std::string CleanPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') i++;
    size_t start = i;
    while (i < path.size() && path[i] != '/') i++;
    std::string_view part = path.substr(start, i - start);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (std::string_view p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

std::string ProcCgroup::Path(std::string_view controller) const {
  auto it = paths.find(std::string(controller));
  return it == paths.end() ? std::string() : it->second;
}

std::string ProcCgroup::Id() const {
  std::string v2 = Path(""), cpu = Path("cpu"), mem = Path("memory");
  if (StartsWith(cpu, "/kubepods")) return cpu;
  if (StartsWith(mem, "/kubepods")) return mem;
  if (!v2.empty()) return v2;
  if (!cpu.empty()) return cpu;
  if (!mem.empty()) return mem;
  return Path("name=systemd");
}

namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

StatusOr<ProcCgroup> ParseProcCgroup(std::string_view text, std::string_view base_path) {
  ProcCgroup cg;
  size_t lines = 0, valid = 0;
  std::string_view line;
  for (size_t pos = 0; NextLine(text, &pos, &line);) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (++lines > kMaxLines) return InvalidArgument("cgroup file: more than 64 lines");
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) {
      cg.skipped_lines++;
      continue;
    }
    std::string_view hierarchy = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    // A v2 line has hierarchy 0 and no controllers; a v1 line has both. Paths are absolute.
    bool v2 = hierarchy == "0" && controllers.empty();
    if (!AllDigits(hierarchy) || (!v2 && controllers.empty()) || path.empty() || path[0] != '/' ||
        path.size() > kMaxPathBytes) {
      cg.skipped_lines++;
      continue;
    }
    valid++;
    std::string_view p = path;
    // LXC 4+ nests the payload's own cgroups below "/lxc.payload.<name>"; that level is the container.
    if (StartsWith(p, "/lxc.payload.")) {
      size_t slash = p.find('/', 1);
      if (slash != std::string_view::npos) p = p.substr(0, slash);
    }
    std::string joined = CleanPath(std::string(base_path) + "/" + std::string(p));
    if (joined == "/" || joined == "/init.scope") continue;
    if (v2) {
      cg.paths[""] = joined;
      continue;
    }
    for (const std::string& c : Split(controllers, ',')) {
      if (c.empty()) continue;
      cg.paths[c] = joined;
    }
  }
  if (valid == 0) return InvalidArgument("cgroup file: no valid line");
  return cg;
}

StatusOr<ProcCgroup> ReadProcCgroup(const std::string& proc_root, int pid, std::string_view base_path) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/cgroup";
  ASSIGN_OR_RETURN(std::string text, ReadFile(path, 64 << 10));
  StatusOr<ProcCgroup> cg = ParseProcCgroup(text, base_path);
  if (!cg.ok()) return cg.status().WithContext(path);
  return cg;
}

StatusOr<std::string> HostCgroupBasePath(const std::string& host_ns) {
  struct stat self {}, host {};
  if (stat("/proc/thread-self/ns/cgroup", &self) != 0) return ErrnoStatus("stat /proc/thread-self/ns/cgroup", errno);
  if (stat(host_ns.c_str(), &host) != 0) return ErrnoStatus("stat " + host_ns, errno);
  if (self.st_ino == host.st_ino && self.st_dev == host.st_dev) return std::string();
  // setns() moves only the calling thread: do it on a thread of our own that ends right after.
  StatusOr<std::string> result = Internal("not run");
  std::thread t([&] {
    int fd = open(host_ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = ErrnoStatus("open " + host_ns, errno);
      return;
    }
    int rc = setns(fd, CLONE_NEWCGROUP);
    int err = errno;
    close(fd);
    if (rc != 0) {
      result = ErrnoStatus("setns " + host_ns, err);
      return;
    }
    StatusOr<std::string> text = ReadFile("/proc/thread-self/cgroup", 64 << 10);
    if (!text.ok()) {
      result = text.status();
      return;
    }
    StatusOr<ProcCgroup> cg = ParseProcCgroup(*text);
    if (!cg.ok()) {
      result = cg.status();
      return;
    }
    result = cg->Id();
  });
  t.join();
  return result;
}

}  // namespace coroot::cgroup
