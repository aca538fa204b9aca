#include "agent/node/host_ns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace coroot::agent::node {

Status RunInNamespace(const std::string& ns_path, const std::function<void()>& fn) {
  if (ns_path.empty()) {
    fn();
    return Status::Ok();
  }
  int fd = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + ns_path, errno);

  // Same namespace as this thread's: no thread or privilege needed.
  std::string kind = ns_path.substr(ns_path.rfind('/') + 1);
  struct stat theirs {}, ours {};
  if (fstat(fd, &theirs) == 0 && stat(("/proc/thread-self/ns/" + kind).c_str(), &ours) == 0 &&
      theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino) {
    close(fd);
    fn();
    return Status::Ok();
  }

  Status result;
  std::thread t([&] {
    if (setns(fd, 0) != 0) {
      result = ErrnoStatus("setns " + ns_path, errno);
      return;
    }
    fn();
  });
  t.join();
  close(fd);
  return result;
}

}  // namespace coroot::agent::node
