// Storage efficiency benchmark: realistic logs and spans written through the real OtelWriter into
// the embedded ClickHouse engine, once in Coroot's schema (the baseline) and once in ours
// (SchemaLayout::kCompact), in the same run. Prints, per table, rows, bytes on disk and compression
// ratio (system.parts after OPTIMIZE FINAL), the biggest columns (system.columns), insert cost, and
// the read API's query times on both schemas side by side, checking that both answer the same.
//   storage_compression_bench [logs=1000000] [spans=1000000] [loghub_dir=/work/shared/data/loghub]
// Logs: the 8 loghub datasets (2k real lines each) replayed as 8 services with 3 pods each; in every
// replay after the first, digit runs of 4+ characters (ids, pids, ports, block numbers) are
// redrawn, as a longer real log would have them; a trace id on 20 % of the records of the
// OTel-instrumented services. Spans: 6-span traces through a shop (frontend → catalog/cart/checkout
// → postgres/redis/payments) with random hex ids, log-normal durations, ~10 attributes, 3 % errors
// carrying an exception event.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_engine.h"
#include "lib/base/strings.h"
#include "lib/clickhouse/embedded_client.h"
#include "server/api/telemetry_api.h"
#include "server/projects/project_store.h"
#include "server/storage/clickhouse/otel_writer.h"

using namespace coroot;
using server::storage::LogBatch;
using server::storage::SchemaLayout;
using server::storage::SpanBatch;

namespace {

constexpr int64_t kBase = 1796025600LL * 1000000000LL;  // 2026-12-01 00:00:00 UTC
constexpr int64_t kWindow = 20LL * 3600 * 1000000000LL;  // the rows span 20 hours of one day

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string Hex(std::mt19937_64& rng, int bytes) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < bytes; ++i) {
    unsigned b = rng() & 0xff;
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}

// One CSV record (RFC 4180 quoting) per line; loghub's structured files have no embedded newlines.
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> out(1);
  bool q = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (q) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        q = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      q = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

struct LogLine {
  std::string body, level, component, pid;
};

struct Dataset {
  std::string service;
  bool otel;  // instrumented with an OTel SDK: some records carry trace context
  std::vector<LogLine> lines;
};

std::vector<Dataset> LoadLoghub(const std::string& dir) {
  struct D {
    const char* name;
    const char* service;
    bool otel;
  };
  std::vector<Dataset> out;
  for (D d : {D{"Apache", "apache-httpd", false}, D{"HDFS", "hdfs-datanode", false}, D{"Hadoop", "hadoop-mr", true},
              D{"Linux", "linux-syslog", false}, D{"OpenSSH", "sshd", false}, D{"OpenStack", "nova-api", true},
              D{"Spark", "spark-executor", true}, D{"Zookeeper", "zookeeper", true}}) {
    std::ifstream f(dir + "/" + d.name + "/" + d.name + "_2k.log_structured.csv");
    std::string line;
    if (!std::getline(f, line)) continue;
    std::vector<std::string> head = CsvFields(line);
    auto col = [&](const char* n) {
      auto it = std::find(head.begin(), head.end(), n);
      return it == head.end() ? -1 : static_cast<int>(it - head.begin());
    };
    int content = col("Content"), level = col("Level"), component = col("Component"), pid = col("Pid");
    if (pid < 0) pid = col("PID");
    Dataset ds{d.service, d.otel, {}};
    while (std::getline(f, line)) {
      auto v = CsvFields(line);
      auto get = [&](int i) { return i >= 0 && i < static_cast<int>(v.size()) ? v[i] : std::string(); };
      ds.lines.push_back({get(content), get(level), get(component), get(pid)});
    }
    if (!ds.lines.empty()) out.push_back(std::move(ds));
  }
  return out;
}

// Digit runs of 4 or more characters redrawn (same length).
std::string Vary(const std::string& s, std::mt19937_64& rng) {
  std::string out = s;
  for (size_t i = 0; i < out.size();) {
    size_t j = i;
    while (j < out.size() && out[j] >= '0' && out[j] <= '9') ++j;
    if (j - i >= 4)
      for (size_t k = i; k < j; ++k) out[k] = static_cast<char>('0' + rng() % 10);
    i = j > i ? j : i + 1;
  }
  return out;
}

