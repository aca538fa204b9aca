#pragma once
// Pairs HTTP/2 (and gRPC) requests with their responses on one connection, from the bytes the
// kernel saw each side write, in order, with the time of each write.
//
// Each direction keeps its own framing state and HPACK decoder. A stream's request is its first
// client HEADERS block (:method, :path, :scheme, :authority); the response is the first server
// HEADERS block with :status. For gRPC (content-type application/grpc*) the status is taken from
// grpc-status, which arrives in the response headers (Trailers-Only) or in the trailers; latency
// is measured to the first response headers either way.
//
// The kernel hands over at most the head of each write. When bytes are lost inside a header frame
// the peer's HPACK table can no longer be followed: that direction's decoder is reset, its streams
// are dropped and the loss is counted (a `desync`). Everything per connection is bounded.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/protocols/http2/frame.h"
#include "agent/protocols/http2/hpack.h"

namespace coroot::agent::protocols::http2 {

enum class Direction { kClientToServer = 0, kServerToClient = 1 };

struct Request {
  uint32_t stream_id = 0;
  std::string method;
  std::string path;
  std::string scheme;
  std::string authority;
  std::string content_type;
  int status = 0;         // :status; 0 when the stream ended without a response
  int grpc_status = -1;   // grpc-status; -1 when absent
  uint64_t start_ns = 0;  // time of the request headers
  uint64_t duration_ns = 0;

  bool is_grpc() const { return content_type.starts_with("application/grpc"); }
};

// Coroot's `status` label: "grpc:OK" ... "grpc:UNAUTHENTICATED" for gRPC, "2xx" ... "5xx" for HTTP,
// "unknown" otherwise.
std::string StatusLabel(const Request& r);
// "OK", "CANCELLED", ... for gRPC codes 0..16; "" for others.
std::string_view GrpcCodeName(int code);

struct StitcherStats {
  uint64_t frames = 0;
  uint64_t header_blocks = 0;
  uint64_t requests = 0;       // requests completed and returned
  uint64_t desyncs = 0;        // lost bytes inside header frames, or undecodable blocks
  uint64_t streams_dropped = 0;  // over the stream limit, or lost to a desync
};

class Stitcher {
 public:
  struct Limits {
    size_t max_streams = 1024;                    // open streams kept per connection
    size_t max_header_block = 64u << 10;          // one HEADERS + CONTINUATION block
    uint64_t stream_idle_ns = 600ull * 1000000000; // streams idle this long are dropped by Gc()
  };
  Stitcher() : Stitcher(Limits{}) {}
  explicit Stitcher(Limits limits);

  // The bytes of one write by `dir`'s sender at time ts_ns. `total_size` is how many bytes the
  // write carried; when it exceeds bytes.size(), the rest was cut off by the kernel.
  // Completed requests are appended to *done.
  void Feed(Direction dir, uint64_t ts_ns, std::string_view bytes, size_t total_size, std::vector<Request>* done);
  // Drops streams idle for longer than the limit (counted as dropped).
  void Gc(uint64_t now_ns);

  const StitcherStats& stats() const { return stats_; }
  size_t open_streams() const { return streams_.size(); }

 private:
  struct Stream {
    Request req;
    bool have_request = false;
    bool responded = false;   // response headers seen, waiting for gRPC trailers
    uint64_t last_ns = 0;
  };
  struct Side {
    HpackDecoder hpack;
    bool preface_done = false;  // client side: the connection preface is behind us
    size_t preface_pos = 0;     // preface bytes matched so far
    std::string header_bytes;   // a frame header split across writes
    uint64_t skip = 0;          // payload bytes of the current frame that we do not need
    FrameHeader frame;          // the frame whose payload we are collecting
    std::string payload;        // its payload so far
    bool collecting = false;
    std::string block;          // header block being assembled across CONTINUATION frames
    uint32_t block_stream = 0;
    uint8_t block_flags = 0;    // flags of the HEADERS frame that opened the block
    bool in_block = false;      // waiting for CONTINUATION
    bool block_is_push = false;
  };

  void Consume(Direction dir, uint64_t ts_ns, std::string_view bytes, std::vector<Request>* done);
  void OnFrame(Direction dir, uint64_t ts_ns, const FrameHeader& h, std::string_view payload,
               std::vector<Request>* done);
  void OnHeaderBlock(Direction dir, uint64_t ts_ns, uint32_t stream_id, bool end_stream,
                     std::vector<Request>* done);
  void Finish(uint32_t stream_id, std::vector<Request>* done);
  void Desync(Direction dir);
  Stream* GetStream(uint32_t id, uint64_t ts_ns, bool create);

  Limits limits_;
  Side sides_[2];
  std::unordered_map<uint32_t, Stream> streams_;
  std::vector<HeaderField> fields_;  // scratch, reused
  StitcherStats stats_;
};

}  // namespace coroot::agent::protocols::http2
