#include "server/storage/clickhouse/otel_writer.h"

#include "lib/base/log.h"
#include "lib/base/strings.h"

namespace coroot::server::storage {

using Clock = std::chrono::steady_clock;

OtelWriter::OtelWriter(clickhouse::IClickHouseClient* client, OtelWriterOptions options)
    : client_(client), opt_(options), cluster_(opt_.cluster) {}

OtelWriter::~OtelWriter() { Stop(std::chrono::seconds(5)); }

void OtelWriter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void OtelWriter::Stop(std::chrono::milliseconds deadline) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    flush_now_ = true;
    cv_.notify_all();
    // Give the thread until the deadline to drain, then make it give up.
    drained_.wait_for(lock, deadline, [&] {
      bool acc_empty = true;
      for (auto& [db, a] : acc_) acc_empty = acc_empty && a.empty();
      return queue_.empty() && !inserting_ && acc_empty;
    });
    stop_ = true;
    cv_.notify_all();
  }
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  size_t lost = 0;
  for (auto& p : queue_) lost += p.rows;
  for (auto& [db, a] : acc_) lost += a.spans.rows() + a.logs.rows() + a.profiles.rows();
  if (lost > 0) {
    LOG(ERROR) << "ClickHouse writer stopped with " << lost << " rows not inserted";
    dropped_rows_ += lost;
  }
  queue_.clear();
  acc_.clear();
  buffered_bytes_ = 0;
}

namespace {

template <typename B>
void TakeRows(BatchParts<B>* target, B* batch) {
  target->Add(batch);
}
void TakeRows(ProfileBatch* target, ProfileBatch* batch) {
  if (target->rows() == 0) {
    std::swap(*target, *batch);
  } else {
    target->Append(*batch);
  }
  batch->Clear();
}

}  // namespace

template <typename B>
Status OtelWriter::Add(const std::string& database, B* batch, uint64_t wal_segment) {
  if (batch->rows() == 0) return Status::Ok();
  size_t bytes = batch->bytes();
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return Unavailable("the ClickHouse writer is stopping");
  if (buffered_bytes_.load() + bytes > opt_.max_buffer_bytes) {
    refused_full_++;
    return ResourceExhausted("the ingestion buffer is full (" + std::to_string(buffered_bytes_.load() >> 20) +
                             " MiB waiting for ClickHouse); retry later");
  }
  buffered_bytes_ += bytes;
  Accumulating& a = acc_[database];
  auto take = [&](auto* target, Clock::time_point* since, std::map<uint64_t, uint64_t>* segments) {
    if (wal_segment != 0) (*segments)[wal_segment] += batch->rows();
    if (target->rows() == 0) *since = Clock::now();
    TakeRows(target, batch);
    if (target->rows() >= opt_.flush_rows) cv_.notify_one();
  };
  if constexpr (std::is_same_v<B, SpanBatch>) {
    take(&a.spans, &a.spans_since, &a.spans_segments);
  } else if constexpr (std::is_same_v<B, LogBatch>) {
    take(&a.logs, &a.logs_since, &a.logs_segments);
  } else {
    take(&a.profiles, &a.profiles_since, &a.profiles_segments);
  }
  return Status::Ok();
}

Status OtelWriter::AddSpans(const std::string& database, SpanBatch* batch, uint64_t wal_segment) {
  return Add(database, batch, wal_segment);
}
Status OtelWriter::AddLogs(const std::string& database, LogBatch* batch, uint64_t wal_segment) {
  return Add(database, batch, wal_segment);
}
Status OtelWriter::AddProfiles(const std::string& database, ProfileBatch* batch, uint64_t wal_segment) {
  return Add(database, batch, wal_segment);
}

void OtelWriter::Stored(const Pending& p) {
  if (opt_.on_stored && !p.segments.empty()) opt_.on_stored(p.segments);
}

template <typename B>
void OtelWriter::CutOneLocked(const std::string& database, B* batch, Clock::time_point since, Clock::time_point* cut,
                              std::map<uint64_t, uint64_t>* segments, bool force) {
  if (batch->rows() == 0) return;
  auto now = Clock::now();
  const bool due = force || now - since >= opt_.flush_interval || batch->rows() >= opt_.max_insert_rows ||
                   (batch->rows() >= opt_.flush_rows && now - *cut >= opt_.min_insert_interval);
  if (!due) return;
  Pending p{database, B(), batch->bytes(), batch->rows(), std::move(*segments)};
  segments->clear();
  std::swap(std::get<B>(p.batch), *batch);
  queue_.push_back(std::move(p));
  *cut = now;
}

void OtelWriter::CutLocked(bool force) {
  for (auto& [db, a] : acc_) {
    CutOneLocked(db, &a.spans, a.spans_since, &a.spans_cut, &a.spans_segments, force);
    CutOneLocked(db, &a.logs, a.logs_since, &a.logs_cut, &a.logs_segments, force);
    CutOneLocked(db, &a.profiles, a.profiles_since, &a.profiles_cut, &a.profiles_segments, force);
  }
}

