#pragma once
// Test helper: a runtime daemon on a unix socket that answers one request with a canned response.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace coroot::agent::containers {

// A daemon that answers one request on a unix socket with a canned response (or never).
class FakeDaemon {
 public:
  explicit FakeDaemon(std::string response, bool answer = true) {
    path_ = (std::filesystem::temp_directory_path() / ("coroot-fake-daemon-" + std::to_string(getpid()) + "-" + std::to_string(counter_++) + ".sock"))
                .string();
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 4), 0);
    thread_ = std::thread([this, response, answer] {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      request_ = req;
      if (answer) {
        EXPECT_EQ(write(c, response.data(), response.size()), static_cast<ssize_t>(response.size()));
      } else {
        usleep(300000);
      }
      close(c);
    });
  }
  ~FakeDaemon() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  std::string request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
  static inline int counter_ = 0;
};

}  // namespace coroot::agent::containers
