#include "lib/cgroup/file_cache.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <unordered_map>

namespace coroot::cgroup {

namespace {

// Only files of cgroupfs are kept open: a regular file can be replaced (renamed over), and an
// open fd would then read the old one.
bool OnCgroupFs(int fd) {
  constexpr long kCgroupMagic = 0x27e0eb, kCgroup2Magic = 0x63677270;
  struct statfs st;
  return fstatfs(fd, &st) == 0 && (st.f_type == kCgroupMagic || st.f_type == kCgroup2Magic);
}

class FileCache {
 public:
  FileCache() {
    // A file per cgroup file per container needs more than the usual soft limit of 1024.
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
      if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536) {
        rlimit want = rl;
        want.rlim_cur = std::min<rlim_t>(rl.rlim_max, 65536);
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
      }
      capacity_ = std::min<size_t>(4096, static_cast<size_t>(rl.rlim_cur) / 2);
    }
  }

  StatusOr<std::string> Read(const std::string& path, size_t max_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    for (int attempt = 0; attempt < 2; attempt++) {
      int fd = -1;
      bool cached = false;
      if (auto it = fds_.find(path); it != fds_.end()) {
        fd = it->second;
        cached = true;
      } else {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return ErrnoStatus("open " + path, errno);
      }
      std::string out;
      int err = 0;
      bool too_big = false;
      char buf[16384];
      for (off_t off = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, off);
        if (n < 0) {
          if (errno == EINTR) continue;
          err = errno;
          break;
        }
        if (n == 0) break;
        if (out.size() + static_cast<size_t>(n) > max_bytes) {
          too_big = true;
          break;
        }
        out.append(buf, static_cast<size_t>(n));
        off += n;
      }
      if (err != 0 || too_big) {
        if (cached) fds_.erase(path);
        ::close(fd);
        if (too_big) return ResourceExhausted("file " + path + " is larger than " + std::to_string(max_bytes) + " bytes");
        if (cached) continue;  // the cgroup may have been removed and made again: open it anew
        return ErrnoStatus("read " + path, err);
      }
      if (!cached) {
        if (fds_.size() >= capacity_) {  // bounded: start over rather than track recency
          for (auto& [p, f] : fds_) ::close(f);
          fds_.clear();
        }
        if (capacity_ > 0 && OnCgroupFs(fd)) {
          fds_.emplace(path, fd);
        } else {
          ::close(fd);
        }
      }
      return out;
    }
    return Unavailable("read " + path + ": failed twice");
  }

  size_t Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return fds_.size();
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> fds_;
  size_t capacity_ = 256;
};

FileCache& Cache() {
  static FileCache* cache = new FileCache();  // never destroyed: used until exit
  return *cache;
}

}  // namespace

StatusOr<std::string> ReadCgroupFile(const std::string& path, size_t max_bytes) { return Cache().Read(path, max_bytes); }

size_t OpenCgroupFiles() { return Cache().Size(); }

}  // namespace coroot::cgroup
