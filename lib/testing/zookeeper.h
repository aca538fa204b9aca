#pragma once
// A real ZooKeeper (Debian's zookeeper 3.8, a Java program) for integration tests: standalone, on a
// free loopback port, its data in a fresh directory; stopped and removed with the object.
#include <memory>
#include <string>

#include "lib/testing/process.h"

namespace coroot::testing {

class ZooKeeperServer {
 public:
  ZooKeeperServer();
  ~ZooKeeperServer();
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  // False when it is not installed or did not accept connections within a minute (see Log()).
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string Log() const;

 private:
  std::string dir_;
  int port_ = 0;
  bool ready_ = false;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace coroot::testing
