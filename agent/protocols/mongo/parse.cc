#include "agent/protocols/mongo/parse.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "agent/protocols/byte_reader.h"
#include "lib/base/strings.h"

namespace coroot::agent::protocols::mongo {

ParseResult ParseHeader(std::string_view buf, Header* out) {
  BinaryReader r(buf);
  uint32_t v[4] = {};
  for (auto& x : v) L7_RETURN_IF_NOT_OK(r.ReadLE32(&x));
  out->length = static_cast<int32_t>(v[0]);
  out->request_id = static_cast<int32_t>(v[1]);
  out->response_to = static_cast<int32_t>(v[2]);
  out->op_code = static_cast<int32_t>(v[3]);
  if (out->length < 16 || out->length > 48 * 1024 * 1024) return ParseResult::kInvalid;
  return ParseResult::kSuccess;
}

namespace {

bool LengthFits(const Header& h, size_t size) {
  return static_cast<size_t>(h.length) == size || (size == 1024 && static_cast<size_t>(h.length) > size);
}

class Renderer {
 public:
  explicit Renderer(std::string* out) : out_(out) {}

  // Appends text unless the budget is spent.
  void Put(std::string_view s) {
    if (full_) return;
    if (out_->size() + s.size() > kMaxRenderedBytes) {
      out_->append(s.substr(0, kMaxRenderedBytes - out_->size()));
      out_->append("...");
      full_ = true;
      return;
    }
    out_->append(s);
  }
  void PutString(std::string_view s) {
    Put("\"");
    Put(JsonEscape(s));
    Put("\"");
  }

  // Renders the document at the reader; consumes exactly its declared size when complete.
  ParseResult Document(BinaryReader* r, bool array, int depth) {
    if (depth > kMaxDepth) return ParseResult::kInvalid;
    uint32_t size = 0;
    L7_RETURN_IF_NOT_OK(r->ReadLE32(&size));
    if (size < 5) return ParseResult::kInvalid;
    std::string_view body;
    bool cut = false;
    if (r->ReadBytes(size - 4, &body) != ParseResult::kSuccess) {
      body = r->rest();
      (void)r->Skip(r->remaining());
      cut = true;
    }
    BinaryReader d(body);
    Put(array ? "[" : "{");
    bool first = true;
    for (;;) {
      uint8_t type = 0;
      ParseResult pr = d.ReadU8(&type);
      if (pr != ParseResult::kSuccess) return cut ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
      if (type == 0) break;
      std::string_view name;
      pr = d.ReadCString(&name);
      if (pr != ParseResult::kSuccess) return cut ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
      if (!first) Put(", ");
      first = false;
      if (!array) {
        PutString(name);
        Put(": ");
      }
      pr = Value(&d, type, depth);
      if (pr == ParseResult::kNeedMoreData) return cut ? pr : ParseResult::kInvalid;
      if (pr != ParseResult::kSuccess) return pr;
    }
    Put(array ? "]" : "}");
    if (cut) return ParseResult::kNeedMoreData;
    return d.empty() ? ParseResult::kSuccess : ParseResult::kInvalid;
  }

 private:
  ParseResult BsonString(BinaryReader* r, std::string_view* s) {
    uint32_t len = 0;
    L7_RETURN_IF_NOT_OK(r->ReadLE32(&len));
    if (len < 1) return ParseResult::kInvalid;
    L7_RETURN_IF_NOT_OK(r->ReadBytes(len, s));
    if ((*s)[len - 1] != '\0') return ParseResult::kInvalid;
    s->remove_suffix(1);
    return ParseResult::kSuccess;
  }

