#pragma once
// HTTP/2 framing (RFC 9113 §4.1, §6): the 9-byte frame header and the frame types and flags the
// agent needs to follow header blocks and stream ends.
#include <cstdint>
#include <string_view>

namespace coroot::agent::protocols::http2 {

inline constexpr size_t kFrameHeaderSize = 9;
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoAway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};

namespace flags {
inline constexpr uint8_t kEndStream = 0x1;  // DATA, HEADERS
inline constexpr uint8_t kAck = 0x1;        // SETTINGS, PING
inline constexpr uint8_t kEndHeaders = 0x4; // HEADERS, PUSH_PROMISE, CONTINUATION
inline constexpr uint8_t kPadded = 0x8;     // DATA, HEADERS, PUSH_PROMISE
inline constexpr uint8_t kPriority = 0x20;  // HEADERS
}  // namespace flags

inline constexpr uint16_t kSettingsHeaderTableSize = 0x1;

struct FrameHeader {
  uint32_t length = 0;  // payload bytes (24 bits)
  uint8_t type = 0;     // a FrameType, or an unknown type to skip
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // the reserved bit cleared
};

// Reads a frame header from the first 9 bytes of `in` (which must hold at least 9).
inline FrameHeader ParseFrameHeader(std::string_view in) {
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in[i])); };
  FrameHeader h;
  h.length = (u8(0) << 16) | (u8(1) << 8) | u8(2);
  h.type = static_cast<uint8_t>(u8(3));
  h.flags = static_cast<uint8_t>(u8(4));
  h.stream_id = ((u8(5) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8)) & 0x7fffffffu;
  return h;
}

// True when `in` plausibly starts with an HTTP/2 frame header or the client preface: the detector
// that tells HTTP/2 from other protocols on a connection's first bytes.
bool LooksLikeHttp2(std::string_view in);

}  // namespace coroot::agent::protocols::http2