Status OtelWriter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) return Unavailable("the ClickHouse writer is not running");
  flush_now_ = true;
  cv_.notify_all();
  bool done = drained_.wait_for(lock, timeout, [&] {
    bool acc_empty = true;
    for (auto& [db, a] : acc_) acc_empty = acc_empty && a.empty();
    return queue_.empty() && !inserting_ && acc_empty;
  });
  return done ? Status::Ok() : DeadlineExceeded("rows still waiting for ClickHouse after the flush timeout");
}

Status OtelWriter::EnsureSchema(const std::string& database) {
  std::lock_guard<std::mutex> lock(schema_mu_);
  if (schema_ready_.count(database)) return Status::Ok();
  if (!cluster_) {
    auto c = DetectCluster(client_);
    if (!c.ok()) return c.status().WithContext("detecting a ClickHouse cluster");
    cluster_ = *c;
    if (c->on()) {
      LOG(INFO) << "ClickHouse cluster " << c->name() << ": replicated and distributed tables";
    }
  }
  SchemaOptions so;
  so.cluster = *cluster_;
  so.database = database;
  so.layout = opt_.layout;
  so.traces_ttl = opt_.traces_ttl;
  so.logs_ttl = opt_.logs_ttl;
  so.profiles_ttl = opt_.profiles_ttl;
  RETURN_IF_ERROR(CreateSchema(client_, so));
  schema_ready_.insert(database);
  LOG(INFO) << "ClickHouse schema ready in " << database;
  return Status::Ok();
}

Cluster OtelWriter::cluster() {
  std::lock_guard<std::mutex> lock(schema_mu_);
  return cluster_.value_or(Cluster());
}

std::string OtelWriter::InsertSettings() {
  std::lock_guard<std::mutex> lock(schema_mu_);
  const std::string sync = cluster_.value_or(Cluster()).InsertSettings();
  if (!opt_.skip_indexes_at_merge) return sync;
  if (skip_index_setting_known_ < 0) {
    // Older servers refuse an insert that names a setting they do not have.
    auto r = client_->Query("SELECT count() FROM system.settings WHERE name = 'materialize_skip_indexes_on_insert'");
    if (!r.ok()) return sync;  // asked again at the next insert
    skip_index_setting_known_ = Trim(*r) == "1" ? 1 : 0;
    if (skip_index_setting_known_ == 0) {
      LOG(INFO) << "ClickHouse has no materialize_skip_indexes_on_insert: skip indexes are built at insert";
    }
  }
  std::string skip = skip_index_setting_known_ == 1 ? "materialize_skip_indexes_on_insert = 0" : "";
  return sync.empty() || skip.empty() ? sync + skip : sync + ", " + skip;
}

Status OtelWriter::Insert(const Pending& p) {
  bool consistent = std::visit([](const auto& b) { return b.Consistent(); }, p.batch);
  if (!consistent) return InvalidArgument("inconsistent batch of " + std::to_string(p.rows) + " rows (a bug)");
  RETURN_IF_ERROR(EnsureSchema(p.database));
  const bool native = opt_.format == "Native";
  std::string& data = encoded_;
  data.clear();
  const Cluster cl = cluster();
  std::string table;
  std::string settings;
  if (const auto* spans = std::get_if<BatchParts<SpanBatch>>(&p.batch)) {
    data.reserve(spans->bytes() + spans->rows() * 64);
    if (native) {
      spans->WriteNative(&data);
    } else {
      clickhouse::RowBinaryWriter w;
      spans->WriteRowBinary(&w);
      data = w.Take();
    }
    table = cl.InsertTable(p.database, "otel_traces") + " " + SpanBatch::Columns();
    settings = InsertSettings();
  } else if (const auto* prof = std::get_if<ProfileBatch>(&p.batch)) {
    // Stacks first: a sample never points at a stack that is not stored. A retry after a failed
    // samples insert stores the stacks again, which ReplacingMergeTree folds.
    std::string stacks;
    stacks.reserve(prof->lines.bytes() + prof->stacks() * 48);
    std::string stack_table = cl.InsertTable(p.database, "profiling_stacks") + " " + ProfileBatch::StackColumns();
    if (cl.on()) stack_table += " SETTINGS " + cl.InsertSettings();
    if (native) {
      prof->WriteStacksNative(&stacks);
    } else {
      clickhouse::RowBinaryWriter w;
      prof->WriteStacksRowBinary(&w);
      stacks = w.Take();
    }
    auto t0 = Clock::now();
    Status st = client_->Insert(stack_table, native ? "Native" : "RowBinary", stacks);
    insert_seconds_ = insert_seconds_.load() + std::chrono::duration<double>(Clock::now() - t0).count();
    RETURN_IF_ERROR(st);
    stacks_inserted_ += prof->stacks();
    data.reserve(prof->bytes());
    if (native) {
      prof->WriteSamplesNative(&data);
    } else {
      clickhouse::RowBinaryWriter w;
      prof->WriteSamplesRowBinary(&w);
      data = w.Take();
    }
    table = cl.InsertTable(p.database, "profiling_samples") + " " + ProfileBatch::SampleColumns();
    settings = cl.InsertSettings();
  } else {
    const auto& logs = std::get<BatchParts<LogBatch>>(p.batch);
    data.reserve(logs.bytes() + logs.rows() * 32);
    if (native) {
      logs.WriteNative(&data);
    } else {
      clickhouse::RowBinaryWriter w;
      logs.WriteRowBinary(&w);
      data = w.Take();
    }
    table = cl.InsertTable(p.database, "otel_logs") + " " + LogBatch::Columns();
    settings = InsertSettings();
  }
  if (!settings.empty()) table += " SETTINGS " + settings;
  auto t0 = Clock::now();
  Status st = client_->Insert(table, native ? "Native" : "RowBinary", data);
  insert_seconds_ = insert_seconds_.load() + std::chrono::duration<double>(Clock::now() - t0).count();
  if (data.capacity() > kKeptEncodingBytes) std::string().swap(data);
  return st;
}

void OtelWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::chrono::milliseconds backoff{0};
  while (true) {
    bool force = flush_now_ || stop_;
    flush_now_ = false;
    CutLocked(force);
    if (queue_.empty()) {
      drained_.notify_all();
      if (stop_) break;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
      continue;
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    inserting_ = true;
    lock.unlock();
    Status st = Insert(p);
    lock.lock();
    inserting_ = false;
    if (st.ok()) {
      inserts_++;
      (std::holds_alternative<BatchParts<SpanBatch>>(p.batch)  ? rows_inserted_spans_
       : std::holds_alternative<BatchParts<LogBatch>>(p.batch) ? rows_inserted_logs_
                                                   : rows_inserted_profiles_) += p.rows;
      buffered_bytes_ -= p.bytes;
      backoff = std::chrono::milliseconds(0);
      lock.unlock();
      Stored(p);
      lock.lock();
      continue;
    }
    insert_failures_++;
    if (st.code() == StatusCode::kInvalidArgument) {
      // ClickHouse refuses these rows: retrying cannot help.
      LOG(ERROR) << "dropping " << p.rows << " rows for " << p.database << ": " << st.ToString();
      dropped_rows_ += p.rows;
      buffered_bytes_ -= p.bytes;
      lock.unlock();
      Stored(p);
      lock.lock();
      continue;
    }
    if (stop_) {
      // Out of time: not inserted, and not released from the WAL, so the next start replays them.
      LOG(ERROR) << "stopping with " << p.rows << " rows for " << p.database << " not inserted: " << st.ToString();
      dropped_rows_ += p.rows;
      buffered_bytes_ -= p.bytes;
      continue;
    }
    backoff = std::min<std::chrono::milliseconds>(std::max<std::chrono::milliseconds>(backoff * 2, std::chrono::milliseconds(500)),
                                                  std::chrono::seconds(30));
    LOG(WARNING) << "insert into " << p.database << " failed (retrying in " << backoff.count()
                 << " ms): " << st.ToString();
    queue_.push_front(std::move(p));
    cv_.wait_for(lock, backoff, [&] { return stop_; });
  }
}

void OtelWriter::Collect(std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily rows("coroot_clickhouse_rows_inserted_total", prom::MetricType::kCounter,
                          "Rows inserted into ClickHouse, by table");
  rows.Add({{"table", "otel_traces"}}, static_cast<double>(rows_inserted_spans_.load()));
  rows.Add({{"table", "otel_logs"}}, static_cast<double>(rows_inserted_logs_.load()));
  rows.Add({{"table", "profiling_samples"}}, static_cast<double>(rows_inserted_profiles_.load()));
  rows.Add({{"table", "profiling_stacks"}}, static_cast<double>(stacks_inserted_.load()));
  out->push_back(std::move(rows));
  prom::MetricFamily ins("coroot_clickhouse_inserts_total", prom::MetricType::kCounter, "Batch inserts, by outcome");
  ins.Add({{"outcome", "ok"}}, static_cast<double>(inserts_.load()));
  ins.Add({{"outcome", "failed"}}, static_cast<double>(insert_failures_.load()));
  out->push_back(std::move(ins));
  prom::MetricFamily dropped("coroot_clickhouse_dropped_total", prom::MetricType::kCounter,
                             "Rows or requests not stored, by reason");
  dropped.Add({{"reason", "buffer_full"}}, static_cast<double>(refused_full_.load()));
  dropped.Add({{"reason", "insert_refused"}}, static_cast<double>(dropped_rows_.load()));
  out->push_back(std::move(dropped));
  prom::MetricFamily buf("coroot_clickhouse_buffer_bytes", prom::MetricType::kGauge,
                         "Bytes of rows waiting for ClickHouse");
  buf.Add({}, static_cast<double>(buffered_bytes_.load()));
  out->push_back(std::move(buf));
  prom::MetricFamily secs("coroot_clickhouse_insert_seconds_total", prom::MetricType::kCounter,
                          "Time spent in ClickHouse inserts");
  secs.Add({}, insert_seconds_.load());
  out->push_back(std::move(secs));
}

}  // namespace coroot::server::storage
