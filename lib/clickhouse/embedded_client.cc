#include "lib/clickhouse/embedded_client.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "lib/base/file.h"
#include "lib/base/log.h"

namespace coroot::clickhouse {

namespace {

// libchdb's C API, declared here from chdb's public chdb.h (no header ships with the library).
// The handle types are pointers to opaque structs; we only pass them back.
using chdb_connection = void*;  // chdb_connect returns chdb_connection*, the others take *it
using chdb_result = void;
using chdb_insert_stream = void*;
using chdb_state = int;  // CHDBSuccess = 0

struct ChdbApi {
  chdb_connection* (*connect)(int argc, char** argv);
  void (*close_conn)(chdb_connection* conn);
  chdb_result* (*query_n)(chdb_connection conn, const char* q, size_t qlen, const char* fmt, size_t flen);
  chdb_insert_stream (*stream_insert_n)(chdb_connection conn, const char* q, size_t qlen, const char* fmt,
                                        size_t flen);
  chdb_state (*stream_append)(chdb_insert_stream s, const void* data, size_t len);
  chdb_result* (*stream_done)(chdb_insert_stream s);
  const char* (*stream_insert_error)(chdb_insert_stream s);
  void (*destroy_insert_stream)(chdb_insert_stream s);
  char* (*result_buffer)(chdb_result* r);
  size_t (*result_length)(chdb_result* r);
  const char* (*result_error)(chdb_result* r);
  void (*destroy_query_result)(chdb_result* r);
  const char* (*version)();
};

// The process-wide engine. Heap-allocated and never freed, so it outlives static destructors and
// the atexit hook can always reach it.
struct Engine {
  std::mutex mu;
  void* lib = nullptr;  // never dlclose'd: unloading a C++ engine of this size at run time is asking for trouble
  std::string lib_path;
  ChdbApi api{};
  chdb_connection* conn = nullptr;
  const EmbeddedClient* owner = nullptr;  // the client the open connection belongs to
  bool atexit_registered = false;
};

Engine& TheEngine() {
  static Engine* engine = new Engine();
  return *engine;
}

void CloseLocked(Engine& e) {
  if (e.conn == nullptr) return;
  e.api.close_conn(e.conn);
  e.conn = nullptr;
  e.owner = nullptr;
}

// Last resort: exit() with the connection still open would crash inside libchdb.
void CloseAtExit() {
  Engine& e = TheEngine();
  std::lock_guard<std::mutex> lock(e.mu);
  // stdio, not LOG: the logger's statics may already be gone this late.
  if (e.conn != nullptr) std::fputs("embedded ClickHouse still open at exit; closing it\n", stderr);
  CloseLocked(e);
}

template <typename F>
bool Sym(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr) *missing += std::string(missing->empty() ? "" : ", ") + name;
  return *out != nullptr;
}

Status LoadLocked(Engine& e, const std::string& path) {
  if (e.lib != nullptr) {
    if (path != e.lib_path)
      LOG(WARNING) << "libchdb already loaded from " << e.lib_path << "; ignoring " << path;
    return Status::Ok();
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return NotFound("libchdb not found at " + path +
                    " (run scripts/install-libchdb.sh, or point COROOT_LIBCHDB / CHDB_DIR at it)");
  // RTLD_LOCAL: the engine's internal copies of protobuf, OpenSSL, ... stay out of our symbol space.
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* err = dlerror();
    return Internal("dlopen " + path + ": " + (err ? err : "unknown error"));
  }
  ChdbApi api{};
  std::string missing;
  Sym(lib, "chdb_connect", &api.connect, &missing);
  Sym(lib, "chdb_close_conn", &api.close_conn, &missing);
  Sym(lib, "chdb_query_n", &api.query_n, &missing);
  Sym(lib, "chdb_stream_insert_n", &api.stream_insert_n, &missing);
  Sym(lib, "chdb_stream_append", &api.stream_append, &missing);
  Sym(lib, "chdb_stream_done", &api.stream_done, &missing);
  Sym(lib, "chdb_stream_insert_error", &api.stream_insert_error, &missing);
  Sym(lib, "chdb_destroy_insert_stream", &api.destroy_insert_stream, &missing);
  Sym(lib, "chdb_result_buffer", &api.result_buffer, &missing);
  Sym(lib, "chdb_result_length", &api.result_length, &missing);
  Sym(lib, "chdb_result_error", &api.result_error, &missing);
  Sym(lib, "chdb_destroy_query_result", &api.destroy_query_result, &missing);
  Sym(lib, "chdb_version", &api.version, &missing);
  if (!missing.empty()) {
    dlclose(lib);  // nothing from it was used yet
    return Internal(path + " lacks the libchdb C API (" + missing + "); is it libchdb >= 3.x?");
  }
  e.lib = lib;
  e.lib_path = path;
  e.api = api;
  return Status::Ok();
}

bool HasText(const char* s) { return s != nullptr && *s != '\0'; }

// Copies a result (or its error) out and frees it.
StatusOr<std::string> TakeResult(const ChdbApi& api, chdb_result* r) {
  if (r == nullptr) return Internal("libchdb returned no result");
  StatusOr<std::string> out = std::string();
  if (const char* err = api.result_error(r); HasText(err)) {
    out = ErrorFromMessage(err);
  } else {
    const char* buf = api.result_buffer(r);
    size_t len = api.result_length(r);
    if (buf != nullptr && len > 0) out = std::string(buf, len);
  }
  api.destroy_query_result(r);
  return out;
}

}  // namespace

