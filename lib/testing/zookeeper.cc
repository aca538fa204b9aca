#include "lib/testing/zookeeper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <fstream>

namespace coroot::testing {

namespace {

constexpr const char* kJar = "/usr/share/java/zookeeper.jar";  // its manifest's Class-Path names the deps

// The port opens before the server serves sessions (a client's handshake is then cut off), so
// ask it: the four-letter word `srvr` (allowed by default) answers "Mode: standalone" once it does.
bool Serving(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  // A server still starting may accept and then say nothing: ask again rather than wait forever.
  timeval limit{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && write(fd, "srvr", 4) == 4) {
    char buf[1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return reply.find("Mode: ") != std::string::npos;
}

}  // namespace

ZooKeeperServer::ZooKeeperServer() {
  dir_ = MakeTempDir("coroot_zk_");
  if (access("/usr/bin/java", X_OK) != 0 || access(kJar, R_OK) != 0) return;
  port_ = FreePort();
  std::filesystem::create_directories(dir_ + "/data");
  std::ofstream(dir_ + "/zoo.cfg") << "tickTime=2000\ndataDir=" << dir_ << "/data\nclientPort=" << port_
                                   << "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n";
  proc_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"java", "-Xmx256m", "-cp", std::string("/etc/zookeeper/conf:") + kJar,
                               "org.apache.zookeeper.server.ZooKeeperServerMain", dir_ + "/zoo.cfg"},
      dir_ + "/zookeeper.log");
  ready_ = WaitFor([&] { return Serving(port_); }, std::chrono::seconds(60));
}

ZooKeeperServer::~ZooKeeperServer() {
  proc_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ZooKeeperServer::Log() const {
  if (!proc_) return std::string("ZooKeeper is not installed (Debian packages zookeeper, default-jre-headless); need ") + kJar;
  return proc_->Log();
}

}  // namespace coroot::testing