void Severity(const std::string& level, std::string* text, int32_t* number) {
  std::string l = ToLower(level);
  if (l == "warn" || l == "warning") {
    *text = "WARN", *number = 13;
  } else if (l == "error" || l == "fatal" || l == "critical") {
    *text = "ERROR", *number = 17;
  } else if (l == "debug") {
    *text = "DEBUG", *number = 5;
  } else {
    *text = "INFO", *number = 9;
  }
}

std::vector<LogBatch> MakeLogs(const std::vector<Dataset>& sets, int n) {
  std::mt19937_64 rng(11);
  std::vector<LogBatch> out(1);
  const int64_t step = kWindow / n;
  for (int i = 0; i < n; ++i) {
    if (out.back().rows() == 10000) out.emplace_back();
    LogBatch& b = out.back();
    const Dataset& d = sets[i % sets.size()];
    int k = i / static_cast<int>(sets.size());
    const LogLine& l = d.lines[k % d.lines.size()];
    int replay = k / static_cast<int>(d.lines.size());
    int pod = static_cast<int>(rng() % 3);
    b.timestamp.push_back(kBase + i * step + static_cast<int64_t>(rng() % step));
    if (d.otel && rng() % 5 == 0) {
      b.trace_id.Add(Hex(rng, 16));
      b.span_id.Add(Hex(rng, 8));
      b.trace_flags.push_back(1);
    } else {
      b.trace_id.Add("");
      b.span_id.Add("");
      b.trace_flags.push_back(0);
    }
    std::string st;
    int32_t sn;
    Severity(l.level, &st, &sn);
    b.severity_text.Add(st);
    b.severity_number.push_back(sn);
    b.service_name.Add(d.service);
    b.body.Add(replay == 0 ? l.body : Vary(l.body, rng));
    std::string pod_name = d.service + "-5f7d8c9b4-" + std::string("abc").substr(pod, 1) + "x" + std::to_string(pod);
    b.resource_attributes.Put("service.name", d.service);
    b.resource_attributes.Put("host.name", "node-" + std::to_string((i % sets.size() + pod) % 5));
    b.resource_attributes.Put("k8s.namespace.name", "prod");
    b.resource_attributes.Put("k8s.pod.name", pod_name);
    b.resource_attributes.Put("k8s.container.name", d.service);
    b.resource_attributes.EndRow();
    if (!l.component.empty()) b.log_attributes.Put("code.namespace", l.component);
    if (!l.pid.empty()) b.log_attributes.Put("process.pid", l.pid);
    b.log_attributes.Put("log.iostream", "stdout");
    b.log_attributes.EndRow();
  }
  return out;
}

struct Hop {
  const char* service;
  const char* name;
  const char* kind;
  int parent;   // index of the parent hop in the trace, -1 for the root
  double ms;    // median duration
  int type;     // 0 http server, 1 http client, 2 postgres, 3 redis, 4 grpc client
};

