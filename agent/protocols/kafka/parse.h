#pragma once
// Kafka request header (kafka.apache.org/protocol "Common Request and Response Structure"):
// int32 size, int16 api_key, int16 api_version, int32 correlation_id, nullable string client_id.
// Responses: int32 size, int32 correlation_id.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::kafka {

inline constexpr int16_t kMaxApiKey = 67;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::string client_id;
};

// "Produce", "Fetch", ... for 0..67; "" otherwise.
std::string_view ApiKeyName(int16_t key);

// The kernel's classifier: size + 4 == buffer size (or a cut 1024-byte head), api_key 0..67,
// correlation_id > 0.
bool DetectRequest(std::string_view buf);
ParseResult ParseRequestHeader(std::string_view buf, RequestHeader* out);
// method = api key name; statement = "<name> v<version>".
ParseResult ParseRequest(std::string_view buf, L7Request* out);
ParseResult ParseResponseCorrelationId(std::string_view buf, int32_t* correlation_id);

}  // namespace coroot::agent::protocols::kafka