  ParseResult Value(BinaryReader* r, uint8_t type, int depth) {
    char buf[64];
    switch (type) {
      case 0x01: {  // double
        uint64_t bits = 0;
        L7_RETURN_IF_NOT_OK(r->ReadLE64(&bits));
        double v;
        std::memcpy(&v, &bits, sizeof v);
        std::snprintf(buf, sizeof buf, "%.17g", v);
        Put(buf);
        return ParseResult::kSuccess;
      }
      case 0x02: case 0x0D: case 0x0E: {  // string, JS code, symbol
        std::string_view s;
        L7_RETURN_IF_NOT_OK(BsonString(r, &s));
        PutString(s);
        return ParseResult::kSuccess;
      }
      case 0x03: return Document(r, false, depth + 1);
      case 0x04: return Document(r, true, depth + 1);
      case 0x05: {  // binary: int32 len, subtype, bytes
        uint32_t len = 0;
        uint8_t sub = 0;
        std::string_view b;
        L7_RETURN_IF_NOT_OK(r->ReadLE32(&len));
        L7_RETURN_IF_NOT_OK(r->ReadU8(&sub));
        L7_RETURN_IF_NOT_OK(r->ReadBytes(len, &b));
        std::snprintf(buf, sizeof buf, "{\"$binary\": {\"subType\": \"%02x\", \"length\": %u}}", sub, len);
        Put(buf);
        return ParseResult::kSuccess;
      }
      case 0x06: Put("{\"$undefined\": true}"); return ParseResult::kSuccess;
      case 0x07: {  // ObjectId
        std::string_view id;
        L7_RETURN_IF_NOT_OK(r->ReadBytes(12, &id));
        Put("{\"$oid\": \"" + HexEncode(id) + "\"}");
        return ParseResult::kSuccess;
      }
      case 0x08: {
        uint8_t b = 0;
        L7_RETURN_IF_NOT_OK(r->ReadU8(&b));
        if (b > 1) return ParseResult::kInvalid;
        Put(b ? "true" : "false");
        return ParseResult::kSuccess;
      }
      case 0x09: {  // UTC datetime, ms
        uint64_t ms = 0;
        L7_RETURN_IF_NOT_OK(r->ReadLE64(&ms));
        std::snprintf(buf, sizeof buf, "{\"$date\": %" PRId64 "}", static_cast<int64_t>(ms));
        Put(buf);
        return ParseResult::kSuccess;
      }
      case 0x0A: Put("null"); return ParseResult::kSuccess;
      case 0x0B: {  // regex: pattern, options
        std::string_view p, o;
        L7_RETURN_IF_NOT_OK(r->ReadCString(&p));
        L7_RETURN_IF_NOT_OK(r->ReadCString(&o));
        Put("{\"$regex\": ");
        PutString(p);
        Put(", \"$options\": ");
        PutString(o);
        Put("}");
        return ParseResult::kSuccess;
      }
      case 0x0C: {  // DBPointer: string + 12 bytes
        std::string_view s, id;
        L7_RETURN_IF_NOT_OK(BsonString(r, &s));
        L7_RETURN_IF_NOT_OK(r->ReadBytes(12, &id));
        Put("{\"$dbPointer\": ");
        PutString(s);
        Put("}");
        return ParseResult::kSuccess;
      }
      case 0x0F: {  // code with scope: int32 total, string, document
        uint32_t total = 0;
        std::string_view s;
        L7_RETURN_IF_NOT_OK(r->ReadLE32(&total));
        L7_RETURN_IF_NOT_OK(BsonString(r, &s));
        Put("{\"$code\": ");
        PutString(s);
        Put(", \"$scope\": ");
        L7_RETURN_IF_NOT_OK(Document(r, false, depth + 1));
        Put("}");
        return ParseResult::kSuccess;
      }
      case 0x10: {
        uint32_t v = 0;
        L7_RETURN_IF_NOT_OK(r->ReadLE32(&v));
        Put(std::to_string(static_cast<int32_t>(v)));
        return ParseResult::kSuccess;
      }
      case 0x11: {  // timestamp: increment, seconds
        uint32_t inc = 0, t = 0;
        L7_RETURN_IF_NOT_OK(r->ReadLE32(&inc));
        L7_RETURN_IF_NOT_OK(r->ReadLE32(&t));
        std::snprintf(buf, sizeof buf, "{\"$timestamp\": {\"t\": %u, \"i\": %u}}", t, inc);
        Put(buf);
        return ParseResult::kSuccess;
      }
      case 0x12: {
        uint64_t v = 0;
        L7_RETURN_IF_NOT_OK(r->ReadLE64(&v));
        Put(std::to_string(static_cast<int64_t>(v)));
        return ParseResult::kSuccess;
      }
      case 0x13: {
        std::string_view d;
        L7_RETURN_IF_NOT_OK(r->ReadBytes(16, &d));
        Put("{\"$numberDecimal\": \"" + HexEncode(d) + "\"}");
        return ParseResult::kSuccess;
      }
      case 0xFF: Put("{\"$minKey\": 1}"); return ParseResult::kSuccess;
      case 0x7F: Put("{\"$maxKey\": 1}"); return ParseResult::kSuccess;
      default: return ParseResult::kInvalid;
    }
  }