std::string DefaultLibchdbPath() {
  if (const char* p = std::getenv("COROOT_LIBCHDB"); HasText(p)) return p;
  if (const char* d = std::getenv("CHDB_DIR"); HasText(d)) return std::string(d) + "/libchdb.so";
  return "/opt/chdb/libchdb.so";
}

StatusOr<std::unique_ptr<EmbeddedClient>> EmbeddedClient::Open(const EmbeddedOptions& options) {
  if (options.data_dir.empty()) return InvalidArgument("embedded ClickHouse needs a data directory");
  std::string lib_path = options.library_path.empty() ? DefaultLibchdbPath() : options.library_path;
  RETURN_IF_ERROR(MakeDirs(options.data_dir));

  Engine& e = TheEngine();
  std::unique_ptr<EmbeddedClient> client(new EmbeddedClient(options.data_dir, lib_path));
  {
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.conn != nullptr)
      return Status(StatusCode::kAlreadyExists,
                    "an embedded ClickHouse engine is already open in this process (libchdb allows one per "
                    "process); share that client instead of opening another");
    RETURN_IF_ERROR(LoadLocked(e, lib_path));

    // chdb_connect wants mutable char*: keep the strings alive in a vector and pass their data().
    std::vector<std::string> args = {"clickhouse", "--path=" + options.data_dir};
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    chdb_connection* conn = nullptr;
    try {
      conn = e.api.connect(static_cast<int>(argv.size()), argv.data());
    } catch (...) {  // a C API should not throw, but an engine this size is not worth trusting on it
      conn = nullptr;
    }
    if (conn == nullptr || *conn == nullptr)
      return Internal("libchdb could not open an engine at " + options.data_dir +
                      " (another engine path already used in this process?)");
    e.conn = conn;
    e.owner = client.get();
    if (!e.atexit_registered) e.atexit_registered = std::atexit(CloseAtExit) == 0;
  }
  if (!options.database.empty() && options.database != "default") {
    // The connection is a session: USE makes unqualified names resolve in the project database.
    auto st = client->Query("CREATE DATABASE IF NOT EXISTS " + QuoteIdentifier(options.database));
    if (st.ok()) st = client->Query("USE " + QuoteIdentifier(options.database));
    if (!st.ok()) return st.status().WithContext("embedded ClickHouse database " + options.database);
  }
  LOG(INFO) << "opened " << client->Describe();
  return client;
}

EmbeddedClient::~EmbeddedClient() { Close(); }

void EmbeddedClient::Close() {
  Engine& e = TheEngine();
  std::lock_guard<std::mutex> lock(e.mu);
  if (e.owner == this) CloseLocked(e);
}

StatusOr<std::string> EmbeddedClient::Query(const std::string& sql, const std::string& format) {
  Engine& e = TheEngine();
  std::lock_guard<std::mutex> lock(e.mu);
  if (e.owner != this) return Unavailable("embedded ClickHouse connection is closed");
  try {
    return TakeResult(e.api, e.api.query_n(*e.conn, sql.data(), sql.size(), format.data(), format.size()));
  } catch (...) {
    return Internal("libchdb threw while running a query");
  }
}

Status EmbeddedClient::Insert(const std::string& table_and_columns, const std::string& format,
                              const std::string& data) {
  if (data.empty()) return Status::Ok();
  std::string sql = "INSERT INTO " + table_and_columns;
  Engine& e = TheEngine();
  std::lock_guard<std::mutex> lock(e.mu);
  if (e.owner != this) return Unavailable("embedded ClickHouse connection is closed");
  const ChdbApi& api = e.api;
  try {
    chdb_insert_stream s = api.stream_insert_n(*e.conn, sql.data(), sql.size(), format.data(), format.size());
    if (s == nullptr) return Internal("libchdb could not start an insert into " + table_and_columns);
    // An unknown table or column is reported here, before any data is sent.
    if (const char* err = api.stream_insert_error(s); HasText(err)) {
      Status st = ErrorFromMessage(err);
      api.destroy_insert_stream(s);
      return st;
    }
    if (api.stream_append(s, data.data(), data.size()) != 0) {
      const char* err = api.stream_insert_error(s);
      Status st = ErrorFromMessage(HasText(err) ? err : "libchdb refused the insert data");
      api.destroy_insert_stream(s);
      return st;
    }
    // Parsing errors in the data (e.g. truncated RowBinary) surface when the stream is finished.
    auto result = TakeResult(api, api.stream_done(s));
    Status st = result.ok() ? Status::Ok() : result.status();
    if (st.ok()) {
      if (const char* err = api.stream_insert_error(s); HasText(err)) st = ErrorFromMessage(err);
    }
    api.destroy_insert_stream(s);
    return st;
  } catch (...) {
    return Internal("libchdb threw during an insert into " + table_and_columns);
  }
}

Status EmbeddedClient::Ping() {
  ASSIGN_OR_RETURN(std::string out, Query("SELECT 1"));
  if (out != "1\n") return Internal("embedded ClickHouse answered SELECT 1 with: " + out);
  return Status::Ok();
}

std::string EmbeddedClient::Describe() const {
  Engine& e = TheEngine();
  std::lock_guard<std::mutex> lock(e.mu);
  std::string version = e.lib != nullptr ? e.api.version() : "?";
  return "embedded ClickHouse (libchdb " + version + " from " + library_path_ + ") at " + data_dir_ +
         (e.owner == this ? "" : " [closed]");
}

}  // namespace coroot::clickhouse
