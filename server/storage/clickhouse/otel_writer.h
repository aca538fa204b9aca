#pragma once
// OtelWriter: the bounded buffer between ingestion and ClickHouse for otel_traces, otel_logs and
// profiling_samples/profiling_stacks.
//
// Handlers Add() a decoded batch for a database; rows accumulate per (database, table), spans and
// log records as the requests' own batches (BatchParts, not copied), and are cut into an insert
// when they reach flush_rows or flush_interval passes. One flusher thread creates a database's
// schema before its first insert, encodes the insert (Native by default) and inserts it; an
// insert that fails for a transient reason is retried (with backoff) and not lost; one that
// ClickHouse refuses as malformed is dropped and counted. Memory is bounded: when the buffered
// bytes would pass max_buffer_bytes, Add() returns kResourceExhausted (→ 429 / RESOURCE_EXHAUSTED
// with Retry-After) and the refusal is counted. Stop() flushes everything before returning.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>

#include "lib/base/status.h"
#include "lib/clickhouse/client.h"
#include "lib/prom/metric.h"
#include "server/storage/clickhouse/batch_parts.h"
#include "server/storage/clickhouse/batches.h"
#include "server/storage/clickhouse/schema.h"

namespace coroot::server::storage {

struct OtelWriterOptions {
  // A table's rows are inserted when they reach flush_rows or have waited flush_interval (Coroot's
  // rule), but at most once per min_insert_interval per table unless max_insert_rows are waiting:
  // under load, inserts grow instead of multiplying (each insert costs the engine a fixed amount,
  // for the table and for each of its materialized views).
  size_t flush_rows = 10000;
  std::chrono::milliseconds flush_interval{5000};
  std::chrono::milliseconds min_insert_interval{1000};
  size_t max_insert_rows = 100000;
  size_t max_buffer_bytes = 256u << 20;  // accumulating + queued batches
  std::chrono::milliseconds traces_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds logs_ttl{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds profiles_ttl{std::chrono::hours(24 * 7)};
  // Codecs and sort order of the tables this writer creates (schema.h).
  SchemaLayout layout = SchemaLayout::kCompact;
  // Skip indexes of otel_traces and otel_logs built when ClickHouse merges parts instead of at
  // insert (materialize_skip_indexes_on_insert = 0, on servers that know the setting): they are
  // a third of the engine's cost per span (bench/otlp_schema_cost_bench), and merges build them
  // anyway. Until its first merge (seconds under load) a part is read whole instead of skipped
  // by granules; answers are the same.
  bool skip_indexes_at_merge = true;
  // The ClickHouse cluster to lay the schema out on; unset: DetectCluster() before the first schema
  // is created (a single server unless the server has ZooKeeper and a `coroot`/`default` cluster).
  std::optional<Cluster> cluster;
  // Insert format: "Native" (columnar, what ClickHouse parses fastest) or "RowBinary".
  std::string format = "Native";
  // Called with {WAL segment → rows} once those rows are stored in ClickHouse (or dropped as
  // refused); rows still buffered at Stop() are not reported, so their segments survive.
  std::function<void(const std::map<uint64_t, uint64_t>&)> on_stored;
};

class OtelWriter : public prom::ICollector {
 public:
  OtelWriter(clickhouse::IClickHouseClient* client, OtelWriterOptions options);
  ~OtelWriter() override;

  void Start();
  // Flushes every buffered row (retrying transient failures until `deadline`), then stops the thread.
  void Stop(std::chrono::milliseconds deadline = std::chrono::seconds(30));

  // Takes the rows of `batch` (left empty on success). kResourceExhausted when the buffer is full.
  // wal_segment: the WAL segment the rows were logged in (0: none).
  Status AddSpans(const std::string& database, SpanBatch* batch, uint64_t wal_segment = 0);
  Status AddLogs(const std::string& database, LogBatch* batch, uint64_t wal_segment = 0);
  // profiling_samples rows (flush_rows counts them) and their stacks (profiling_stacks).
  Status AddProfiles(const std::string& database, ProfileBatch* batch, uint64_t wal_segment = 0);

