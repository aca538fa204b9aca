// Test-only: the ClickHouse HTTP interface, as lib/clickhouse's RemoteClient speaks it, served over
// the embedded engine (libchdb 26.7). Debian's only clickhouse-server (18.16) predates the schema's
// types, so the server's remote path is tested against this process, which can be killed and
// started again on the same data like a real server (issue 6's fault tests).
//
//   clickhouse_http_shim --listen 127.0.0.1:PORT --path DIR
//
// POST /?query=INSERT INTO t (cols) FORMAT F   body: the rows (gzip when Content-Encoding says so)
// POST /?default_format=F                       body: a query
// GET  /ping                                    "Ok."
// Errors are HTTP 500 with ClickHouse's own message ("Code: N. DB::Exception: ..."), which the
// client parses as it would a real server's.
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <string>

#include "lib/clickhouse/embedded_client.h"
#include "lib/compress/compress.h"
#include "lib/http/server.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

std::string Arg(int argc, char** argv, const std::string& name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace coroot;
  const std::string listen = Arg(argc, argv, "--listen"), path = Arg(argc, argv, "--path");
  if (listen.empty() || path.empty()) {
    std::cerr << "usage: clickhouse_http_shim --listen HOST:PORT --path DIR\n";
    return 2;
  }
  clickhouse::EmbeddedOptions eo;
  eo.data_dir = path;
  auto engine = clickhouse::EmbeddedClient::Open(eo);
  if (!engine.ok()) {
    std::cerr << engine.status().ToString() << "\n";
    return 1;
  }
  clickhouse::EmbeddedClient* ch = engine->get();

  http::ServerOptions so;
  so.listen = listen;
  so.threads = 2;
  so.max_body_bytes = 512u << 20;
  http::Server srv(so);
  srv.Handle("", "/ping", [](const http::Request&, http::Response* r) { *r = http::Response::Text(200, "Ok.\n"); });
  srv.Handle("POST", "/", [ch](const http::Request& req, http::Response* r) {
    std::string body = req.body;
    if (req.Header("Content-Encoding") == "gzip") {
      auto plain = compress::ZlibDecompress(body, compress::ZlibFormat::kGzip, 1u << 30);
      if (!plain.ok()) {
        *r = http::Response::Text(400, "Code: 354. DB::Exception: cannot decompress: " + plain.status().message());
        return;
      }
      body = std::move(*plain);
    }
    Status st = Status::Ok();
    std::string out;
    const std::string query = req.QueryParam("query");
    if (query.rfind("INSERT INTO ", 0) == 0) {
      const size_t fmt = query.rfind(" FORMAT ");
      if (fmt == std::string::npos) {
        *r = http::Response::Text(400, "Code: 62. DB::Exception: INSERT without FORMAT");
        return;
      }
      st = ch->Insert(query.substr(12, fmt - 12), query.substr(fmt + 8), body);
    } else {
      const std::string format = req.QueryParam("default_format");
      auto res = ch->Query(query.empty() ? body : query + body, format.empty() ? "TSV" : format);
      if (res.ok()) out = std::move(*res);
      st = res.status();
    }
    *r = st.ok() ? http::Response::Text(200, std::move(out)) : http::Response::Text(500, st.message());
  });
  if (Status st = srv.Start(); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::cerr << "clickhouse_http_shim on " << listen << " over " << path << "\n";
  while (!g_stop) pause();
  srv.Stop();
  return 0;
}
