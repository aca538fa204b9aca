#pragma once
// Shared types of the L7 protocol layer: protocol ids (numbered as the kernel numbers them), the
// three-way parse result, and the decoded request record that metrics and spans are built from.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroot::agent::protocols {

// Protocol ids as carried in the kernel's l7 event (`u8 protocol`); 0 = not classified.
enum class L7Protocol : uint8_t {
  kUnknown = 0,
  kHttp = 1,
  kPostgres = 2,
  kRedis = 3,
  kMemcached = 4,
  kMysql = 5,
  kMongo = 6,
  kKafka = 7,
  kCassandra = 8,
  kRabbitmq = 9,
  kNats = 10,
  kHttp2 = 11,
  kDubbo2 = 12,
  kDns = 13,
  kClickhouse = 14,
  kZookeeper = 15,
  kFoundationdb = 16,
};
inline constexpr int kMaxProtocolId = 16;

// Every parser of untrusted bytes answers with one of these.
enum class ParseResult : uint8_t {
  kSuccess = 0,
  kNeedMoreData,  // the bytes end before the message does (e.g. the 1024-byte payload head)
  kInvalid,       // the bytes are not this protocol / not a well-formed message
};
const char* ParseResultName(ParseResult r);

// Coroot's status vocabulary for non-HTTP protocols (DNS uses rcode names, HTTP classes).
inline constexpr std::string_view kStatusOk = "ok";
inline constexpr std::string_view kStatusFailed = "failed";
inline constexpr std::string_view kStatusUnknown = "unknown";

// Methods of fire-and-forget protocols (RabbitMQ, NATS), as Coroot labels them.
inline constexpr std::string_view kMethodProduce = "produce";
inline constexpr std::string_view kMethodConsume = "consume";

// A DNS answer record the decoder keeps (A/AAAA only), address in text form.
struct DnsAnswer {
  std::string type;  // "TypeA" / "TypeAAAA"
  std::string ip;
  bool operator==(const DnsAnswer&) const = default;
};

// One finished request, decoded: what labels and span attributes are built from.
struct L7Request {
  L7Protocol protocol = L7Protocol::kUnknown;
  std::string method;     // HTTP method, Redis/Memcached command, ZK op, DNS request type ("TypeA")
  std::string path;       // HTTP path (query kept; see http::PathForLabel), DNS name
  std::string statement;  // SQL text / Redis "CMD arg" / Memcached keys joined by ' ' / Mongo BSON
  std::vector<std::string> keys;     // Memcached keys
  std::vector<DnsAnswer> answers;    // DNS A/AAAA answers
  std::string status;     // "2xx", "ok", "failed", "nxdomain", ... ("unknown" when not decoded)
  int http_status_code = 0;          // the numeric HTTP status when known
  int32_t raw_status = 0;            // the kernel's status as sent (HTTP code, DNS rcode, ZK err, 200/500)
  uint64_t duration_ns = 0;
  bool is_inbound = false;
  uint64_t fd = 0;
  uint32_t pid = 0;
  uint64_t connection_timestamp = 0;
  bool truncated = false;  // the payload head ended before the message: fields may be partial
  // RabbitMQ/NATS: messages of this kind the syscall carried, counted in the payload head (a
  // client's batched publishes, a broker's deliveries coalesced into one read); at least 1.
  uint32_t messages = 1;
};

}  // namespace coroot::agent::protocols