  // Cuts every accumulating batch and waits until all are inserted (or the timeout passes).
  Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Creates the schema of a database now (at start, for known projects). Idempotent and cached.
  Status EnsureSchema(const std::string& database);

  // The SETTINGS clause (without the keyword) this writer's otel_traces and otel_logs inserts
  // carry: the skip-index setting when asked for and the server knows it (asked once), and the
  // cluster's (Cluster::InsertSettings); may be empty.
  std::string InsertSettings();

  // The cluster the schema is laid out on (detected at the first EnsureSchema unless given);
  // a single server until then. Reads name their tables through it.
  Cluster cluster();

  void Collect(std::vector<prom::MetricFamily>* out) override;
  size_t buffered_bytes() const { return buffered_bytes_.load(); }
  // Whether `bytes` more would fit in the buffer now (Add* refuses what does not).
  bool HasRoomFor(size_t bytes) const { return buffered_bytes_.load() + bytes <= opt_.max_buffer_bytes; }

 private:
  struct Pending {
    std::string database;
    std::variant<BatchParts<SpanBatch>, BatchParts<LogBatch>, ProfileBatch> batch;
    size_t bytes = 0;
    size_t rows = 0;
    std::map<uint64_t, uint64_t> segments;
  };
  struct Accumulating {
    BatchParts<SpanBatch> spans;
    BatchParts<LogBatch> logs;
    ProfileBatch profiles;  // stacks are deduplicated across requests: appended
    std::chrono::steady_clock::time_point spans_since, logs_since, profiles_since;
    // When each table's rows were last cut into an insert.
    std::chrono::steady_clock::time_point spans_cut, logs_cut, profiles_cut;
    std::map<uint64_t, uint64_t> spans_segments, logs_segments, profiles_segments;
    bool empty() const { return spans.rows() == 0 && logs.rows() == 0 && profiles.rows() == 0; }
  };

  template <typename B>
  Status Add(const std::string& database, B* batch, uint64_t wal_segment);
  void Stored(const Pending& p);
  void Run();
  // Moves accumulating batches that are due (see OtelWriterOptions), or (force) any, to the queue.
  // Needs mu_.
  void CutLocked(bool force);
  template <typename B>
  void CutOneLocked(const std::string& database, B* batch, std::chrono::steady_clock::time_point since,
                    std::chrono::steady_clock::time_point* cut, std::map<uint64_t, uint64_t>* segments, bool force);
  Status Insert(const Pending& p);

  clickhouse::IClickHouseClient* client_;
  OtelWriterOptions opt_;
  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::map<std::string, Accumulating> acc_;
  std::deque<Pending> queue_;
  bool stop_ = false, flush_now_ = false, inserting_ = false;
  std::thread thread_;
  std::mutex schema_mu_;
  // The encoded rows of the insert running (writer thread only). Kept between inserts up to
  // kKeptEncodingBytes of capacity: a fresh buffer of tens of MB per insert cost its page faults.
  static constexpr size_t kKeptEncodingBytes = 128u << 20;
  std::string encoded_;
  std::set<std::string> schema_ready_;
  int skip_index_setting_known_ = -1;  // -1: not asked yet (under schema_mu_)
  std::optional<Cluster> cluster_;     // under schema_mu_; set once known

  std::atomic<size_t> buffered_bytes_{0};
  std::atomic<uint64_t> rows_inserted_spans_{0}, rows_inserted_logs_{0}, rows_inserted_profiles_{0}, stacks_inserted_{0}, inserts_{0}, insert_failures_{0},
      refused_full_{0}, dropped_rows_{0};
  std::atomic<double> insert_seconds_{0};
};

}  // namespace coroot::server::storage
