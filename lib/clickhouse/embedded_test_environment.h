#pragma once
// For tests against the real embedded engine: libchdb allows one engine per process, so a test
// binary opens one EmbeddedClient in a GoogleTest global environment, shares it with every test,
// and closes it before the process exits (an open engine crashes exit()). Register it once:
//   [[maybe_unused]] auto* const kEnv =
//       ::testing::AddGlobalTestEnvironment(new EmbeddedTestEnvironment("coroot_schema_test"));
// then use EmbeddedTestEnvironment::client() (null, with error() saying why, if it did not open).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

#include "lib/clickhouse/embedded_client.h"

namespace coroot::clickhouse {

class EmbeddedTestEnvironment : public ::testing::Environment {
 public:
  explicit EmbeddedTestEnvironment(std::string dir_prefix) : prefix_(std::move(dir_prefix)) {}

  void SetUp() override {
    std::string lib = DefaultLibchdbPath();
    if (!std::filesystem::exists(lib)) {
      Error() = "libchdb.so not found at " + lib + ": run scripts/install-libchdb.sh (or set COROOT_LIBCHDB / CHDB_DIR)";
      FAIL() << Error();
    }
    std::string tmpl = "/tmp/" + prefix_ + ".XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) FAIL() << "mkdtemp failed";
    Dir() = tmpl;
    EmbeddedOptions o;
    o.data_dir = Dir() + "/data";
    auto t0 = std::chrono::steady_clock::now();
    auto c = EmbeddedClient::Open(o);
    if (!c.ok()) {
      Error() = c.status().ToString();
      FAIL() << "EmbeddedClient::Open: " << Error();
    }
    std::cout << "[ info ] libchdb load + connect: "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
    Client() = c->release();
  }
  void TearDown() override {
    delete Client();  // closes the engine before exit
    Client() = nullptr;
    std::error_code ec;
    if (!Dir().empty()) std::filesystem::remove_all(Dir(), ec);
  }

  static EmbeddedClient* client() { return Client(); }
  static const std::string& error() { return Error(); }
  static const std::string& dir() { return Dir(); }

 private:
  static EmbeddedClient*& Client() {
    static EmbeddedClient* c = nullptr;
    return c;
  }
  static std::string& Error() {
    static std::string e = "the test environment did not run";
    return e;
  }
  static std::string& Dir() {
    static std::string d;
    return d;
  }
  std::string prefix_;
};

}  // namespace coroot::clickhouse
