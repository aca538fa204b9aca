#pragma once
// The embedded engine's cumulative counters (system.events), for benchmarks that show where the
// engine's time went between two points.
#include <map>
#include <string>

#include "lib/clickhouse/client.h"

namespace coroot::bench {

// Every counter of system.events, by name (empty when the query fails).
std::map<std::string, double> EngineCounters(clickhouse::IClickHouseClient* client);

// What moved between two readings, as lines starting with `indent`: how many inserts and merges
// ran over how many rows, and the biggest time counters (…Microseconds) per row.
std::string EngineCounterDeltas(const std::map<std::string, double>& before, const std::map<std::string, double>& after,
                              double rows, const char* indent);

}  // namespace coroot::bench
