#include "server/storage/clickhouse/space_manager.h"

#include <set>
#include <sstream>

#include "lib/base/log.h"
#include "lib/base/strings.h"

namespace coroot::server::storage {

using clickhouse::QuoteIdentifier;
using clickhouse::QuoteString;

namespace {

std::vector<std::vector<std::string>> Tsv(const std::string& body) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(Split(line, '\t'));
  return rows;
}

}  // namespace

StatusOr<std::vector<std::string>> SpaceManager::RunOnce() {
  std::vector<std::string> dropped;
  std::vector<std::string> dbs = opt_.databases ? opt_.databases() : std::vector<std::string>();
  if (dbs.empty()) return dropped;
  std::string db_list;
  for (const std::string& d : std::set<std::string>(dbs.begin(), dbs.end()))
    db_list += (db_list.empty() ? "" : ", ") + QuoteString(d);
  ASSIGN_OR_RETURN(std::string disks, client_->Query("SELECT name, total_space, free_space FROM system.disks "
                                                     "WHERE type = 'Local' AND total_space > 0", "TSV"));
  for (const auto& d : Tsv(disks)) {
    if (d.size() < 3) continue;
    uint64_t total = 0, free = 0;
    if (!ParseUint64(d[1], &total) || !ParseUint64(d[2], &free) || total == 0) continue;
    double usage = 100.0 * static_cast<double>(total - std::min(free, total)) / static_cast<double>(total);
    if (usage <= opt_.usage_threshold_percent) continue;
    // Partition ids of toDate partitions are YYYYMMDD: their order is their age.
    ASSIGN_OR_RETURN(std::string parts,
                     client_->Query("SELECT database, table, groupArray(partition_id) FROM (SELECT DISTINCT database, "
                                    "table, partition_id FROM system.parts WHERE active AND disk_name = " +
                                        QuoteString(d[0]) + " AND database IN (" + db_list +
                                        ") AND (table LIKE 'otel\\\\_%' OR table LIKE 'profiling\\\\_%') "
                                        "ORDER BY partition_id) GROUP BY database, table ORDER BY database, table",
                                    "TabSeparatedRaw"));
    for (const auto& p : Tsv(parts)) {
      if (p.size() < 3) continue;
      // groupArray as text: ['20261128','20261129']
      std::vector<std::string> ids;
      for (const std::string& x : Split(p[2].substr(1, p[2].size() - 2), ','))
        if (x.size() > 2) ids.push_back(x.substr(1, x.size() - 2));
      if (static_cast<int64_t>(ids.size()) <= opt_.min_partitions) continue;
      const std::string& oldest = ids.front();
      std::string sql = "ALTER TABLE " + QuoteIdentifier(p[0]) + "." + QuoteIdentifier(p[1]) + " DROP PARTITION ID " +
                        QuoteString(oldest);
      auto r = client_->Query(sql);
      if (!r.ok()) {
        failures_++;
        LOG(ERROR) << "space manager: " << sql << ": " << r.status().ToString();
        continue;
      }
      dropped_++;
      LOG(WARNING) << "space manager: disk " << d[0] << " is " << static_cast<int>(usage) << "% full (threshold "
                   << opt_.usage_threshold_percent << "%): dropped partition " << oldest << " of " << p[0] << "."
                   << p[1];
      dropped.push_back(p[0] + "." + p[1] + " " + oldest);
    }
  }
  return dropped;
}

void SpaceManager::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      auto r = RunOnce();
      if (!r.ok()) {
        failures_++;
        LOG(ERROR) << "space manager: " << r.status().ToString();
      }
      lock.lock();
      cv_.wait_for(lock, opt_.interval, [&] { return stop_; });
    }
  });
}

void SpaceManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SpaceManager::Collect(std::vector<prom::MetricFamily>* out) {
  prom::MetricFamily d("coroot_clickhouse_space_manager_dropped_partitions_total", prom::MetricType::kCounter,
                       "Partitions dropped to keep disk usage under the threshold");
  d.Add({}, static_cast<double>(dropped_.load()));
  out->push_back(std::move(d));
  prom::MetricFamily f("coroot_clickhouse_space_manager_failures_total", prom::MetricType::kCounter,
                       "Space manager passes or drops that failed");
  f.Add({}, static_cast<double>(failures_.load()));
  out->push_back(std::move(f));
}

}  // namespace coroot::server::storage