std::vector<SpanBatch> MakeSpans(int n, std::vector<std::string>* trace_ids) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> spread(0, 0.8);
  const std::vector<std::vector<Hop>> flows = {
      {{"frontend", "GET /api/products/{id}", "SPAN_KIND_SERVER", -1, 40, 0},
       {"frontend", "GET", "SPAN_KIND_CLIENT", 0, 30, 1},
       {"catalog", "GET /products/{id}", "SPAN_KIND_SERVER", 1, 25, 0},
       {"catalog", "SELECT catalog.products", "SPAN_KIND_CLIENT", 2, 8, 2},
       {"catalog", "GET", "SPAN_KIND_CLIENT", 2, 1, 3},
       {"catalog", "SELECT catalog.prices", "SPAN_KIND_CLIENT", 2, 5, 2}},
      {{"frontend", "POST /api/cart", "SPAN_KIND_SERVER", -1, 60, 0},
       {"frontend", "POST", "SPAN_KIND_CLIENT", 0, 50, 1},
       {"cart", "POST /cart/items", "SPAN_KIND_SERVER", 1, 45, 0},
       {"cart", "HGET", "SPAN_KIND_CLIENT", 2, 1, 3},
       {"cart", "HSET", "SPAN_KIND_CLIENT", 2, 1, 3},
       {"cart", "INSERT cart.items", "SPAN_KIND_CLIENT", 2, 12, 2}},
      {{"frontend", "POST /api/checkout", "SPAN_KIND_SERVER", -1, 300, 0},
       {"checkout", "POST /checkout", "SPAN_KIND_SERVER", 0, 280, 0},
       {"checkout", "payments.Charge", "SPAN_KIND_CLIENT", 1, 200, 4},
       {"payments", "payments.Charge", "SPAN_KIND_SERVER", 2, 190, 0},
       {"payments", "INSERT payments.transactions", "SPAN_KIND_CLIENT", 3, 20, 2},
       {"checkout", "UPDATE orders.orders", "SPAN_KIND_CLIENT", 1, 15, 2}},
  };
  std::map<std::string, std::string> instance;  // service → service.instance.id
  std::vector<SpanBatch> out(1);
  const int traces = (n + 5) / 6;
  const int64_t step = kWindow / traces;
  int done = 0;
  for (int t = 0; t < traces && done < n; ++t) {
    const auto& flow = flows[rng() % 10 < 6 ? 0 : (rng() % 10 < 7 ? 1 : 2)];
    std::string trace = Hex(rng, 16);
    trace_ids->push_back(trace);
    bool error = rng() % 100 < 3;
    int64_t start = kBase + t * step + static_cast<int64_t>(rng() % step);
    std::vector<std::string> ids;
    std::vector<int64_t> starts;
    int64_t id_num = static_cast<int64_t>(rng() % 100000);
    for (size_t h = 0; h < flow.size() && done < n; ++h, ++done) {
      if (out.back().rows() == 10000) out.emplace_back();
      SpanBatch& b = out.back();
      const Hop& hop = flow[h];
      ids.push_back(Hex(rng, 8));
      int64_t s = hop.parent < 0 ? start : starts[hop.parent] + static_cast<int64_t>(rng() % 2000000);
      starts.push_back(s);
      b.timestamp.push_back(s);
      b.trace_id.Add(trace);
      b.span_id.Add(ids.back());
      b.parent_span_id.Add(hop.parent < 0 ? "" : ids[hop.parent]);
      b.trace_state.Add("");
      b.span_name.Add(hop.name);
      b.span_kind.Add(hop.kind);
      b.service_name.Add(hop.service);
      int pod = static_cast<int>(rng() % 3);
      std::string svc = hop.service;
      std::string pod_name = svc + "-7c9d6f5b8-" + "xyz"[pod] + std::to_string(pod);
      auto& inst = instance[pod_name];
      if (inst.empty()) inst = Hex(rng, 4) + "-" + Hex(rng, 2) + "-" + Hex(rng, 2) + "-" + Hex(rng, 2) + "-" + Hex(rng, 6);
      auto& ra = b.resource_attributes;
      ra.Put("service.name", svc);
      ra.Put("service.version", svc == "checkout" ? "2.4.1" : "1.12.0");
      ra.Put("service.instance.id", inst);
      ra.Put("host.name", "node-" + std::to_string((pod + svc.size()) % 5));
      ra.Put("k8s.namespace.name", "shop");
      ra.Put("k8s.pod.name", pod_name);
      ra.Put("telemetry.sdk.language", svc == "payments" ? "java" : "go");
      ra.Put("telemetry.sdk.name", "opentelemetry");
      ra.Put("telemetry.sdk.version", svc == "payments" ? "1.32.0" : "1.24.0");
      ra.EndRow();
      bool failed = error && (h == 0 || hop.type != 3);
      auto& a = b.span_attributes;
      std::string id = std::to_string(id_num);
      switch (hop.type) {
        case 0:
          a.Put("http.method", std::string(hop.name).substr(0, std::string(hop.name).find(' ')));
          a.Put("http.route", std::string(hop.name).substr(std::string(hop.name).find(' ') + 1));
          a.Put("http.target", "/" + svc + "/" + id);
          a.Put("http.status_code", failed ? "500" : "200");
          a.Put("net.host.name", svc);
          a.Put("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0");
          break;
        case 1:
          a.Put("http.method", hop.name);
          a.Put("http.url", std::string("http://") + flow[h + 1].service + ":8080/" + id);
          a.Put("http.status_code", failed ? "500" : "200");
          a.Put("net.peer.name", flow[h + 1].service);
          a.Put("net.peer.port", "8080");
          a.Put("net.sock.peer.addr", "10.42." + std::to_string(h) + "." + std::to_string(10 + pod));
          break;
        case 2:
          a.Put("db.system", "postgresql");
          a.Put("db.name", "shop");
          a.Put("db.statement", std::string(hop.name).substr(0, 6) + " ... FROM " +
                                    std::string(hop.name).substr(std::string(hop.name).find(' ') + 1) +
                                    " WHERE id = $1");
          a.Put("net.peer.name", "postgres");
          a.Put("net.peer.port", "5432");
          a.Put("net.sock.peer.addr", "10.42.9.4");
          break;
        case 3:
          a.Put("db.system", "redis");
          a.Put("db.statement", std::string(hop.name) + " cart:" + id);
          a.Put("net.peer.name", "redis");
          a.Put("net.peer.port", "6379");
          a.Put("net.sock.peer.addr", "10.42.9.7");
          break;
        default:
          a.Put("rpc.system", "grpc");
          a.Put("rpc.service", "payments.Payments");
          a.Put("rpc.method", "Charge");
          a.Put("rpc.grpc.status_code", failed ? "13" : "0");
          a.Put("net.peer.name", "payments");
          a.Put("net.sock.peer.addr", "10.42.7." + std::to_string(10 + pod));
      }
      a.Put("otel.scope.name", hop.type == 2 ? "go.opentelemetry.io/contrib/instrumentation/database/sql"
                                             : "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp");
      a.Put("otel.scope.version", "0.46.1");
      a.EndRow();
      double ms = hop.ms * spread(rng) * (failed ? 3 : 1);
      b.duration.push_back(static_cast<int64_t>(ms * 1e6));
      b.status_code.Add(failed ? "STATUS_CODE_ERROR" : "STATUS_CODE_UNSET");
      b.status_message.Add(failed ? "upstream request failed" : "");
      if (failed && h + 1 == flow.size()) {
        b.event_timestamp.push_back(s + static_cast<int64_t>(ms * 1e6));
        b.event_name.Add("exception");
        b.event_attributes.Put("exception.type", "context.DeadlineExceeded");
        b.event_attributes.Put("exception.message", "context deadline exceeded");
        b.event_attributes.Put("exception.stacktrace", "goroutine 1 [running]:\nmain.handle(...)\n\t/app/main.go:" + std::to_string(40 + h));
        b.event_attributes.EndRow();
      }
      b.events.Push(b.event_timestamp.size());
      b.links.Push(b.link_trace_id.size());
    }
  }
  return out;
}

