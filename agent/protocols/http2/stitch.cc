#include "agent/protocols/http2/stitch.h"

#include <algorithm>
#include <array>

namespace coroot::agent::protocols::http2 {

namespace {

constexpr uint32_t kRstCancel = 0x8;  // RST_STREAM error code CANCEL (RFC 9113 §7)
constexpr int kGrpcCancelled = 1;

int ParseStatus(std::string_view v) {
  if (v.size() != 3) return 0;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

int ParseGrpcStatus(std::string_view v) {
  if (v.empty() || v.size() > 3) return -1;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

uint32_t Be32(std::string_view p) {
  auto u8 = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return (u8(0) << 24) | (u8(1) << 16) | (u8(2) << 8) | u8(3);
}

// Strips the Pad Length octet and the padding of a PADDED frame; false when the padding does not fit.
bool StripPadding(uint8_t frame_flags, std::string_view* payload) {
  if (!(frame_flags & flags::kPadded)) return true;
  if (payload->empty()) return false;
  size_t pad = static_cast<uint8_t>((*payload)[0]);
  payload->remove_prefix(1);
  if (pad > payload->size()) return false;
  payload->remove_suffix(pad);
  return true;
}

}  // namespace

std::string_view GrpcCodeName(int code) {
  static constexpr std::array<std::string_view, 17> kNames = {
      "OK",        "CANCELLED",         "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(kNames.size())) return "";
  return kNames[code];
}

std::string StatusLabel(const Request& r) {
  if (r.is_grpc()) {
    std::string_view name = GrpcCodeName(r.grpc_status);
    if (!name.empty()) return "grpc:" + std::string(name);
  }
  if (r.status >= 100 && r.status <= 599) return std::to_string(r.status / 100) + "xx";
  return "unknown";
}

Stitcher::Stitcher(Limits limits) : limits_(limits) {
  for (Side& s : sides_) s.hpack = HpackDecoder(limits_.max_header_block);
}

void Stitcher::Feed(Direction dir, uint64_t ts_ns, std::string_view bytes, size_t total_size,
                    std::vector<Request>* done) {
  Side& s = sides_[static_cast<int>(dir)];
  if (dir == Direction::kClientToServer && !s.preface_done) {
    // The client's connection preface, possibly split across writes, comes before any frame.
    size_t n = 0;
    while (n < bytes.size() && s.preface_pos < kClientPreface.size() && bytes[n] == kClientPreface[s.preface_pos]) {
      ++n;
      ++s.preface_pos;
    }
    bytes.remove_prefix(n);
    total_size -= n;
    if (s.preface_pos == kClientPreface.size()) {
      s.preface_done = true;
    } else if (!bytes.empty()) {
      // Not a preface after all (a connection we joined late): what matched is frame data.
      s.preface_done = true;
      Consume(dir, ts_ns, kClientPreface.substr(0, s.preface_pos), done);
    }
  }
  Consume(dir, ts_ns, bytes, done);
  if (total_size <= bytes.size()) return;
  // Bytes were cut off. Inside a payload we skip anyway, that is harmless; anywhere else the
  // framing (and maybe the peer's HPACK table) is lost.
  uint64_t lost = total_size - bytes.size();
  if (!s.collecting && s.header_bytes.empty() && s.skip >= lost) {
    s.skip -= lost;
  } else {
    Desync(dir);
  }
}

void Stitcher::Consume(Direction dir, uint64_t ts_ns, std::string_view bytes, std::vector<Request>* done) {
  Side& s = sides_[static_cast<int>(dir)];
  while (!bytes.empty()) {
    if (s.skip > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(s.skip, bytes.size()));
      s.skip -= n;
      bytes.remove_prefix(n);
      continue;
    }
    if (s.collecting) {
      size_t n = std::min<size_t>(s.frame.length - s.payload.size(), bytes.size());
      s.payload.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (s.payload.size() == s.frame.length) {
        s.collecting = false;
        std::string payload = std::move(s.payload);
        s.payload.clear();
        OnFrame(dir, ts_ns, s.frame, payload, done);
      }
      continue;
    }
    size_t n = std::min(kFrameHeaderSize - s.header_bytes.size(), bytes.size());
    s.header_bytes.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (s.header_bytes.size() < kFrameHeaderSize) break;
    FrameHeader h = ParseFrameHeader(s.header_bytes);
    s.header_bytes.clear();
    stats_.frames++;
    switch (static_cast<FrameType>(h.type)) {
      case FrameType::kHeaders:
      case FrameType::kContinuation:
      case FrameType::kPushPromise:
      case FrameType::kSettings:
      case FrameType::kRstStream:
        if (h.length > limits_.max_header_block) {
          // Too large to follow: its header fragment (if any) is lost to us.
          Desync(dir);
          s.skip = h.length;
          break;
        }
        s.frame = h;
        if (h.length == 0) {
          OnFrame(dir, ts_ns, h, {}, done);
        } else {
          s.collecting = true;
          s.payload.reserve(h.length);
        }
        break;
      case FrameType::kData:
        if ((h.flags & flags::kEndStream) && dir == Direction::kServerToClient) {
          // A response body ended without trailers: nothing more will come for this stream.
          auto it = streams_.find(h.stream_id);
          if (it != streams_.end() && it->second.responded) Finish(h.stream_id, done);
        }
        s.skip = h.length;
        break;
      default:  // PRIORITY, PING, GOAWAY, WINDOW_UPDATE and unknown types: not needed
        s.skip = h.length;
        break;
    }
  }
}

void Stitcher::OnFrame(Direction dir, uint64_t ts_ns, const FrameHeader& h, std::string_view payload,
                       std::vector<Request>* done) {
  Side& s = sides_[static_cast<int>(dir)];
  Side& other = sides_[1 - static_cast<int>(dir)];
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::kHeaders:
    case FrameType::kPushPromise: {
      if (s.in_block) return Desync(dir);  // a new block before the last one ended
      if (!StripPadding(h.flags, &payload)) return Desync(dir);
      bool push = h.type == static_cast<uint8_t>(FrameType::kPushPromise);
      size_t skip = push ? 4 : ((h.flags & flags::kPriority) ? 5 : 0);
      if (payload.size() < skip) return Desync(dir);
      payload.remove_prefix(skip);
      s.block.assign(payload);
      s.block_stream = h.stream_id;
      s.block_flags = h.flags;
      s.block_is_push = push;
      if (h.flags & flags::kEndHeaders) {
        OnHeaderBlock(dir, ts_ns, h.stream_id, (h.flags & flags::kEndStream) && !push, done);
      } else {
        s.in_block = true;
      }
      return;
    }
    case FrameType::kContinuation:
      if (!s.in_block || h.stream_id != s.block_stream) return Desync(dir);
      if (s.block.size() + payload.size() > limits_.max_header_block) return Desync(dir);
      s.block.append(payload);
      if (h.flags & flags::kEndHeaders) {
        s.in_block = false;
        OnHeaderBlock(dir, ts_ns, s.block_stream, (s.block_flags & flags::kEndStream) && !s.block_is_push, done);
      }
      return;
    case FrameType::kSettings:
      if (h.flags & flags::kAck) return;
      // A peer's SETTINGS bound the table the *other* side's encoder may use.
      for (size_t i = 0; i + 6 <= payload.size(); i += 6) {
        uint16_t id = static_cast<uint16_t>((static_cast<uint8_t>(payload[i]) << 8) | static_cast<uint8_t>(payload[i + 1]));
        if (id == kSettingsHeaderTableSize) other.hpack.SetMaxTableSize(Be32(payload.substr(i + 2, 4)));
      }
      return;
    case FrameType::kRstStream: {
      auto it = streams_.find(h.stream_id);
      if (it == streams_.end()) return;
      if (payload.size() >= 4 && Be32(payload) == kRstCancel && it->second.req.is_grpc() &&
          it->second.req.grpc_status < 0)
        it->second.req.grpc_status = kGrpcCancelled;
      if (it->second.req.duration_ns == 0 && ts_ns > it->second.req.start_ns)
        it->second.req.duration_ns = ts_ns - it->second.req.start_ns;
      Finish(h.stream_id, done);
      return;
    }
    default:
      return;
  }
}

Stitcher::Stream* Stitcher::GetStream(uint32_t id, uint64_t ts_ns, bool create) {
  auto it = streams_.find(id);
  if (it != streams_.end()) {
    it->second.last_ns = ts_ns;
    return &it->second;
  }
  if (!create) return nullptr;
  if (streams_.size() >= limits_.max_streams) {
    stats_.streams_dropped++;
    return nullptr;
  }
  Stream& st = streams_[id];
  st.last_ns = ts_ns;
  return &st;
}

void Stitcher::OnHeaderBlock(Direction dir, uint64_t ts_ns, uint32_t stream_id, bool end_stream,
                             std::vector<Request>* done) {
  Side& s = sides_[static_cast<int>(dir)];
  fields_.clear();
  Status st = s.hpack.Decode(s.block, &fields_);
  s.block.clear();
  if (!st.ok()) return Desync(dir);
  stats_.header_blocks++;
  if (s.block_is_push) return;  // decoded only to keep the table in step

  if (dir == Direction::kClientToServer) {
    Stream* stream = GetStream(stream_id, ts_ns, true);
    if (stream == nullptr || stream->have_request) return;  // dropped, or the client's trailers
    Request& r = stream->req;
    r.stream_id = stream_id;
    r.start_ns = ts_ns;
    for (const HeaderField& f : fields_) {
      if (f.name == ":method") r.method = f.value;
      else if (f.name == ":path") r.path = f.value;
      else if (f.name == ":scheme") r.scheme = f.value;
      else if (f.name == ":authority") r.authority = f.value;
      else if (f.name == "content-type") r.content_type = f.value;
    }
    stream->have_request = true;
    return;
  }

  Stream* stream = GetStream(stream_id, ts_ns, false);
  if (stream == nullptr || !stream->have_request) return;  // we did not see the request
  Request& r = stream->req;
  for (const HeaderField& f : fields_) {
    if (f.name == ":status" && !stream->responded) {
      int status = ParseStatus(f.value);
      if (status >= 100 && status < 200) return;  // informational: the real response follows
      r.status = status;
      r.duration_ns = ts_ns > r.start_ns ? ts_ns - r.start_ns : 0;
      stream->responded = true;
    } else if (f.name == "grpc-status") {
      r.grpc_status = ParseGrpcStatus(f.value);
    } else if (f.name == "content-type" && r.content_type.empty()) {
      r.content_type = f.value;
    }
  }
  if (!stream->responded) return;
  // gRPC puts its status in the trailers unless the response is Trailers-Only.
  if (!r.is_grpc() || r.grpc_status >= 0 || end_stream) Finish(stream_id, done);
}

void Stitcher::Finish(uint32_t stream_id, std::vector<Request>* done) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) return;
  if (it->second.have_request) {
    done->push_back(std::move(it->second.req));
    stats_.requests++;
  }
  streams_.erase(it);
}

void Stitcher::Desync(Direction dir) {
  Side& s = sides_[static_cast<int>(dir)];
  stats_.desyncs++;
  s.hpack.Reset();
  s.header_bytes.clear();
  s.payload.clear();
  s.block.clear();
  s.collecting = false;
  s.in_block = false;
  s.skip = 0;
}

void Stitcher::Gc(uint64_t now_ns) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (now_ns > it->second.last_ns && now_ns - it->second.last_ns > limits_.stream_idle_ns) {
      stats_.streams_dropped++;
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace coroot::agent::protocols::http2
