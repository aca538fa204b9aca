#include "agent/protocols/http2/hpack.h"

#include <algorithm>
#include <array>

#include "agent/protocols/http2/huffman.h"

namespace coroot::agent::protocols::http2 {

namespace {

struct StaticEntry {
  const char* name;
  const char* value;
};

// RFC 7541 Appendix A: static table indexes 1..61.
constexpr std::array<StaticEntry, 61> kStaticTable = {{
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
}};

constexpr size_t kEntryOverhead = 32;

// RFC 7541 §5.2: H bit + length with a 7-bit prefix, then the octets (Huffman-coded when H is set).
Status DecodeString(std::string_view in, size_t* pos, size_t max_len, std::string* out) {
  if (*pos >= in.size()) return InvalidArgument("hpack: truncated string");
  bool huffman = (static_cast<uint8_t>(in[*pos]) & 0x80) != 0;
  uint64_t len = 0;
  RETURN_IF_ERROR(DecodeInteger(in, pos, 7, &len));
  if (len > in.size() - *pos) return InvalidArgument("hpack: string longer than the header block");
  std::string_view raw = in.substr(*pos, len);
  *pos += len;
  if (!huffman) {
    if (len > max_len) return ResourceExhausted("hpack: header list larger than the limit");
    out->assign(raw);
    return Status::Ok();
  }
  out->clear();
  return HuffmanDecode(raw, out, max_len);
}

}  // namespace

Status DecodeInteger(std::string_view in, size_t* pos, int prefix_bits, uint64_t* value) {
  if (*pos >= in.size()) return InvalidArgument("hpack: truncated integer");
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  uint64_t v = static_cast<uint8_t>(in[(*pos)++]) & max_prefix;
  if (v < max_prefix) {
    *value = v;
    return Status::Ok();
  }
  for (int shift = 0;; shift += 7) {
    if (*pos >= in.size()) return InvalidArgument("hpack: truncated integer");
    if (shift > 28) return InvalidArgument("hpack: integer too large");
    uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    v += static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (v > 0xffffffffull) return InvalidArgument("hpack: integer too large");
  *value = v;
  return Status::Ok();
}

void HpackDecoder::SetMaxTableSize(size_t n) {
  settings_limit_ = std::min(n, kMaxTableSizeCap);
  // A lower setting takes effect at once (the encoder must follow with an update anyway).
  if (table_limit_ > settings_limit_) {
    table_limit_ = settings_limit_;
    Evict(table_limit_);
  }
}

void HpackDecoder::Reset() {
  table_.clear();
  table_bytes_ = 0;
  table_limit_ = std::min(settings_limit_, kDefaultTableSize);
}

void HpackDecoder::Evict(size_t limit) {
  while (table_bytes_ > limit && !table_.empty()) {
    table_bytes_ -= table_.back().name.size() + table_.back().value.size() + kEntryOverhead;
    table_.pop_back();
  }
}

void HpackDecoder::Insert(HeaderField field) {
  size_t size = field.name.size() + field.value.size() + kEntryOverhead;
  // RFC 7541 §4.4: an entry larger than the table empties it and is not added.
  Evict(size > table_limit_ ? 0 : table_limit_ - size);
  if (size > table_limit_) return;
  table_bytes_ += size;
  table_.push_front(std::move(field));
}

Status HpackDecoder::LookUp(uint64_t index, std::string_view* name, std::string_view* value) const {
  if (index == 0) return InvalidArgument("hpack: index 0");
  if (index <= kStaticTable.size()) {
    *name = kStaticTable[index - 1].name;
    *value = kStaticTable[index - 1].value;
    return Status::Ok();
  }
  if (index - kStaticTable.size() > table_.size())
    return InvalidArgument("hpack: index " + std::to_string(index) + " beyond the tables");
  const HeaderField& f = table_[index - kStaticTable.size() - 1];
  *name = f.name;
  *value = f.value;
  return Status::Ok();
}

Status HpackDecoder::Decode(std::string_view block, std::vector<HeaderField>* out) {
  size_t pos = 0;
  size_t list_bytes = 0;
  bool fields_seen = false;
  auto account = [&](const HeaderField& f) -> Status {
    list_bytes += f.name.size() + f.value.size() + kEntryOverhead;
    if (list_bytes > max_header_list_) return ResourceExhausted("hpack: header list larger than the limit");
    return Status::Ok();
  };
  while (pos < block.size()) {
    uint8_t b = static_cast<uint8_t>(block[pos]);
    if (b & 0x80) {  // indexed header field
      uint64_t index = 0;
      RETURN_IF_ERROR(DecodeInteger(block, &pos, 7, &index));
      std::string_view name, value;
      RETURN_IF_ERROR(LookUp(index, &name, &value));
      HeaderField f{std::string(name), std::string(value)};
      RETURN_IF_ERROR(account(f));
      out->push_back(std::move(f));
      fields_seen = true;
      continue;
    }
    if ((b & 0xe0) == 0x20) {  // dynamic table size update: only before the first field
      if (fields_seen) return InvalidArgument("hpack: table size update after a header field");
      uint64_t size = 0;
      RETURN_IF_ERROR(DecodeInteger(block, &pos, 5, &size));
      if (size > settings_limit_)
        return InvalidArgument("hpack: table size update to " + std::to_string(size) + " above the limit " +
                               std::to_string(settings_limit_));
      table_limit_ = size;
      Evict(table_limit_);
      continue;
    }
    // Literal: with incremental indexing (01), without indexing (0000) or never indexed (0001).
    bool indexing = (b & 0xc0) == 0x40;
    uint64_t name_index = 0;
    RETURN_IF_ERROR(DecodeInteger(block, &pos, indexing ? 6 : 4, &name_index));
    HeaderField f;
    size_t room = max_header_list_ - list_bytes;
    if (name_index == 0) {
      RETURN_IF_ERROR(DecodeString(block, &pos, room, &f.name));
    } else {
      std::string_view name, unused;
      RETURN_IF_ERROR(LookUp(name_index, &name, &unused));
      f.name = name;
    }
    RETURN_IF_ERROR(DecodeString(block, &pos, room, &f.value));
    RETURN_IF_ERROR(account(f));
    if (indexing) Insert(f);
    out->push_back(std::move(f));
    fields_seen = true;
  }
  return Status::Ok();
}

std::string EncodeInteger(uint64_t value, int prefix_bits, uint8_t first_byte_flags) {
  std::string out;
  const uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(first_byte_flags | value));
    return out;
  }
  out.push_back(static_cast<char>(first_byte_flags | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

std::string EncodeString(std::string_view s, bool huffman) {
  std::string body = huffman ? HuffmanEncode(s) : std::string(s);
  return EncodeInteger(body.size(), 7, huffman ? 0x80 : 0) + body;
}

}  // namespace coroot::agent::protocols::http2
