#include "agent/protocols/dns/parse.h"

#include <arpa/inet.h>

#include <cstring>

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::dns {
namespace {

ParseResult ReadHeader(BinaryReader* r, Message* m) {
  uint16_t flags = 0;
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&m->id));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&flags));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&m->qdcount));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&m->ancount));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&m->nscount));
  L7_RETURN_IF_NOT_OK(r->ReadBE16(&m->arcount));
  m->is_response = (flags & 0x8000) != 0;
  m->opcode = (flags >> 11) & 0xf;
  m->rcode = flags & 0xf;
  return ParseResult::kSuccess;
}

// Reads a (possibly compressed) name starting at *pos in msg; advances *pos past the name as it
// appears at that place (a pointer counts 2 bytes). name may be null to only skip.
ParseResult ReadName(std::string_view msg, size_t* pos, std::string* name) {
  size_t p = *pos;
  size_t after = 0;  // where the caller continues: set at the first pointer
  bool jumped = false;
  int jumps = 0;
  size_t total = 0;
  std::string out;
  for (;;) {
    if (p >= msg.size()) return ParseResult::kNeedMoreData;
    uint8_t len = static_cast<uint8_t>(msg[p]);
    if (len == 0) {
      if (!jumped) after = p + 1;
      break;
    }
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= msg.size()) return ParseResult::kNeedMoreData;
      size_t target = (static_cast<size_t>(len & 0x3f) << 8) | static_cast<uint8_t>(msg[p + 1]);
      if (target >= p || ++jumps > kMaxPointerJumps) return ParseResult::kInvalid;  // forward/self/loop
      if (!jumped) after = p + 2;
      jumped = true;
      p = target;
      continue;
    }
    if ((len & 0xc0) != 0) return ParseResult::kInvalid;  // 0x40/0x80 label types are obsolete
    if (p + 1 + len > msg.size()) return ParseResult::kNeedMoreData;
    total += len + 1;
    if (total > kMaxNameLength) return ParseResult::kInvalid;
    if (name != nullptr) {
      if (!out.empty()) out += '.';
      out.append(msg.substr(p + 1, len));
    }
    p += 1 + len;
  }
  *pos = after;
  if (name != nullptr) *name = std::move(out);
  return ParseResult::kSuccess;
}

std::string IpText(int family, const char* bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, bytes, buf, sizeof buf) == nullptr) return {};
  return buf;
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  BinaryReader r(buf);
  Message m;
  return ReadHeader(&r, &m) == ParseResult::kSuccess && !m.is_response && m.opcode == 0 && m.qdcount == 1;
}

bool DetectResponse(std::string_view buf) {
  BinaryReader r(buf);
  Message m;
  return ReadHeader(&r, &m) == ParseResult::kSuccess && m.is_response && m.opcode == 0 && m.qdcount == 1;
}

ParseResult ParseMessage(std::string_view buf, Message* out) {
  BinaryReader r(buf);
  L7_RETURN_IF_NOT_OK(ReadHeader(&r, out));
  if (out->opcode != 0 || out->qdcount != 1) return ParseResult::kInvalid;
  size_t pos = kHeaderSize;
  L7_RETURN_IF_NOT_OK(ReadName(buf, &pos, &out->qname));
  BinaryReader q(buf.substr(pos));
  L7_RETURN_IF_NOT_OK(q.ReadBE16(&out->qtype));
  L7_RETURN_IF_NOT_OK(q.ReadBE16(&out->qclass));
  pos += 4;
  for (uint32_t i = 0; i < out->ancount; i++) {
    ParseResult nr = ReadName(buf, &pos, nullptr);
    if (nr == ParseResult::kInvalid) return nr;
    BinaryReader a(buf.substr(std::min(pos, buf.size())));
    uint16_t type = 0, cls = 0, rdlen = 0;
    uint32_t ttl = 0;
    std::string_view rdata;
    if (nr != ParseResult::kSuccess || a.ReadBE16(&type) != ParseResult::kSuccess ||
        a.ReadBE16(&cls) != ParseResult::kSuccess || a.ReadBE32(&ttl) != ParseResult::kSuccess ||
        a.ReadBE16(&rdlen) != ParseResult::kSuccess || a.ReadBytes(rdlen, &rdata) != ParseResult::kSuccess) {
      out->truncated = true;
      break;
    }
    pos += 10 + rdlen;
    if (out->answers.size() >= kMaxAnswers) continue;
    if (type == 1 && rdlen == 4) out->answers.push_back({"TypeA", IpText(AF_INET, rdata.data())});
    if (type == 28 && rdlen == 16) out->answers.push_back({"TypeAAAA", IpText(AF_INET6, rdata.data())});
  }
  return ParseResult::kSuccess;
}

