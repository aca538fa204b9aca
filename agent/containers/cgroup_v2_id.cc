#include "agent/containers/cgroup_v2_id.h"

#include <sys/stat.h>

#include <filesystem>

namespace coroot::agent::containers {

uint64_t CgroupV2Id(const cgroup::CgroupFs& fs, const std::string& path) {
  struct stat st;
  if (stat(fs.V2(path).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  return st.st_ino;
}

std::string FindCgroupV2Path(const cgroup::CgroupFs& fs, uint64_t id, size_t max_dirs) {
  if (id == 0) return "";
  namespace stdfs = std::filesystem;
  const std::string root = fs.v2_root;
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return "";
  if (st.st_ino == id) return "/";
  std::error_code ec;
  stdfs::recursive_directory_iterator it(root, stdfs::directory_options::skip_permission_denied, ec), end;
  for (size_t visited = 0; !ec && it != end && visited < max_dirs; it.increment(ec), ++visited) {
    if (it.depth() >= 16) it.disable_recursion_pending();
    if (!it->is_directory(ec)) continue;
    if (stat(it->path().c_str(), &st) == 0 && st.st_ino == id) return it->path().string().substr(root.size());
  }
  return "";
}

}  // namespace coroot::agent::containers
