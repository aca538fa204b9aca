#pragma once
// OTLP request bodies that look like an instrumented shop's, shared by the OTLP benchmarks.
#include <cstdint>
#include <string>
#include <vector>

namespace coroot::bench {

// Serialized ExportTraceServiceRequests of `per_request` spans each (see the .cc for their shape).
std::vector<std::string> MakeTraceRequests(int spans, int per_request, uint64_t now_ns);
// Serialized ExportLogsServiceRequests of `per_request` records each.
std::vector<std::string> MakeLogRequests(int logs, int per_request, uint64_t now_ns);

}  // namespace coroot::bench
