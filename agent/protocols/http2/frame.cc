#include "agent/protocols/http2/frame.h"

#include <algorithm>

namespace coroot::http2 {

bool LooksLikeHttp2(std::string_view in) {
  if (in.starts_with(kClientPreface.substr(0, std::min(in.size(), kClientPreface.size()))) && in.size() >= 3)
    return true;
  if (in.size() < kFrameHeaderSize) return false;
  FrameHeader h = ParseFrameHeader(in);
  if (h.type > static_cast<uint8_t>(FrameType::kContinuation)) return false;
  // The default SETTINGS_MAX_FRAME_SIZE is 16 KiB; peers rarely raise it past 1 MiB.
  if (h.length > (1u << 20)) return false;
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::kSettings:
    case FrameType::kPing:
    case FrameType::kGoAway:
      return h.stream_id == 0;
    case FrameType::kData:
    case FrameType::kHeaders:
    case FrameType::kPriority:
    case FrameType::kRstStream:
    case FrameType::kPushPromise:
    case FrameType::kContinuation:
      return h.stream_id != 0;
    case FrameType::kWindowUpdate:
      return h.length == 4;
  }
  return false;
}

}  // namespace coroot::http2
