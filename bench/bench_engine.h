#pragma once
// The embedded ClickHouse engine of a benchmark: opened on a fresh directory, and its cumulative
// counters (system.events) to show where the engine's time went between two points.
#include <map>
#include <memory>
#include <string>

#include "lib/clickhouse/client.h"
#include "lib/clickhouse/embedded_client.h"

namespace coroot::bench {

// Removes `dir` and opens the engine with its data under dir/ch; prints the error and exits when
// the engine cannot be opened.
std::unique_ptr<clickhouse::EmbeddedClient> OpenFreshEngine(const std::string& dir);

// Every counter of system.events, by name (empty when the query fails).
std::map<std::string, double> EngineCounters(clickhouse::IClickHouseClient* client);

// What moved between two readings, as lines starting with `indent`: how many inserts and merges
// ran over how many rows, and the biggest time counters (…Microseconds) per row.
std::string EngineCounterDeltas(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
                              double rows, const char* indent);

}  // namespace coroot::bench
