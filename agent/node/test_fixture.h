#pragma once
// Test helpers: fixture text from agent/node/testdata/, and a child process in fresh namespaces.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "lib/base/file.h"

namespace coroot::agent::node {

inline std::string Fixture(const std::string& name) {
  StatusOr<std::string> text = ReadFile(std::string(NODE_TESTDATA_DIR) + "/" + name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

// A child that sits in new UTS and network namespaces (hostname "coroot-ns-test", only a down
// "lo"), standing in for the host seen from a containerised agent. ok() is false where
// unshare() is not permitted; the child is killed by its pid on destruction.
class NamespacedChild {
 public:
  static constexpr const char* kHostname = "coroot-ns-test";

  NamespacedChild() {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      char ok = (unshare(CLONE_NEWUTS | CLONE_NEWNET) == 0 && sethostname(kHostname, 14) == 0) ? 1 : 0;
      if (write(fds[1], &ok, 1) != 1) _exit(1);
      while (true) pause();
    }
    close(fds[1]);
    char ok = 0;
    if (pid > 0 && read(fds[0], &ok, 1) == 1 && ok == 1) ok_ = true;
    close(fds[0]);
    pid_ = pid;
  }
  ~NamespacedChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return ok_; }
  std::string ns(const char* kind) const { return "/proc/" + std::to_string(pid_) + "/ns/" + kind; }

 private:
  pid_t pid_ = -1;
  bool ok_ = false;
};

}  // namespace coroot::agent::node
