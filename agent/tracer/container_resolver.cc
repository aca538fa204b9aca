#include "agent/tracer/container_resolver.h"

#include <sys/stat.h>
#include <sys/vfs.h>

#include <filesystem>

#include "lib/base/file.h"
#include "lib/base/strings.h"

namespace coroot::agent::tracer {

namespace {
constexpr long kCgroup2Magic = 0x63677270;

bool IsCgroup2(const std::string& path) {
  struct statfs st;
  return statfs(path.c_str(), &st) == 0 && st.f_type == kCgroup2Magic;
}
}  // namespace

std::string CgroupPathFromProcFile(std::string_view text) {
  std::string first_v1;
  for (const auto& line : Split(text, '\n')) {
    // hierarchy-id:controllers:path; the path may itself contain ':'.
    auto a = line.find(':');
    if (a == std::string::npos) continue;
    auto b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (line.compare(0, a, "0") == 0 && b == a + 1) return path;
    if (first_v1.empty()) first_v1 = path;
  }
  return first_v1;
}

ProcCgroupResolver::ProcCgroupResolver(std::string proc_root, std::string cgroup2_root)
    : proc_root_(std::move(proc_root)), cgroup2_root_(std::move(cgroup2_root)) {
  if (cgroup2_root_.empty()) {
    if (IsCgroup2("/sys/fs/cgroup/unified")) {
      cgroup2_root_ = "/sys/fs/cgroup/unified";
    } else if (IsCgroup2("/sys/fs/cgroup")) {
      cgroup2_root_ = "/sys/fs/cgroup";
    }
  }
}

std::string ProcCgroupResolver::ContainerKey(uint32_t pid, uint64_t cgroup_id) {
  // A cgroup id is the inode of the cgroup's directory, unique while it exists: once resolved,
  // later events from the same cgroup need no /proc read.
  if (cgroup_id != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_cgroup_id_.find(cgroup_id);
    if (it != by_cgroup_id_.end()) return it->second;
  }
  std::string key;
  if (pid != 0) {
    auto text = ReadFile(proc_root_ + "/" + std::to_string(pid) + "/cgroup", 1 << 16);
    if (text.ok()) key = CgroupPathFromProcFile(*text);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!key.empty()) {
    if (cgroup_id != 0) {
      if (by_cgroup_id_.size() >= kMaxCache) by_cgroup_id_.clear();
      by_cgroup_id_[cgroup_id] = key;
    }
    return key;
  }
  if (cgroup_id == 0) return "";
  auto it = by_cgroup_id_.find(cgroup_id);
  if (it != by_cgroup_id_.end()) return it->second;
  key = FindByCgroupId(cgroup_id);
  if (!key.empty()) {
    if (by_cgroup_id_.size() >= kMaxCache) by_cgroup_id_.clear();
    by_cgroup_id_[cgroup_id] = key;
  }
  return key;
}

// The cgroup v2 id is the inode of the cgroup's directory: walk the v2 tree (bounded) for it.
std::string ProcCgroupResolver::FindByCgroupId(uint64_t id) {
  if (cgroup2_root_.empty()) return "";
  struct stat st;
  if (stat(cgroup2_root_.c_str(), &st) == 0 && st.st_ino == id) return "/";
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::recursive_directory_iterator it(cgroup2_root_, fs::directory_options::skip_permission_denied, ec), end;
  size_t visited = 0;
  for (; !ec && it != end && visited < 100000; it.increment(ec), ++visited) {
    if (it.depth() > 16) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_directory(ec)) continue;
    if (stat(it->path().c_str(), &st) == 0 && st.st_ino == id)
      return it->path().string().substr(cgroup2_root_.size());
  }
  return "";
}

}  // namespace coroot::agent::tracer
