#pragma once
// An HTTP/1.1 server on Boost.Beast: a pool of I/O threads, keep-alive, bounded request bodies
// (413 past the limit), idle and read timeouts, and a small exact/prefix-path router.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lib/base/status.h"
#include "lib/http/message.h"

namespace coroot::http {

using Handler = std::function<void(const Request&, Response*)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; ":8080" means all interfaces; port 0 picks a free one
  int threads = 2;
  size_t max_body_bytes = 64u << 20;
  std::chrono::seconds read_timeout{30};
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a handler. A path ending in '*' matches that prefix. Method "" matches any method.
  // The most specific (longest) match wins; register before Start().
  void Handle(const std::string& method, const std::string& path, Handler handler);

  Status Start();
  void Stop();
  int port() const { return port_; }
  // Requests answered since start, by every handler (for self-metrics and tests).
  uint64_t requests_served() const { return served_.load(); }

 private:
  struct Route {
    std::string method, path;
    bool prefix;
    Handler handler;
  };
  class Impl;
  void Dispatch(const Request& req, Response* resp) const;

  ServerOptions options_;
  std::vector<Route> routes_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> served_{0};
  int port_ = 0;
};

// Splits "host:port" (":8080" → "0.0.0.0", "[::1]:80" → "::1").
Status ParseHostPort(const std::string& listen, std::string* host, int* port);

}  // namespace coroot::http
