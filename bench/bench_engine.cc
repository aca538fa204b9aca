#include "bench/bench_engine.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "lib/base/strings.h"

namespace coroot::bench {

std::unique_ptr<clickhouse::EmbeddedClient> OpenFreshEngine(const std::string& dir) {
  std::filesystem::remove_all(dir);
  clickhouse::EmbeddedOptions eo;
  eo.data_dir = dir + "/ch";
  auto client = clickhouse::EmbeddedClient::Open(eo);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*client);
}

std::map<std::string, double> EngineCounters(clickhouse::IClickHouseClient* client) {
  std::map<std::string, double> out;
  auto r = client->Query("SELECT event, value FROM system.events");
  if (!r.ok()) return out;
  for (const auto& line : Split(*r, '\n')) {
    auto f = Split(line, '\t');
    if (f.size() == 2) out[f[0]] = std::atof(f[1].c_str());
  }
  return out;
}

std::string EngineCounterDeltas(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
                              double rows, const char* indent) {
  auto delta = [&](const std::string& name) {
    auto a = after.find(name), b = before.find(name);
    return (a == after.end() ? 0 : a->second) - (b == before.end() ? 0 : b->second);
  };
  char line[256];
  std::snprintf(line, sizeof line, "%sinserts %.0f (%.0f rows), merges %.0f (%.0f rows)\n", indent,
                delta("InsertQuery"), delta("InsertedRows"), delta("Merge"), delta("MergedRows"));
  std::string out = line;
  std::vector<std::pair<double, std::string>> times;
  for (const auto& [name, v] : after) {
    if (!EndsWith(name, "Microseconds")) continue;
    if (double d = delta(name); d > 0) times.emplace_back(d, name);
  }
  std::sort(times.rbegin(), times.rend());
  for (size_t i = 0; i < times.size() && i < 14; ++i) {
    std::snprintf(line, sizeof line, "%s%-56s %8.3f us/row\n", indent, times[i].second.c_str(), times[i].first / rows);
    out += line;
  }
  return out;
}

}  // namespace coroot::bench
