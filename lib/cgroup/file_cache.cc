#include "lib/cgroup/file_cache.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace coroot::cgroup {

namespace {

// Only files of cgroupfs are kept open: a regular file can be replaced (renamed over), and an
// open fd would then read the old one.
bool OnCgroupFs(int fd) {
  constexpr long kCgroupMagic = 0x27e0eb, kCgroup2Magic = 0x63677270;
  struct statfs st;
  return fstatfs(fd, &st) == 0 && (st.f_type == kCgroupMagic || st.f_type == kCgroup2Magic);
}

// This thread's UntilWrittenBatch nesting, and whether its batch has drained the notices yet.
thread_local int batch_depth = 0;
thread_local bool batch_drained = false;

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
    inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // -1: ReadUntilWritten reads every time
  }

  StatusOr<std::string> Read(const std::string& path, size_t max_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    return ReadLocked(path, max_bytes);
  }

  StatusOr<std::string> ReadUntilWritten(const std::string& path, size_t max_bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (batch_depth == 0 || !batch_drained) {
      DrainLocked();
      batch_drained = batch_depth > 0;
    }
    auto it = kept_.find(path);
    if (it != kept_.end() && it->second.has) return it->second.content;
    if (it == kept_.end()) {
      int wd = inotify_ >= 0 && kept_.size() < capacity_
                   ? inotify_add_watch(inotify_, path.c_str(), IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
                   : -1;
      if (wd < 0) return ReadLocked(path, max_bytes);
      kept_[path].wd = wd;
      wd_paths_[wd].push_back(path);  // one inode may have two paths (co-mounted cpu,cpuacct)
    }
    // The watch is set before the read, so a write during the read is drained below and the
    // content read is then not kept.
    StatusOr<std::string> text = ReadLocked(path, max_bytes);
    DrainLocked();
    if (auto k = kept_.find(path); k != kept_.end() && text.ok()) {
      k->second.content = *text;
      k->second.has = true;
    }
    return text;
  }

  size_t Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return fds_.size();
  }

 private:
  // Forgets the content of every file written (or gone) since the last call.
  void DrainLocked() {
    alignas(inotify_event) char buf[4096];
    for (;;) {
      ssize_t n = inotify_ >= 0 ? ::read(inotify_, buf, sizeof buf) : -1;
      if (n <= 0) return;  // EAGAIN: nothing more
      for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
        off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
        auto p = wd_paths_.find(e->wd);
        if (p == wd_paths_.end()) continue;
        // Written or gone: the next read of each of its paths reads it and watches it anew.
        for (const std::string& path : p->second) kept_.erase(path);
        if (!(e->mask & IN_IGNORED)) inotify_rm_watch(inotify_, e->wd);
        wd_paths_.erase(p);
      }
    }
  }

  StatusOr<std::string> ReadLocked(const std::string& path, size_t max_bytes) {
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
        // A short read is the end: cgroup's files are single-record seq files, which the kernel
        // formats whole and hands out up to the buffer's size (and a regular file reads short only
        // at its end). Not asking again saves a syscall per file per gather.
        if (static_cast<size_t>(n) < sizeof buf) break;
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

  std::mutex mu_;
  std::unordered_map<std::string, int> fds_;
  size_t capacity_ = 256;
  struct Kept {
    int wd = -1;
    bool has = false;  // content read since the last write
    std::string content;
  };
  int inotify_ = -1;
  std::unordered_map<std::string, Kept> kept_;        // by path
  std::unordered_map<int, std::vector<std::string>> wd_paths_;  // watch → paths
};

FileCache& Cache() {
  static FileCache* cache = new FileCache();  // never destroyed: used until exit
  return *cache;
}

}  // namespace

StatusOr<std::string> ReadCgroupFile(const std::string& path, size_t max_bytes) { return Cache().Read(path, max_bytes); }

StatusOr<std::string> ReadCgroupFileUntilWritten(const std::string& path, size_t max_bytes) {
  return Cache().ReadUntilWritten(path, max_bytes);
}

size_t OpenCgroupFiles() { return Cache().Size(); }

UntilWrittenBatch::UntilWrittenBatch() {
  if (batch_depth++ == 0) batch_drained = false;
}

UntilWrittenBatch::~UntilWrittenBatch() { batch_depth--; }

}  // namespace coroot::cgroup
