#include "agent/protocols/postgres/parse.h"

#include "agent/protocols/byte_reader.h"

namespace coroot::agent::protocols::postgres {

bool DetectRequest(std::string_view buf) {
  if (buf.size() >= 5 && (buf[0] == 'Q' || buf[0] == 'C')) {
    BinaryReader r(buf.substr(1));
    uint32_t len = 0;
    if (r.ReadBE32(&len) == ParseResult::kSuccess && static_cast<uint64_t>(len) + 1 == buf.size()) return true;
  }
  constexpr std::string_view kSync("S\0\0\0\4", 5);
  return buf.size() >= kSync.size() && buf.substr(buf.size() - kSync.size()) == kSync;
}

ParseResult SplitMessages(std::string_view buf, std::vector<Message>* out) {
  BinaryReader r(buf);
  while (!r.empty()) {
    if (out->size() >= kMaxMessagesPerBuffer) return ParseResult::kInvalid;
    uint8_t type = 0;
    uint32_t len = 0;
    std::string_view body;
    L7_RETURN_IF_NOT_OK(r.ReadU8(&type));
    L7_RETURN_IF_NOT_OK(r.ReadBE32(&len));
    if (len < 4) return ParseResult::kInvalid;
    if (r.ReadBytes(len - 4, &body) != ParseResult::kSuccess) {
      out->push_back({static_cast<char>(type), r.rest()});  // the cut message, for best effort
      return ParseResult::kNeedMoreData;
    }
    out->push_back({static_cast<char>(type), body});
  }
  return ParseResult::kSuccess;
}

namespace {

// A C string that may be cut by the end of the payload: returns what is there.
std::string_view CStringPrefix(std::string_view body, size_t* consumed, bool* complete) {
  size_t z = body.find('\0');
  *complete = z != std::string_view::npos;
  if (!*complete) {
    *consumed = body.size();
    return body;
  }
  *consumed = z + 1;
  return body.substr(0, z);
}

bool IsFrontendType(char t) {
  switch (t) {
    case 'Q': case 'P': case 'B': case 'D': case 'E': case 'S': case 'H': case 'C': case 'X': case 'F':
    case 'd': case 'c': case 'f': case 'p':
      return true;
    default:
      return false;
  }
}

}  // namespace

ParseResult ParseRequest(std::string_view buf, Request* out) {
  std::vector<Message> msgs;
  ParseResult split = SplitMessages(buf, &msgs);
  if (split == ParseResult::kInvalid || msgs.empty()) return ParseResult::kInvalid;
  bool cut = split == ParseResult::kNeedMoreData;
  bool any_query = false, any_extended = false, any_close = false;
  for (size_t i = 0; i < msgs.size(); i++) {
    const Message& m = msgs[i];
    if (!IsFrontendType(m.type)) return ParseResult::kInvalid;
    bool last_cut = cut && i + 1 == msgs.size();
    size_t used = 0;
    bool complete = false;
    switch (m.type) {
      case 'Q': {
        std::string_view q = CStringPrefix(m.body, &used, &complete);
        if (!complete && !last_cut) return ParseResult::kInvalid;
        out->query = std::string(q);
        any_query = true;
        break;
      }
      case 'P': {
        std::string_view name = CStringPrefix(m.body, &used, &complete);
        Request::Parse p{std::string(name), {}};
        if (complete) {
          std::string_view q = CStringPrefix(m.body.substr(used), &used, &complete);
          p.query = std::string(q);
        }
        if (!complete && !last_cut) return ParseResult::kInvalid;
        out->parses.push_back(std::move(p));
        any_extended = true;
        break;
      }
      case 'B': {
        std::string_view portal = CStringPrefix(m.body, &used, &complete);
        (void)portal;
        std::string_view stmt;
        if (complete) stmt = CStringPrefix(m.body.substr(used), &used, &complete);
        if (!complete && !last_cut) return ParseResult::kInvalid;
        if (!out->has_bind && complete) {
          out->has_bind = true;
          out->bind_statement = std::string(stmt);
        }
        any_extended = true;
        break;
      }
      case 'C': {
        if (m.body.empty()) {
          if (!last_cut) return ParseResult::kInvalid;
          break;
        }
        char what = m.body[0];
        if (what != 'S' && what != 'P') return ParseResult::kInvalid;
        std::string_view name = CStringPrefix(m.body.substr(1), &used, &complete);
        if (!complete && !last_cut) return ParseResult::kInvalid;
        if (what == 'S' && complete) out->closed_statements.emplace_back(name);
        any_close = true;
        break;
      }
      case 'E': case 'D': case 'S': case 'H':
        any_extended = any_extended || m.type == 'E';
        break;
      default:
        break;
    }
  }
  if (any_query) {
    out->kind = Request::Kind::kSimpleQuery;
  } else if (any_extended) {
    out->kind = Request::Kind::kExtendedQuery;
    if (!out->parses.empty()) out->query = out->parses.back().query;
  } else if (any_close) {
    out->kind = Request::Kind::kCloseOnly;
  } else {
    return ParseResult::kInvalid;  // Sync / Flush alone carry no request
  }
  out->truncated = cut;
  return cut ? ParseResult::kNeedMoreData : ParseResult::kSuccess;
}

ParseResult ParseResponseStatus(std::string_view buf, std::string_view* status) {
  BinaryReader r(buf);
  for (size_t n = 0; n < kMaxMessagesPerBuffer; n++) {
    uint8_t type = 0;
    uint32_t len = 0;
    L7_RETURN_IF_NOT_OK(r.ReadU8(&type));
    L7_RETURN_IF_NOT_OK(r.ReadBE32(&len));
    if (len < 4) return ParseResult::kInvalid;
    switch (type) {
      case 'E':
        *status = kStatusFailed;
        return ParseResult::kSuccess;
      case 'T': case 'D': case 'C': case 't': case 'n': case 'I': case 's': case '3':
      case 'Z':  // ReadyForQuery after only skipped messages: e.g. a Parse + Sync that succeeded
        *status = kStatusOk;
        return ParseResult::kSuccess;
      case '1': case '2': case 'N': case 'S':
        L7_RETURN_IF_NOT_OK(r.Skip(len - 4));
        break;
      default:
        return ParseResult::kInvalid;
    }
  }
  return ParseResult::kInvalid;
}

std::string_view ErrorMessage(std::string_view body) {
  BinaryReader r(body);
  while (!r.empty()) {
    uint8_t code = 0;
    if (r.ReadU8(&code) != ParseResult::kSuccess || code == 0) break;
    std::string_view v;
    if (r.ReadCString(&v) != ParseResult::kSuccess) break;
    if (code == 'M') return v;
  }
  return {};
}

}  // namespace coroot::agent::protocols::postgres
