#include "agent/containers/dbus_wire.h"

#include <cstring>

namespace coroot::agent::containers::dbus {
namespace {

constexpr int kMaxDepth = 64;            // the spec's limit: 32 array + 32 struct levels
constexpr size_t kMaxArray = 64u << 20;  // the spec's limit on one array's bytes
constexpr size_t kMaxProperties = 4096;

size_t AlignUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

void Pad(std::string* out, size_t a) { out->resize(AlignUp(out->size(), a), '\0'); }

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // x86 and every platform we build for are little-endian, as we declare
  out->append(b, 4);
}

// Alignment of the type a signature code starts.
size_t AlignOf(char c) {
  switch (c) {
    case 'n':
    case 'q':
      return 2;
    case 'b':
    case 'i':
    case 'u':
    case 'h':
    case 's':
    case 'o':
    case 'a':
      return 4;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 1;
  }
}

// Index just past the single complete type that starts at sig[i], or npos.
size_t SigEnd(std::string_view sig, size_t i, int depth = 0) {
  if (depth > kMaxDepth || i >= sig.size()) return std::string_view::npos;
  char c = sig[i];
  if (std::strchr("ybnqiuxtdhsogv", c)) return i + 1;
  if (c == 'a') return SigEnd(sig, i + 1, depth + 1);
  if (c == '(' || c == '{') {
    char close = c == '(' ? ')' : '}';
    size_t j = i + 1;
    int members = 0;
    while (j < sig.size() && sig[j] != close) {
      j = SigEnd(sig, j, depth + 1);
      if (j == std::string_view::npos) return j;
      members++;
    }
    if (j >= sig.size() || members == 0 || (c == '{' && members != 2)) return std::string_view::npos;
    return j + 1;
  }
  return std::string_view::npos;
}

class Reader {
 public:
  Reader(std::string_view b, bool big_endian, size_t pos = 0) : b_(b), be_(big_endian), pos_(pos) {}
  size_t pos() const { return pos_; }

