#include "agent/protocols/http2/frame.h"

#include <algorithm>

namespace coroot::agent::protocols::http2 {

bool LooksLikeHttp2(std::string_view in) {
  if (in.size() >= 3 && in.starts_with(kClientPreface.substr(0, std::min(in.size(), kClientPreface.size()))))
    return true;
  if (in.size() < kFrameHeaderSize) return false;
  FrameHeader h = ParseFrameHeader(in);
  // Until SETTINGS raise it, no frame may exceed 16 KiB (RFC 9113 §4.2); senders leave undefined
  // flag bits unset. Both keep other binary protocols from passing for HTTP/2.
  if (h.length > (1u << 14)) return false;
  auto flags_within = [&](uint8_t allowed) { return (h.flags & ~allowed) == 0; };
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::kData:
      return h.stream_id != 0 && flags_within(flags::kEndStream | flags::kPadded);
    case FrameType::kHeaders:
      return h.stream_id != 0 &&
             flags_within(flags::kEndStream | flags::kEndHeaders | flags::kPadded | flags::kPriority);
    case FrameType::kPriority:
      return h.stream_id != 0 && h.length == 5 && h.flags == 0;
    case FrameType::kRstStream:
      return h.stream_id != 0 && h.length == 4 && h.flags == 0;
    case FrameType::kSettings:
      return h.stream_id == 0 && h.length % 6 == 0 && flags_within(flags::kAck);
    case FrameType::kPushPromise:
      return h.stream_id != 0 && flags_within(flags::kEndHeaders | flags::kPadded);
    case FrameType::kPing:
      return h.stream_id == 0 && h.length == 8 && flags_within(flags::kAck);
    case FrameType::kGoAway:
      return h.stream_id == 0 && h.length >= 8 && h.flags == 0;
    case FrameType::kWindowUpdate:
      return h.length == 4 && h.flags == 0;
    case FrameType::kContinuation:
      return h.stream_id != 0 && flags_within(flags::kEndHeaders);
  }
  return false;
}

}  // namespace coroot::agent::protocols::http2
