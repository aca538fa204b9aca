#pragma once
// DNS messages (RFC 1035 §4): 12-byte header, question, resource records; names may use
// compression pointers, which are followed with a jump cap, a backward-only rule and the 255-byte
// name limit, so a crafted loop ends in kInvalid instead of spinning.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameLength = 255;
inline constexpr int kMaxPointerJumps = 32;
inline constexpr size_t kMaxAnswers = 32;  // A/AAAA answers kept

struct Message {
  uint16_t id = 0;
  bool is_response = false;
  uint8_t opcode = 0;
  uint8_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;  // without the trailing dot; "" for the root
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  std::vector<DnsAnswer> answers;  // A and AAAA records of the answer section
  bool truncated = false;          // the answer section was cut by the end of the buffer
};

// The kernel's classifier: QR = 0, opcode 0 (QUERY), qdcount = 1 (UDP form, no length prefix).
bool DetectRequest(std::string_view buf);
bool DetectResponse(std::string_view buf);

// Decodes header + question + A/AAAA answers. kNeedMoreData when the header or question is cut;
// a cut answer section still yields kSuccess with truncated set.
ParseResult ParseMessage(std::string_view buf, Message* out);
// DNS over TCP: a 2-byte big-endian length before the message.
ParseResult ParseTcpMessage(std::string_view buf, Message* out);

// For the metrics and the ip→fqdn map: method = request type, path = name, status = rcode name,
// answers. Used for both a query and its response (the response gives rcode and answers).
ParseResult ParseRequest(std::string_view buf, L7Request* out);

// "TypeA", "TypeAAAA", "TypePTR", ...; unknown types as their decimal number.
std::string TypeName(uint16_t type);
// ok | format_error | servfail | nxdomain | not_implemented | refused | unknown.
std::string_view RcodeName(uint8_t rcode);

// Coroot's domain collapsing for the `domain` label: reverse names → "IP.in-addr.arpa" /
// "IP.ip6.arpa"; "ip-a-b-c-d.ec2…" → "IP.ec2…"; a name with a com/net/org/io label followed by
// more labels (a search-path expansion) → "<name up to that label>.search_path_suffix".
std::string NormalizeDomain(std::string_view fqdn);

}  // namespace coroot::agent::protocols::dns
