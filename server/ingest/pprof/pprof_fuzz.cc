// libFuzzer target: pprof::Decode must never crash, and what it decodes must be a consistent batch
// that encodes to Native and RowBinary.
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/clickhouse/row_binary.h"
#include "server/ingest/pprof/pprof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  coroot::server::pprof::Limits limits;
  limits.max_decompressed_bytes = 1u << 20;
  limits.max_output_bytes = 8u << 20;
  coroot::server::storage::ProfileBatch batch;
  auto r = coroot::server::pprof::Decode(std::string_view(reinterpret_cast<const char*>(data), size), "svc",
                                         {{"host.name", "h"}}, limits, 1, &batch);
  if (r.ok()) {
    if (batch.rows() != r->rows || !batch.Consistent()) __builtin_trap();
    std::string native;
    batch.WriteSamplesNative(&native);
    batch.WriteStacksNative(&native);
    coroot::clickhouse::RowBinaryWriter w;
    batch.WriteSamplesRowBinary(&w);
    batch.WriteStacksRowBinary(&w);
  }
  return 0;
}