  std::string* out_;
  bool full_ = false;
};

// The first key of a BSON document (the command name of an OP_MSG body).
std::string_view FirstKey(std::string_view doc) {
  if (doc.size() < 6) return {};
  size_t end = doc.find('\0', 5);
  if (end == std::string_view::npos) return {};
  return doc.substr(5, end - 5);
}

}  // namespace

bool DetectRequest(std::string_view buf) {
  Header h;
  return ParseHeader(buf, &h) == ParseResult::kSuccess && (h.op_code == kOpMsg || h.op_code == kOpCompressed) &&
         h.response_to == 0 && LengthFits(h, buf.size());
}

bool DetectResponse(std::string_view buf) {
  Header h;
  return ParseHeader(buf, &h) == ParseResult::kSuccess && (h.op_code == kOpMsg || h.op_code == kOpCompressed) &&
         h.response_to != 0;
}

ParseResult RenderBson(std::string_view doc, std::string* out) {
  BinaryReader r(doc);
  Renderer render(out);
  return render.Document(&r, false, 0);
}

ParseResult ParseRequest(std::string_view buf, L7Request* out) {
  Header h;
  L7_RETURN_IF_NOT_OK(ParseHeader(buf, &h));
  if (h.op_code != kOpMsg && h.op_code != kOpCompressed) return ParseResult::kInvalid;
  out->protocol = L7Protocol::kMongo;
  if (h.op_code == kOpCompressed) {
    out->method = "compressed";
    return ParseResult::kSuccess;
  }
  bool cut = static_cast<size_t>(h.length) > buf.size();
  std::string_view msg = buf.substr(16, static_cast<size_t>(h.length) - 16);
  BinaryReader r(msg);
  uint32_t flags = 0;
  L7_RETURN_IF_NOT_OK(r.ReadLE32(&flags));
  if (flags & 1) {  // checksumPresent: the last 4 bytes are a CRC-32C
    if (!cut) {
      if (msg.size() < 8) return ParseResult::kInvalid;
      r = BinaryReader(msg.substr(4, msg.size() - 8));
    }
  }
  std::string text;
  ParseResult result = ParseResult::kSuccess;
  bool have_body = false;
  for (int sections = 0; !r.empty() && sections < 64; sections++) {
    uint8_t kind = 0;
    L7_RETURN_IF_NOT_OK(r.ReadU8(&kind));
    if (kind == 0) {
      std::string_view doc = r.rest();
      out->method = std::string(FirstKey(doc));
      std::string rendered;
      BinaryReader dr(doc);
      Renderer render(&rendered);
      result = render.Document(&dr, false, 0);
      if (result == ParseResult::kInvalid) return result;
      (void)r.Skip(dr.position());
      if (!text.empty()) text += " ";
      text += rendered;
      have_body = true;
    } else if (kind == 1) {
      uint32_t size = 0;
      L7_RETURN_IF_NOT_OK(r.ReadLE32(&size));
      if (size < 5) return ParseResult::kInvalid;
      std::string_view sec;
      bool sec_cut = r.ReadBytes(size - 4, &sec) != ParseResult::kSuccess;
      if (sec_cut) {
        sec = r.rest();
        (void)r.Skip(r.remaining());
      }
      BinaryReader s(sec);
      std::string_view ident;
      if (s.ReadCString(&ident) != ParseResult::kSuccess) return sec_cut ? ParseResult::kNeedMoreData : ParseResult::kInvalid;
      std::string docs = std::string(ident) + ": [";
      bool first = true;
      while (!s.empty() && docs.size() < kMaxRenderedBytes) {
        std::string one;
        Renderer render(&one);
        size_t before = s.position();
        result = render.Document(&s, false, 0);
        if (result == ParseResult::kInvalid) return result;
        if (!first) docs += ", ";
        first = false;
        docs += one;
        if (result != ParseResult::kSuccess || s.position() == before) break;
      }
      docs += "]";
      if (!text.empty()) text += " ";
      text += docs;
      if (sec_cut) result = ParseResult::kNeedMoreData;
    } else {
      return ParseResult::kInvalid;
    }
    if (result != ParseResult::kSuccess) break;
    if (text.size() >= kMaxRenderedBytes) break;
  }
  if (!have_body && result == ParseResult::kSuccess) return ParseResult::kInvalid;
  if (text.size() > kMaxRenderedBytes + 3) {
    text.resize(kMaxRenderedBytes);
    text += "...";
  }
  out->statement = std::move(text);
  out->truncated = out->truncated || cut || result == ParseResult::kNeedMoreData;
  return cut && result == ParseResult::kSuccess ? ParseResult::kNeedMoreData : result;
}

}  // namespace coroot::agent::protocols::mongo