  bool Align(size_t a) {
    size_t p = AlignUp(pos_, a);
    if (p > b_.size()) return false;
    pos_ = p;
    return true;
  }
  bool U8(uint8_t* v) {
    if (pos_ + 1 > b_.size()) return false;
    *v = static_cast<uint8_t>(b_[pos_++]);
    return true;
  }
  template <typename T>
  bool Fixed(T* v) {
    if (!Align(sizeof(T)) || pos_ + sizeof(T) > b_.size()) return false;
    unsigned char raw[sizeof(T)];
    std::memcpy(raw, b_.data() + pos_, sizeof(T));
    if (be_)
      for (size_t i = 0; i < sizeof(T) / 2; i++) std::swap(raw[i], raw[sizeof(T) - 1 - i]);
    std::memcpy(v, raw, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool Str(std::string_view* out) {
    uint32_t len;
    if (!Fixed(&len) || len > b_.size() - pos_ || pos_ + len + 1 > b_.size() || b_[pos_ + len] != '\0') return false;
    *out = b_.substr(pos_, len);
    pos_ += len + 1;
    return true;
  }
  bool Sig(std::string_view* out) {
    uint8_t len;
    if (!U8(&len) || pos_ + len + 1 > b_.size() || b_[pos_ + len] != '\0') return false;
    *out = b_.substr(pos_, len);
    pos_ += len + 1;
    return true;
  }
  // Skips the value of the single complete type at sig[*i]; *i moves past that type.
  bool Skip(std::string_view sig, size_t* i, int depth) {
    if (depth > kMaxDepth || *i >= sig.size()) return false;
    char c = sig[*i];
    switch (c) {
      case 'y': {
        uint8_t v;
        ++*i;
        return U8(&v);
      }
      case 'n':
      case 'q': {
        uint16_t v;
        ++*i;
        return Fixed(&v);
      }
      case 'b':
      case 'i':
      case 'u':
      case 'h': {
        uint32_t v;
        ++*i;
        return Fixed(&v);
      }
      case 'x':
      case 't':
      case 'd': {
        uint64_t v;
        ++*i;
        return Fixed(&v);
      }
      case 's':
      case 'o': {
        std::string_view s;
        ++*i;
        return Str(&s);
      }
      case 'g': {
        std::string_view s;
        ++*i;
        return Sig(&s);
      }
      case 'v': {
        std::string_view inner;
        if (!Sig(&inner)) return false;
        size_t j = 0;
        if (!Skip(inner, &j, depth + 1) || j != inner.size()) return false;
        ++*i;
        return true;
      }
      case 'a': {
        uint32_t len;
        size_t end = SigEnd(sig, *i + 1, depth + 1);
        if (end == std::string_view::npos || !Fixed(&len) || len > kMaxArray) return false;
        if (!Align(AlignOf(sig[*i + 1])) || len > b_.size() - pos_) return false;
        pos_ += len;  // arrays carry their byte length: no need to walk the elements
        *i = end;
        return true;
      }
      case '(':
      case '{': {
        char close = c == '(' ? ')' : '}';
        if (!Align(8)) return false;
        ++*i;
        while (*i < sig.size() && sig[*i] != close)
          if (!Skip(sig, i, depth + 1)) return false;
        if (*i >= sig.size()) return false;
        ++*i;
        return true;
      }
      default:
        return false;
    }
  }

 private:
  std::string_view b_;
  bool be_;
  size_t pos_;
};

void AppendField(std::string* fields, uint8_t code, char type, std::string_view value) {
  if (value.empty() && type != 'g') return;
  // fields starts at message offset 16, so alignment within it is alignment in the message.
  Pad(fields, 8);
  fields->push_back(static_cast<char>(code));
  fields->push_back(1);
  fields->push_back(type);
  fields->push_back('\0');
  if (type == 'g') {
    fields->push_back(static_cast<char>(value.size()));
  } else {
    Pad(fields, 4);
    PutU32(fields, static_cast<uint32_t>(value.size()));
  }
  fields->append(value);
  fields->push_back('\0');
}

}  // namespace

void AppendString(std::string* body, std::string_view s) {
  Pad(body, 4);
  PutU32(body, static_cast<uint32_t>(s.size()));
  body->append(s);
  body->push_back('\0');
}

std::string MethodCall(uint32_t serial, std::string_view path, std::string_view interface, std::string_view member,
                       std::string_view destination, std::string_view signature, std::string_view body) {
  std::string fields;
  AppendField(&fields, 1, 'o', path);
  AppendField(&fields, 2, 's', interface);
  AppendField(&fields, 3, 's', member);
  AppendField(&fields, 6, 's', destination);
  if (!signature.empty()) AppendField(&fields, 8, 'g', signature);
  std::string m = {'l', static_cast<char>(kMethodCall), 0, 1};
  PutU32(&m, static_cast<uint32_t>(body.size()));
  PutU32(&m, serial);
  PutU32(&m, static_cast<uint32_t>(fields.size()));
  m += fields;
  Pad(&m, 8);
  m.append(body);
  return m;
}

StatusOr<size_t> MessageSize(std::string_view buf) {
  if (buf.size() < 16) return size_t{0};
  if (buf[0] != 'l' && buf[0] != 'B') return InvalidArgument("D-Bus message with an unknown byte order");
  if (buf[3] != 1) return InvalidArgument("D-Bus message of protocol version " + std::to_string(buf[3]));
  Reader r(buf, buf[0] == 'B', 4);
  uint32_t body_len = 0, serial = 0, fields_len = 0;
  if (!r.Fixed(&body_len) || !r.Fixed(&serial) || !r.Fixed(&fields_len)) return size_t{0};
  if (fields_len > kMaxMessage || body_len > kMaxMessage) return InvalidArgument("D-Bus message too large");
  size_t total = AlignUp(16 + size_t{fields_len}, 8) + body_len;
  if (total > kMaxMessage) return InvalidArgument("D-Bus message too large (" + std::to_string(total) + " bytes)");
  return total;
}

StatusOr<Message> ParseMessage(std::string_view buf) {
  StatusOr<size_t> size = MessageSize(buf);
  if (!size.ok()) return size.status();
  if (*size == 0 || *size != buf.size()) return InvalidArgument("truncated D-Bus message");
  Message m;
  m.big_endian = buf[0] == 'B';
  m.type = static_cast<uint8_t>(buf[1]);
  Reader r(buf, m.big_endian, 4);
  uint32_t body_len = 0, fields_len = 0;
  if (!r.Fixed(&body_len) || !r.Fixed(&m.serial) || !r.Fixed(&fields_len))
    return InvalidArgument("truncated D-Bus header");
  const size_t fields_end = 16 + size_t{fields_len};
  Reader f(buf.substr(0, fields_end), m.big_endian, 16);
  while (f.pos() < fields_end) {
    uint8_t code;
    std::string_view sig;
    if (!f.Align(8) || f.pos() == fields_end) break;
    if (!f.U8(&code) || !f.Sig(&sig)) return InvalidArgument("malformed D-Bus header field");
    std::string_view s;
    bool ok = true;
    if (code == 4 && sig == "s") {
      ok = f.Str(&s);
      m.error_name = s;
    } else if (code == 5 && sig == "u") {
      ok = f.Fixed(&m.reply_serial);
    } else if (code == 8 && sig == "g") {
      ok = f.Sig(&s);
      m.signature = s;
    } else {
      size_t i = 0;
      ok = f.Skip(sig, &i, 0) && i == sig.size();
    }
    if (!ok) return InvalidArgument("malformed D-Bus header field " + std::to_string(code));
  }
  m.body = std::string(buf.substr(AlignUp(fields_end, 8), body_len));
  return m;
}

StatusOr<std::map<std::string, PropertyValue>> ParseProperties(const Message& reply) {
  if (reply.signature != "a{sv}") return InvalidArgument("properties reply of signature \"" + reply.signature + "\"");
  Reader r(reply.body, reply.big_endian);
  uint32_t len;
  if (!r.Fixed(&len) || !r.Align(8) || len > reply.body.size() - r.pos())
    return InvalidArgument("malformed properties array");
  const size_t end = r.pos() + len;
  std::map<std::string, PropertyValue> out;
  size_t count = 0;
  while (r.pos() < end) {
    if (++count > kMaxProperties) return InvalidArgument("too many properties");
    std::string_view key, sig;
    if (!r.Align(8) || !r.Str(&key) || !r.Sig(&sig)) return InvalidArgument("malformed property entry");
    bool ok = true;
    if (sig == "s" || sig == "o" || sig == "g") {
      std::string_view v;
      ok = sig == "g" ? r.Sig(&v) : r.Str(&v);
      if (ok) out[std::string(key)] = std::string(v);
    } else if (sig == "as") {
      uint32_t alen;
      ok = r.Fixed(&alen) && alen <= reply.body.size() - r.pos();
      std::vector<std::string> values;
      const size_t aend = r.pos() + (ok ? alen : 0);
      while (ok && r.pos() < aend) {
        std::string_view v;
        ok = r.Str(&v);
        values.emplace_back(v);
      }
      ok = ok && r.pos() == aend;
      if (ok) out[std::string(key)] = std::move(values);
    } else if (sig == "b") {
      uint32_t v;
      ok = r.Fixed(&v) && v <= 1;
      if (ok) out[std::string(key)] = v == 1;
    } else if (sig == "t" || sig == "x") {
      uint64_t v;
      ok = r.Fixed(&v);
      if (ok) out[std::string(key)] = v;
    } else if (sig == "u" || sig == "i") {
      uint32_t v;
      ok = r.Fixed(&v);
      if (ok) out[std::string(key)] = uint64_t{v};
    } else {
      size_t i = 0;
      ok = r.Skip(sig, &i, 0) && i == sig.size();
    }
    if (!ok || r.pos() > end) return InvalidArgument("malformed value of property " + std::string(key));
  }
  return out;
}

std::string ErrorText(const Message& reply) {
  if (reply.signature.empty() || reply.signature[0] != 's') return "";
  Reader r(reply.body, reply.big_endian);
  std::string_view s;
  return r.Str(&s) ? std::string(s) : "";
}

}  // namespace coroot::agent::containers::dbus
