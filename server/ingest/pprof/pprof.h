#pragma once
// pprof (profile.proto, gzip-compressed or raw) → rows of profiling_samples and profiling_stacks
// (spec §3.1), as Coroot's collector stores them:
//   * one row per (sample type, sample) with a non-zero value; Type = the sample type's type
//     string when it is already a Coroot name ("ebpf:cpu:nanoseconds", "go:heap_alloc_space:bytes":
//     it contains ':'), else "<type>:<unit>" ("cpu:nanoseconds" from a plain runtime/pprof CPU
//     profile); sample types with an empty type are skipped (as Coroot does);
//   * the stack = for each location of the sample (leaf first), each of its lines in order
//     (Location.line is innermost inlined frame first), "<function name> <file name>:<line>";
//     lines without a function (function_id 0) are skipped;
//   * StackHash = FNV-1a 64 over the bytes of the lines concatenated with no separator (Coroot's
//     StackHash: offset basis 0xcbf29ce484222325, prime 0x100000001b3), so hashes match Coroot's;
//   * Start = time_nanos − duration_nanos, End = time_nanos (time_nanos 0 → the receive time);
//   * Labels = the caller's labels (the query string minus service.name). Sample labels
//     (pprof.Do goroutine labels) are not stored, as in Coroot: they can be per-request values and
//     Coroot's queries filter on the query-string labels only.
// Untrusted input: sizes and counts are bounded, every id and string index is checked, malformed
// input is kInvalidArgument (→ 400); a body that decompresses past max_decompressed_bytes is
// kResourceExhausted (→ 413).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "server/storage/clickhouse/batches.h"

namespace coroot::server::pprof {

struct Limits {
  size_t max_decompressed_bytes = 64u << 20;
  size_t max_strings = 1u << 20;         // string_table entries
  size_t max_samples = 1u << 20;
  size_t max_locations = 1u << 20;
  size_t max_functions = 1u << 20;
  size_t max_sample_types = 32;
  size_t max_lines_per_location = 256;   // inlined frames of one location
  size_t max_stack_depth = 4096;         // lines of one sample's stack
  size_t max_rows = 4u << 20;            // sample types × samples
  size_t max_output_bytes = 256u << 20;  // distinct stack lines + per-row label copies
};

struct Result {
  uint64_t rows = 0;         // profiling_samples rows added
  uint64_t stacks = 0;       // distinct stacks of this profile
  uint64_t sample_types = 0; // sample types stored
  uint64_t zero_values = 0;  // (sample type, sample) pairs skipped for a zero value
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// Decodes `body` (gzip detected by its magic bytes) and appends its rows to `out`. now_ns is used
// when the profile has no time_nanos. On error `out` may hold part of the profile: decode into a
// fresh batch.
StatusOr<Result> Decode(std::string_view body, std::string_view service_name, const Labels& labels,
                        const Limits& limits, int64_t now_ns, storage::ProfileBatch* out);

// The Type column for a sample type.
std::string TypeName(std::string_view type, std::string_view unit);
// FNV-1a 64 over the lines back to back.
uint64_t StackHash(const std::vector<std::string_view>& lines);
uint64_t StackHash(const std::vector<std::string>& lines);

}  // namespace coroot::server::pprof
