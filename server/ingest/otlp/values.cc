// Text forms of OTLP values shared by the protobuf and JSON decoders.
#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "server/ingest/otlp/decode.h"

namespace coroot::server::otlp {

const char* SpanKindName(int64_t kind) {
  switch (kind) {
    case 0: return "SPAN_KIND_UNSPECIFIED";
    case 1: return "SPAN_KIND_INTERNAL";
    case 2: return "SPAN_KIND_SERVER";
    case 3: return "SPAN_KIND_CLIENT";
    case 4: return "SPAN_KIND_PRODUCER";
    case 5: return "SPAN_KIND_CONSUMER";
  }
  return nullptr;
}

const char* StatusCodeName(int64_t code) {
  switch (code) {
    case 0: return "STATUS_CODE_UNSET";
    case 1: return "STATUS_CODE_OK";
    case 2: return "STATUS_CODE_ERROR";
  }
  return nullptr;
}

void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  double a = std::fabs(v);
  auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific : std::chars_format::fixed;
  auto r = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out->append(buf, r.ptr);
}

void AppendBase64(std::string* out, std::string_view in) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out->push_back(kTable[(n >> 18) & 63]);
    out->push_back(kTable[(n >> 12) & 63]);
    out->push_back(kTable[(n >> 6) & 63]);
    out->push_back(kTable[n & 63]);
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = p[i] << 16;
    out->push_back(kTable[(n >> 18) & 63]);
    out->push_back(kTable[(n >> 12) & 63]);
    out->append("==");
  } else if (rest == 2) {
    uint32_t n = (p[i] << 16) | (p[i + 1] << 8);
    out->push_back(kTable[(n >> 18) & 63]);
    out->push_back(kTable[(n >> 12) & 63]);
    out->push_back(kTable[(n >> 6) & 63]);
    out->push_back('=');
  }
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

}  // namespace

void AppendUtf8(std::string* out, std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) {
    out->append(s.data(), s.size());
    return;
  }
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out->append("\xef\xbf\xbd");
      ++i;
    } else {
      out->append(s.data() + i, n);
      i += n;
    }
  }
}

void AppendJsonEscaped(std::string* out, std::string_view in) {
  std::string fixed;
  std::string_view s = in;
  if (!simdjson::validate_utf8(in.data(), in.size())) {
    AppendUtf8(&fixed, in);
    s = fixed;
  }
  static const char* kHex = "0123456789abcdef";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
}

bool TruncateUtf8(std::string* out, size_t start, size_t max) {
  if (out->size() - start <= max) return false;
  size_t cut = start + max;
  // Back up over continuation bytes so a character is not split.
  while (cut > start && (static_cast<unsigned char>((*out)[cut]) & 0xc0) == 0x80) --cut;
  out->resize(cut);
  return true;
}

}  // namespace coroot::server::otlp
