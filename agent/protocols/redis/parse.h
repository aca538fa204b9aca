#pragma once
// Redis serialization protocol (RESP2 and RESP3), as documented at redis.io "Redis serialization
// protocol specification": requests are arrays of bulk strings; replies start with a type byte.
#include <string>
#include <string_view>
#include <vector>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::redis {

inline constexpr size_t kMaxArgs = 1024;         // arguments decoded from one request
inline constexpr size_t kMaxArgBytesKept = 256;  // per argument in the statement

// The kernel's classifier: "*<n>\r\n$<n>\r\n" followed by a letter.
bool DetectRequest(std::string_view buf);

// Decodes "*<n>\r\n" then bulk strings. method = command (as sent), statement = "CMD arg" with the
// first argument (cut to kMaxArgBytesKept). A cut payload yields what was seen and kNeedMoreData.
ParseResult ParseRequest(std::string_view buf, L7Request* out);
// All arguments (command first), bounded by kMaxArgs.
ParseResult ParseCommand(std::string_view buf, std::vector<std::string_view>* args);

// '-' (simple error) and '!' (blob error) → failed; every other RESP2/RESP3 type byte → ok.
ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status);

}  // namespace coroot::agent::protocols::redis
