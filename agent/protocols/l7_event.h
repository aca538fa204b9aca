#pragma once
// The kernel's l7 event as it arrives from the perf buffer (little-endian, packed as below):
//   u64 fd, u64 connection_timestamp, u32 pid, s32 status, u64 duration, u8 protocol, u8 method,
//   u8 is_inbound, u8 pad, u32 statement_id, u64 payload_size, char payload[1024]
// payload_size is the size of the whole message the request came in; at most 1024 bytes of its
// head are in payload.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols {

inline constexpr size_t kMaxPayloadSize = 1024;
inline constexpr size_t kL7EventHeaderSize = 48;
inline constexpr size_t kL7EventSize = kL7EventHeaderSize + kMaxPayloadSize;

// Status values the kernel puts in `status` for protocols that have no numeric status of their own
// (HTTP carries the response code, DNS the rcode, ZooKeeper its err code).
inline constexpr int32_t kEventStatusUnknown = 0;
inline constexpr int32_t kEventStatusOk = 200;
inline constexpr int32_t kEventStatusFailed = 500;

struct L7Event {
  uint64_t fd = 0;
  uint64_t connection_timestamp = 0;
  uint32_t pid = 0;
  int32_t status = 0;
  uint64_t duration_ns = 0;
  L7Protocol protocol = L7Protocol::kUnknown;
  uint8_t method = 0;
  bool is_inbound = false;
  uint32_t statement_id = 0;
  uint64_t payload_size = 0;
  std::string_view payload;  // min(payload_size, 1024, bytes present) bytes; points into the input
  bool truncated() const { return payload_size > payload.size(); }
};

// Decodes one raw event. kNeedMoreData when the fixed header is incomplete; kInvalid for a protocol
// id outside 1..16. The payload view points into raw.
ParseResult DecodeL7Event(std::string_view raw, L7Event* out);

}  // namespace coroot::agent::protocols