ParseResult ParseTcpMessage(std::string_view buf, Message* out) {
  BinaryReader r(buf);
  uint16_t len = 0;
  L7_RETURN_IF_NOT_OK(r.ReadBE16(&len));
  if (len < kHeaderSize) return ParseResult::kInvalid;
  std::string_view rest = r.rest();
  ParseResult res = ParseMessage(rest.substr(0, std::min<size_t>(len, rest.size())), out);
  if (res == ParseResult::kSuccess && rest.size() < len) out->truncated = true;
  return res;
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  Message m;
  ParseResult res = ParseMessage(buf, &m);
  if (res == ParseResult::kInvalid && buf.size() >= 2 + kHeaderSize) {
    Message tcp;
    if (ParseTcpMessage(buf, &tcp) == ParseResult::kSuccess) {
      m = std::move(tcp);
      res = ParseResult::kSuccess;
    }
  }
  if (res != ParseResult::kSuccess) return res;
  out->protocol = L7Protocol::kDns;
  out->method = TypeName(m.qtype);
  out->path = m.qname;
  out->answers = std::move(m.answers);
  out->truncated = m.truncated;
  if (m.is_response) out->status = std::string(RcodeName(m.rcode));
  return ParseResult::kSuccess;
}

std::string TypeName(uint16_t type) {
  switch (type) {
    case 1: return "TypeA";
    case 2: return "TypeNS";
    case 5: return "TypeCNAME";
    case 6: return "TypeSOA";
    case 11: return "TypeWKS";
    case 12: return "TypePTR";
    case 13: return "TypeHINFO";
    case 14: return "TypeMINFO";
    case 15: return "TypeMX";
    case 16: return "TypeTXT";
    case 28: return "TypeAAAA";
    case 33: return "TypeSRV";
    case 41: return "TypeOPT";
    case 64: return "TypeSVCB";
    case 65: return "TypeHTTPS";
    case 252: return "TypeAXFR";
    case 255: return "TypeALL";
    default: return std::to_string(type);
  }
}

std::string_view RcodeName(uint8_t rcode) {
  switch (rcode) {
    case 0: return "ok";
    case 1: return "format_error";
    case 2: return "servfail";
    case 3: return "nxdomain";
    case 4: return "not_implemented";
    case 5: return "refused";
    default: return "unknown";
  }
}

namespace {

bool EndsWith(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

}  // namespace

std::string NormalizeDomain(std::string_view fqdn) {
  if (!fqdn.empty() && fqdn.back() == '.') fqdn.remove_suffix(1);
  if (EndsWith(fqdn, ".in-addr.arpa")) return "IP.in-addr.arpa";
  if (EndsWith(fqdn, ".ip6.arpa")) return "IP.ip6.arpa";
  if (fqdn.substr(0, 3) == "ip-") {
    size_t dot = fqdn.find('.');
    if (dot != std::string_view::npos && fqdn.substr(dot + 1, 4) == "ec2." ) return "IP" + std::string(fqdn.substr(dot));
  }
  size_t start = 0;
  while (start < fqdn.size()) {
    size_t dot = fqdn.find('.', start);
    if (dot == std::string_view::npos) break;
    std::string_view label = fqdn.substr(start, dot - start);
    if ((label == "com" || label == "net" || label == "org" || label == "io") && dot + 1 < fqdn.size())
      return std::string(fqdn.substr(0, dot)) + ".search_path_suffix";
    start = dot + 1;
  }
  return std::string(fqdn);
}

}  // namespace coroot::agent::protocols::dns