std::string Q(clickhouse::IClickHouseClient* c, const std::string& sql) {
  auto r = c->Query(sql, "TSV");
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", sql.c_str(), r.status().ToString().c_str());
    std::exit(1);
  }
  return Trim(*r);
}

struct TableFigures {
  uint64_t rows = 0, parts = 0, compressed = 0, uncompressed = 0;
};

std::map<std::string, TableFigures> Tables(clickhouse::IClickHouseClient* c, const std::string& db) {
  std::map<std::string, TableFigures> out;
  std::string tsv = Q(c, "SELECT table, sum(rows), count(), sum(data_compressed_bytes), sum(data_uncompressed_bytes) "
                         "FROM system.parts WHERE active AND database = '" + db + "' GROUP BY table");
  std::istringstream in(tsv);
  std::string line;
  while (std::getline(in, line)) {
    auto f = Split(line, '\t');
    if (f.size() < 5) continue;
    TableFigures t;
    t.rows = std::stoull(f[1]), t.parts = std::stoull(f[2]), t.compressed = std::stoull(f[3]),
    t.uncompressed = std::stoull(f[4]);
    out[f[0]] = t;
  }
  return out;
}

std::map<std::string, uint64_t> Columns(clickhouse::IClickHouseClient* c, const std::string& db, const std::string& t) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(Q(c, "SELECT name, data_compressed_bytes FROM system.columns WHERE database = '" + db +
                                 "' AND table = '" + t + "'"));
  std::string line;
  while (std::getline(in, line)) {
    auto f = Split(line, '\t');
    if (f.size() == 2) out[f[0]] = std::stoull(f[1]);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int n_logs = argc > 1 ? std::atoi(argv[1]) : 1000000;
  int n_spans = argc > 2 ? std::atoi(argv[2]) : 1000000;
  std::string loghub = argc > 3 ? argv[3] : "/work/shared/data/loghub";
  std::string dir = "/tmp/coroot_storage_bench";
  std::filesystem::remove_all(dir);
  auto sets = LoadLoghub(loghub);
  if (sets.empty()) {
    std::fprintf(stderr, "no loghub datasets under %s\n", loghub.c_str());
    return 1;
  }
  auto client = bench::OpenFreshEngine(dir);
  clickhouse::IClickHouseClient* ch = client.get();
  auto projects = server::ProjectStore::Open(dir + "/db.sqlite");
  if (!projects.ok() || !(*projects)->Bootstrap("http://127.0.0.1:1", "").ok()) return 1;

  std::vector<std::string> trace_ids;
  auto logs = MakeLogs(sets, n_logs);
  auto spans = MakeSpans(n_spans, &trace_ids);
  size_t log_bytes = 0, span_bytes = 0;
  for (auto& b : logs) log_bytes += b.bytes();
  for (auto& b : spans) span_bytes += b.bytes();
  std::printf("storage benchmark: %d log records from %zu loghub datasets (%.0f bytes/record in memory), "
              "%d spans in %zu traces (%.0f bytes/span)\n",
              n_logs, sets.size(), double(log_bytes) / n_logs, n_spans, trace_ids.size(), double(span_bytes) / n_spans);

  struct Layout {
    const char* name = "";
    SchemaLayout layout = SchemaLayout::kCoroot;
    std::string db;
    std::unique_ptr<server::storage::OtelWriter> writer;
    std::unique_ptr<server::TelemetryApi> api;
    double log_cpu = 0, log_wall = 0, span_cpu = 0, span_wall = 0;
  };
  Layout layouts[2];
  layouts[0].name = "coroot", layouts[0].layout = SchemaLayout::kCoroot, layouts[0].db = "bench_coroot";
  layouts[1].name = "ours", layouts[1].layout = SchemaLayout::kCompact, layouts[1].db = "bench_ours";
  for (Layout& l : layouts) {
    server::storage::OtelWriterOptions wo;
    wo.layout = l.layout;
    wo.max_buffer_bytes = size_t{4} << 30;
    l.writer = std::make_unique<server::storage::OtelWriter>(ch, wo);
    if (Status st = l.writer->EnsureSchema(l.db); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    l.writer->Start();
    std::string db = l.db;
    l.api = std::make_unique<server::TelemetryApi>(
        [p = projects->get()](const http::Request& r) { return p->FindByApiKey(r.Header("X-Api-Key")); }, ch, l.writer.get(),
                                                   [db](const server::Project&) { return db; });
    // Copies: the writer takes the rows of what it is given.
    double c0 = CpuSeconds(), w0 = Now();
    for (const auto& b : logs) {
      LogBatch copy = b;
      if (!l.writer->AddLogs(l.db, &copy).ok()) return 1;
    }
    if (!l.writer->Flush(std::chrono::minutes(30)).ok()) return 1;
    l.log_cpu = CpuSeconds() - c0, l.log_wall = Now() - w0;
    c0 = CpuSeconds(), w0 = Now();
    for (const auto& b : spans) {
      SpanBatch copy = b;
      if (!l.writer->AddSpans(l.db, &copy).ok()) return 1;
    }
    if (!l.writer->Flush(std::chrono::minutes(30)).ok()) return 1;
    l.span_cpu = CpuSeconds() - c0, l.span_wall = Now() - w0;
    for (const char* t : {"otel_logs", "otel_traces", "otel_traces_trace_id_ts", "otel_traces_histogram",
                          "otel_traces_service_name", "otel_logs_service_name_severity_text"})
      Q(ch, "OPTIMIZE TABLE " + l.db + "." + t + " FINAL");
  }

  std::printf("\ninsert through OtelWriter (Native, 10,000-row batches, incl. MVs), rows per CPU-second (wall s):\n");
  std::printf("  %-8s %14s %14s\n", "", "coroot", "ours");
  std::printf("  %-8s %8.0f (%4.1f) %8.0f (%4.1f)\n", "logs", n_logs / layouts[0].log_cpu, layouts[0].log_wall,
              n_logs / layouts[1].log_cpu, layouts[1].log_wall);
  std::printf("  %-8s %8.0f (%4.1f) %8.0f (%4.1f)\n", "spans", n_spans / layouts[0].span_cpu, layouts[0].span_wall,
              n_spans / layouts[1].span_cpu, layouts[1].span_wall);

  auto a = Tables(ch, layouts[0].db), b = Tables(ch, layouts[1].db);
  std::printf("\nper table after OPTIMIZE FINAL (ratio = uncompressed / compressed bytes; vs raw = coroot's "
              "uncompressed / this table's compressed):\n");
  std::printf("  %-38s %9s | %10s %7s %6s | %10s %7s %6s %7s\n", "table", "rows", "coroot B", "B/row", "ratio",
              "ours B", "B/row", "ratio", "vs raw");
  for (const auto& [t, x] : a) {
    TableFigures y = b.count(t) ? b[t] : TableFigures();
    auto per = [](uint64_t bytes, uint64_t rows) { return rows ? double(bytes) / rows : 0.0; };
    std::printf("  %-38s %9llu | %10llu %7.1f %5.1fx | %10llu %7.1f %5.1fx %6.1fx\n", t.c_str(),
                (unsigned long long)x.rows, (unsigned long long)x.compressed, per(x.compressed, x.rows),
                double(x.uncompressed) / x.compressed, (unsigned long long)y.compressed, per(y.compressed, y.rows),
                y.compressed ? double(y.uncompressed) / y.compressed : 0, y.compressed ? double(x.uncompressed) / y.compressed : 0);
  }
  for (const char* t : {"otel_logs", "otel_traces"}) {
    auto ca = Columns(ch, layouts[0].db, t), cb = Columns(ch, layouts[1].db, t);
    std::vector<std::pair<uint64_t, std::string>> order;
    for (auto& [c, v] : ca) order.push_back({v, c});
    std::sort(order.rbegin(), order.rend());
    std::printf("\n  %s columns, compressed bytes per row:      coroot     ours\n", t);
    for (auto& [v, c] : order) {
      uint64_t rows = a[t].rows;
      if (v * 100 < a[t].compressed) continue;  // under 1 % of the table
      std::printf("    %-40s %8.2f %8.2f\n", c.c_str(), double(v) / rows, double(cb[c]) / rows);
    }
  }

  // Read API queries, the same on both schemas; median of 7 runs after a warm-up.
  auto ms = [](int64_t ns) { return std::to_string(ns / 1000000); };
  const int64_t mid = kBase + kWindow / 2;
  std::string from = ms(mid), to = ms(mid + 3600LL * 1000000000LL);
  struct Query {
    const char* what;
    bool traces;
    std::string query;
  };
  std::string hm_from = ms(mid), hm_to = ms(mid + 3 * 3600LL * 1000000000LL);
  std::vector<Query> queries = {
      {"logs: service, 1 h, newest 100 + histogram", false, "service=nova-api&from=" + from + "&to=" + to},
      {"logs: word search in a service, 1 h", false, "service=hdfs-datanode&search=terminating&from=" + from + "&to=" + to},
      {"logs: error severity, all services, 1 h", false, "severity=error&from=" + from + "&to=" + to},
      {"logs: word search, all services, whole range", false, "search=Failed&limit=100"},
      {"traces: trace by id", true, "trace_id=" + trace_ids[trace_ids.size() / 3]},
      {"traces: newest 100 spans of a service", true, "service=catalog&limit=100"},
      {"heatmap: service, 3 h by minute (histogram)", true, "heatmap&service=catalog&from=" + hm_from + "&to=" + hm_to},
      {"heatmap: service+span, 3 h by 30 s (spans)", true,
       "heatmap&service=catalog&span_name=SELECT catalog.products&step=30&from=" + hm_from + "&to=" + hm_to},
  };
  std::printf("\nread API query times, ms: median (fastest) of 15 runs alternating between the schemas; same answer?\n");
  std::printf("  %-46s %15s %15s  %s\n", "query", "coroot", "ours", "same");
  for (const Query& q : queries) {
    std::vector<double> runs[2];
    std::string body[2];
    http::Request req;
    req.method = "GET";
    req.query = q.query;
    for (int r = 0; r < 16; ++r) {
      for (int i = 0; i < 2; ++i) {
        http::Response resp;
        double w0 = Now();
        if (!q.traces) {
          layouts[i].api->Logs(req, &resp);
        } else if (q.query.rfind("heatmap&", 0) == 0) {
          layouts[i].api->TraceHeatmap(req, &resp);
        } else {
          layouts[i].api->Traces(req, &resp);
        }
        if (r > 0) runs[i].push_back(Now() - w0);  // the first is a warm-up
        if (resp.status != 200) {
          std::fprintf(stderr, "%s: %d %s\n", q.what, resp.status, resp.body.c_str());
          return 1;
        }
        body[i] = resp.body;
      }
    }
    double t[2], fastest[2];
    for (int i = 0; i < 2; ++i) {
      std::sort(runs[i].begin(), runs[i].end());
      t[i] = runs[i][runs[i].size() / 2] * 1000;
      fastest[i] = runs[i][0] * 1000;
    }
    std::printf("  %-46s %7.1f (%5.1f) %7.1f (%5.1f)  %s (%zu bytes)\n", q.what, t[0], fastest[0], t[1], fastest[1],
                body[0] == body[1] ? "yes" : "NO", body[0].size());
  }
  for (Layout& l : layouts) l.writer->Stop();
  client->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
