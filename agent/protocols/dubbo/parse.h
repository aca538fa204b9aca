#pragma once
// Apache Dubbo 2 protocol (dubbo.apache.org, "Dubbo protocol"): a 16-byte header — magic 0xdabb,
// flag byte (0x80 request, 0x40 two-way, 0x20 event, low 5 bits serialization id), status byte
// (responses), u64 request id, u32 body length — then a body, hessian2-serialized by default:
// dubbo version, service path, service version, method name, ...
#include <cstdint>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::dubbo {

inline constexpr size_t kHeaderSize = 16;

// The kernel's classifier: magic, request + two-way flags, not an event (heartbeat).
bool DetectRequest(std::string_view buf);

// method = "<service path>/<method>" when the body is hessian2 and its first strings are
// readable; otherwise "" with kSuccess (the header alone is a valid request).
ParseResult ParseRequest(std::string_view buf, L7Request* out, uint64_t* request_id);

// Response status byte: 20 OK → ok; 30 client timeout, 31 server timeout, 40 bad request,
// 50 bad response, 60 service not found, 70 service error, 80 server error, 90 client error,
// 100 server threadpool exhausted → failed.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status, uint64_t* request_id);

}  // namespace coroot::agent::protocols::dubbo
