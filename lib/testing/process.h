#pragma once
// Test helpers for integration tests: child processes that are killed by PID when the test ends,
// free loopback ports, and polling for readiness.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace coroot::testing {

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH) with stdout and stderr appended to log_path.
  ChildProcess(std::vector<std::string> argv, std::string log_path, std::vector<std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends sig and waits up to `wait` for the exit; escalates to SIGKILL after that.
  void Stop(int sig = 15, std::chrono::milliseconds wait = std::chrono::seconds(10));
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// Polls cond every 50 ms until it holds or the limit passes.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit);
// True when GET url answers 200.
bool HttpOk(const std::string& url);
// A fresh directory under $TMPDIR, removed by the caller.
std::string MakeTempDir(const std::string& prefix);
// Path of a built binary or source file, from the env CTest passes to tests.
std::string BinaryPath(const std::string& relative);
std::string SourcePath(const std::string& relative);

}  // namespace coroot::testing
