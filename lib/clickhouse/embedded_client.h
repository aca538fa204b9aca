#pragma once
// EmbeddedClient: ClickHouse (26.x) running inside this process through libchdb's C API.
//
// libchdb.so is loaded at run time with dlopen, so building needs neither the 566 MB library nor a
// header; a missing library is a clear error from Open(), not a link failure. Path, first found:
// EmbeddedOptions::library_path, $COROOT_LIBCHDB, $CHDB_DIR/libchdb.so, /opt/chdb/libchdb.so
// (scripts/install-libchdb.sh puts it there).
//
// One engine per process (libchdb's limit): while an EmbeddedClient is open, a second Open() is
// refused with kAlreadyExists; share the one client instead. It is thread-safe: calls are
// serialized by a mutex (the engine runs one statement at a time per connection anyway).
//
// libchdb crashes the process at exit if its connection is still open, so the connection is closed
// by Close(), by the destructor, and, as a last resort for a client that was leaked or is still
// alive when exit() runs, by an atexit hook.
#include <memory>
#include <string>
#include <vector>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"

namespace coroot::clickhouse {

struct EmbeddedOptions {
  std::string data_dir;                 // the engine's --path (created if missing); required
  std::string library_path;             // empty: see DefaultLibchdbPath()
  std::string database;                 // empty or "default": no USE; else created and made current
  std::vector<std::string> extra_args;  // more chdb_connect arguments, e.g. "--max_threads=2"
};

// $COROOT_LIBCHDB, else $CHDB_DIR/libchdb.so, else /opt/chdb/libchdb.so.
std::string DefaultLibchdbPath();

class EmbeddedClient final : public IClickHouseClient {
 public:
  static StatusOr<std::unique_ptr<EmbeddedClient>> Open(const EmbeddedOptions& options);
  ~EmbeddedClient() override;
  EmbeddedClient(const EmbeddedClient&) = delete;
  EmbeddedClient& operator=(const EmbeddedClient&) = delete;

  StatusOr<std::string> Query(const std::string& sql, const std::string& format = "TSV") override;
  // Goes through libchdb's stream-insert calls: binary payloads appended to query text get cut.
  Status Insert(const std::string& table_and_columns, const std::string& format, const std::string& data) override;
  Status Ping() override;
  std::string Describe() const override;

  // Closes the engine connection; later calls return kUnavailable. Idempotent.
  void Close();

 private:
  EmbeddedClient(std::string data_dir, std::string library_path)
      : data_dir_(std::move(data_dir)), library_path_(std::move(library_path)) {}

  std::string data_dir_;
  std::string library_path_;
};

}  // namespace coroot::clickhouse
