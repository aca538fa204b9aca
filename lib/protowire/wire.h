#pragma once
// Hand-written protobuf wire-format reader and writer for hot paths (remote write, OTLP), where
// the generated classes' object model costs too much. Every read is bounds-checked and returns
// false on malformed input; nothing here allocates except the writer's output string.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace coroot::protowire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool done() const { return p_ >= end_; }

  // Reads the next field key. Returns false at a malformed key (caller must check done() first).
  bool Next(uint32_t* field, WireType* type) {
    uint64_t key;
    if (!Varint(&key)) return false;
    *field = static_cast<uint32_t>(key >> 3);
    *type = static_cast<WireType>(key & 7);
    return *field != 0 && (key >> 3) <= 0x1fffffff;
  }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return false;
      uint8_t b = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = result;
        return true;
      }
    }
    return false;  // more than 10 bytes
  }

  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }

  bool Fixed32(uint32_t* v) {
    if (end_ - p_ < 4) return false;
    std::memcpy(v, p_, 4);
    p_ += 4;
    return true;
  }

  bool Double(double* v) {
    uint64_t bits;
    if (!Fixed64(&bits)) return false;
    std::memcpy(v, &bits, 8);
    return true;
  }

  bool Bytes(std::string_view* v) {
    uint64_t len;
    if (!Varint(&len)) return false;
    if (len > static_cast<uint64_t>(end_ - p_)) return false;
    *v = std::string_view(p_, static_cast<size_t>(len));
    p_ += len;
    return true;
  }

  // Skips a field of the given type (groups are not supported: they are malformed here).
  bool Skip(WireType type) {
    uint64_t u64;
    uint32_t u32;
    std::string_view sv;
    switch (type) {
      case kVarint: return Varint(&u64);
      case kFixed64: return Fixed64(&u64);
      case kLen: return Bytes(&sv);
      case kFixed32: return Fixed32(&u32);
    }
    return false;
  }

 private:
  const char* p_;
  const char* end_;
};

class Writer {
 public:
  std::string& out() { return out_; }

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Key(uint32_t field, WireType type) { Varint((static_cast<uint64_t>(field) << 3) | type); }
  void VarintField(uint32_t field, uint64_t v) {
    Key(field, kVarint);
    Varint(v);
  }
  void Fixed64Field(uint32_t field, uint64_t v) {
    Key(field, kFixed64);
    char b[8];
    std::memcpy(b, &v, 8);
    out_.append(b, 8);
  }
  void DoubleField(uint32_t field, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    Fixed64Field(field, bits);
  }
  void BytesField(uint32_t field, std::string_view v) {
    Key(field, kLen);
    Varint(v.size());
    out_.append(v.data(), v.size());
  }
  // Nested message: write it into a scratch Writer, then append here.
  void MessageField(uint32_t field, const Writer& nested) { BytesField(field, nested.out_); }

 private:
  std::string out_;
};

}  // namespace coroot::protowire
