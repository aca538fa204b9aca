#pragma once
// BinaryReader: a bounded cursor over untrusted bytes. Every read checks the remaining length first
// and answers kSuccess, or kNeedMoreData without moving; it never reads past the buffer and never
// throws. Multi-byte integers come in both byte orders because wire formats differ.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/protocols/types.h"

namespace coroot::agent::protocols {

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view buf) : buf_(buf) {}

  size_t remaining() const { return buf_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return pos_ >= buf_.size(); }
  std::string_view rest() const { return buf_.substr(pos_); }

  ParseResult ReadU8(uint8_t* v) {
    if (remaining() < 1) return ParseResult::kNeedMoreData;
    *v = static_cast<uint8_t>(buf_[pos_++]);
    return ParseResult::kSuccess;
  }
  ParseResult PeekU8(uint8_t* v) const {
    if (remaining() < 1) return ParseResult::kNeedMoreData;
    *v = static_cast<uint8_t>(buf_[pos_]);
    return ParseResult::kSuccess;
  }
  ParseResult ReadBE16(uint16_t* v) { return ReadInt(v, 2, true); }
  ParseResult ReadBE32(uint32_t* v) { return ReadInt(v, 4, true); }
  ParseResult ReadBE64(uint64_t* v) { return ReadInt(v, 8, true); }
  ParseResult ReadLE16(uint16_t* v) { return ReadInt(v, 2, false); }
  ParseResult ReadLE24(uint32_t* v) { return ReadInt(v, 3, false); }
  ParseResult ReadLE32(uint32_t* v) { return ReadInt(v, 4, false); }
  ParseResult ReadLE64(uint64_t* v) { return ReadInt(v, 8, false); }
  ParseResult ReadBE32s(int32_t* v) {
    uint32_t u = 0;
    ParseResult r = ReadBE32(&u);
    if (r == ParseResult::kSuccess) *v = static_cast<int32_t>(u);
    return r;
  }

  // n bytes as a view into the buffer.
  ParseResult ReadBytes(size_t n, std::string_view* out) {
    if (remaining() < n) return ParseResult::kNeedMoreData;
    *out = buf_.substr(pos_, n);
    pos_ += n;
    return ParseResult::kSuccess;
  }
  ParseResult Skip(size_t n) {
    if (remaining() < n) return ParseResult::kNeedMoreData;
    pos_ += n;
    return ParseResult::kSuccess;
  }
  // Bytes up to (not including) delim; consumes the delimiter. kNeedMoreData if it never comes.
  ParseResult ReadUntil(char delim, std::string_view* out) {
    size_t e = buf_.find(delim, pos_);
    if (e == std::string_view::npos) return ParseResult::kNeedMoreData;
    *out = buf_.substr(pos_, e - pos_);
    pos_ = e + 1;
    return ParseResult::kSuccess;
  }
  ParseResult ReadUntil(std::string_view delim, std::string_view* out) {
    size_t e = buf_.find(delim, pos_);
    if (e == std::string_view::npos || delim.empty()) return ParseResult::kNeedMoreData;
    *out = buf_.substr(pos_, e - pos_);
    pos_ = e + delim.size();
    return ParseResult::kSuccess;
  }
  // A NUL-terminated string (the NUL is consumed, not returned).
  ParseResult ReadCString(std::string_view* out) { return ReadUntil('\0', out); }

 private:
  template <typename T>
  ParseResult ReadInt(T* v, size_t n, bool big_endian) {
    if (remaining() < n) return ParseResult::kNeedMoreData;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t b = static_cast<uint8_t>(buf_[pos_ + i]);
      if (big_endian)
        x = (x << 8) | b;
      else
        x |= b << (8 * i);
    }
    pos_ += n;
    *v = static_cast<T>(x);
    return ParseResult::kSuccess;
  }

  std::string_view buf_;
  size_t pos_ = 0;
};

// Propagates a non-success ParseResult out of the enclosing function.
#define L7_RETURN_IF_NOT_OK(expr)                                          \
  do {                                                                     \
    ::coroot::agent::protocols::ParseResult _pr = (expr);                  \
    if (_pr != ::coroot::agent::protocols::ParseResult::kSuccess) return _pr; \
  } while (0)

}  // namespace coroot::agent::protocols
