#include "server/ingest/pprof/pprof.h"

#include <unordered_map>

#include "lib/compress/compress.h"
#include "lib/protowire/wire.h"

namespace coroot::server::pprof {

namespace {

using protowire::Reader;
using protowire::WireType;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

uint64_t Fnv(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

Status Malformed(const std::string& what) { return InvalidArgument("malformed pprof: " + what); }

// A repeated integer field, packed or not: appends to out (bounded by max).
bool ReadInts(Reader* r, WireType t, std::vector<uint64_t>* out, size_t max) {
  if (t == protowire::kVarint) {
    uint64_t v;
    if (!r->Varint(&v) || out->size() >= max) return false;
    out->push_back(v);
    return true;
  }
  if (t != protowire::kLen) return false;
  std::string_view packed;
  if (!r->Bytes(&packed)) return false;
  Reader p(packed);
  while (!p.done()) {
    uint64_t v;
    if (!p.Varint(&v) || out->size() >= max) return false;
    out->push_back(v);
  }
  return true;
}

// Reads a varint field's value into *v (wrong wire type → false).
bool Int(Reader* r, WireType t, uint64_t* v) { return t == protowire::kVarint && r->Varint(v); }

struct ValueType {
  uint64_t type = 0, unit = 0;
};
struct Line {
  uint64_t function_id = 0;
  int64_t line = 0;
};
struct Function {
  uint64_t name = 0, filename = 0;
};
struct Location {
  uint32_t first_line = 0, lines = 0;  // into the lines array
};

bool ParseValueType(std::string_view m, ValueType* vt) {
  Reader r(m);
  while (!r.done()) {
    uint32_t f;
    WireType t;
    if (!r.Next(&f, &t)) return false;
    if (f == 1) {
      if (!Int(&r, t, &vt->type)) return false;
    } else if (f == 2) {
      if (!Int(&r, t, &vt->unit)) return false;
    } else if (!r.Skip(t)) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string TypeName(std::string_view type, std::string_view unit) {
  std::string out(type);
  if (type.find(':') == std::string_view::npos && !unit.empty()) {
    out += ':';
    out.append(unit);
  }
  return out;
}

uint64_t StackHash(const std::vector<std::string_view>& lines) {
  uint64_t h = kFnvOffset;
  for (auto l : lines) h = Fnv(h, l);
  return h;
}
uint64_t StackHash(const std::vector<std::string>& lines) {
  uint64_t h = kFnvOffset;
  for (const auto& l : lines) h = Fnv(h, l);
  return h;
}

StatusOr<Result> Decode(std::string_view body, std::string_view service_name, const Labels& labels,
                        const Limits& lim, int64_t now_ns, storage::ProfileBatch* out) {
  std::string inflated;
  if (body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f && static_cast<unsigned char>(body[1]) == 0x8b) {
    auto raw = compress::ZlibDecompress(body, compress::ZlibFormat::kGzip, lim.max_decompressed_bytes);
    if (!raw.ok()) {
      if (raw.status().code() == StatusCode::kResourceExhausted) return raw.status();
      return InvalidArgument("pprof: bad gzip body: " + raw.status().message());
    }
    inflated = std::move(*raw);
    body = inflated;
  } else if (body.size() > lim.max_decompressed_bytes) {
    return ResourceExhausted("pprof body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
                             std::to_string(lim.max_decompressed_bytes));
  }

  // ---- pass 1: the top-level fields; nested messages kept as views ----
  std::vector<ValueType> sample_types;
  std::vector<std::string_view> strings, samples, locations, functions;
  uint64_t time_nanos = 0, duration_nanos = 0;
  {
    Reader r(body);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("bad field key");
      std::string_view m;
      auto take = [&](std::vector<std::string_view>* v, size_t max, const char* what) -> Status {
        if (t != protowire::kLen || !r.Bytes(&m)) return Malformed(std::string("truncated ") + what);
        if (v->size() >= max) return InvalidArgument("pprof: more than " + std::to_string(max) + " " + what);
        v->push_back(m);
        return Status::Ok();
      };
      switch (f) {
        case 1: {
          if (t != protowire::kLen || !r.Bytes(&m)) return Malformed("truncated sample_type");
          ValueType vt;
          if (!ParseValueType(m, &vt)) return Malformed("bad sample_type");
          if (sample_types.size() >= lim.max_sample_types)
            return InvalidArgument("pprof: more than " + std::to_string(lim.max_sample_types) + " sample types");
          sample_types.push_back(vt);
          break;
        }
        case 2: RETURN_IF_ERROR(take(&samples, lim.max_samples, "samples")); break;
        case 4: RETURN_IF_ERROR(take(&locations, lim.max_locations, "locations")); break;
        case 5: RETURN_IF_ERROR(take(&functions, lim.max_functions, "functions")); break;
        case 6: RETURN_IF_ERROR(take(&strings, lim.max_strings, "strings in the string table")); break;
        case 9:
          if (!Int(&r, t, &time_nanos)) return Malformed("bad time_nanos");
          break;
        case 10:
          if (!Int(&r, t, &duration_nanos)) return Malformed("bad duration_nanos");
          break;
        default:
          if (!r.Skip(t)) return Malformed("truncated field " + std::to_string(f));
      }
    }
  }
  if (strings.empty() || !strings[0].empty()) return Malformed("string_table[0] must be \"\"");
  auto str = [&](uint64_t i, std::string_view* s) {
    if (i >= strings.size()) return false;
    *s = strings[i];
    return true;
  };

  // ---- functions ----
  std::unordered_map<uint64_t, Function> funcs;
  funcs.reserve(functions.size());
  for (std::string_view m : functions) {
    Reader r(m);
    uint64_t id = 0;
    Function fn;
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("bad function");
      bool ok = f == 1 ? Int(&r, t, &id) : f == 2 ? Int(&r, t, &fn.name) : f == 4 ? Int(&r, t, &fn.filename) : r.Skip(t);
      if (!ok) return Malformed("bad function");
    }
    std::string_view s;
    if (id == 0) return Malformed("function with id 0");
    if (!str(fn.name, &s) || !str(fn.filename, &s))
      return Malformed("function " + std::to_string(id) + ": string index out of range");
    if (!funcs.emplace(id, fn).second) return Malformed("duplicate function id " + std::to_string(id));
  }

  // ---- locations: their "<function> <file>:<line>" strings, built once ----
  std::vector<std::string> line_text;
  std::unordered_map<uint64_t, Location> locs;
  locs.reserve(locations.size());
  size_t text_bytes = 0;
  for (std::string_view m : locations) {
    Reader r(m);
    uint64_t id = 0;
    Location loc;
    loc.first_line = static_cast<uint32_t>(line_text.size());
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("bad location");
      if (f == 1) {
        if (!Int(&r, t, &id)) return Malformed("bad location id");
      } else if (f == 4) {
        std::string_view lm;
        if (t != protowire::kLen || !r.Bytes(&lm)) return Malformed("truncated location line");
        Reader lr(lm);
        Line ln;
        uint64_t v;
        while (!lr.done()) {
          uint32_t lf;
          WireType lt;
          if (!lr.Next(&lf, &lt)) return Malformed("bad line");
          if (lf == 1) {
            if (!Int(&lr, lt, &ln.function_id)) return Malformed("bad line");
          } else if (lf == 2) {
            if (!Int(&lr, lt, &v)) return Malformed("bad line");
            ln.line = static_cast<int64_t>(v);
          } else if (!lr.Skip(lt)) {
            return Malformed("bad line");
          }
        }
        if (ln.function_id == 0) continue;  // no function: not part of the stack (as Coroot)
        auto fit = funcs.find(ln.function_id);
        if (fit == funcs.end()) return Malformed("line refers to unknown function id " + std::to_string(ln.function_id));
        if (++loc.lines > lim.max_lines_per_location)
          return InvalidArgument("pprof: a location has more than " + std::to_string(lim.max_lines_per_location) + " lines");
        std::string text(strings[fit->second.name]);
        text += ' ';
        text.append(strings[fit->second.filename]);
        text += ':';
        text += std::to_string(ln.line);
        text_bytes += text.size();
        if (text_bytes > lim.max_output_bytes) return InvalidArgument("pprof: stack lines exceed the output limit");
        line_text.push_back(std::move(text));
      } else if (!r.Skip(t)) {
        return Malformed("bad location");
      }
    }
    if (id == 0) return Malformed("location with id 0");
    if (!locs.emplace(id, loc).second) return Malformed("duplicate location id " + std::to_string(id));
  }

  // ---- types ----
  std::vector<std::string> type_names(sample_types.size());
  size_t kept_types = 0;
  for (size_t i = 0; i < sample_types.size(); ++i) {
    std::string_view ty, unit;
    if (!str(sample_types[i].type, &ty) || !str(sample_types[i].unit, &unit))
      return Malformed("sample_type " + std::to_string(i) + ": string index out of range");
    if (ty.empty()) continue;
    type_names[i] = TypeName(ty, unit);
    kept_types++;
  }
  if (kept_types * samples.size() > lim.max_rows)
    return InvalidArgument("pprof: " + std::to_string(kept_types * samples.size()) + " rows exceed the limit of " +
                           std::to_string(lim.max_rows));

  const int64_t end = time_nanos != 0 ? static_cast<int64_t>(time_nanos) : now_ns;
  const int64_t dur = static_cast<int64_t>(duration_nanos);
  const int64_t start = dur > 0 && dur < end ? end - dur : end;
  size_t label_bytes = 0;
  for (const auto& [k, v] : labels) label_bytes += k.size() + v.size();

  // ---- samples ----
  Result res;
  res.sample_types = kept_types;
  std::vector<uint64_t> loc_ids;
  std::vector<uint64_t> values;
  std::vector<std::string_view> stack;
  std::unordered_map<uint64_t, bool> seen_stacks;
  size_t out_bytes = text_bytes;
  for (std::string_view m : samples) {
    loc_ids.clear();
    values.clear();
    Reader r(m);
    while (!r.done()) {
      uint32_t f;
      WireType t;
      if (!r.Next(&f, &t)) return Malformed("bad sample");
      bool ok = f == 1   ? ReadInts(&r, t, &loc_ids, lim.max_stack_depth)
                : f == 2 ? ReadInts(&r, t, &values, lim.max_sample_types)
                         : r.Skip(t);
      if (!ok) {
        if (loc_ids.size() >= lim.max_stack_depth)
          return InvalidArgument("pprof: a sample has more than " + std::to_string(lim.max_stack_depth) + " locations");
        return Malformed("bad sample");
      }
    }
    if (values.size() != sample_types.size())
      return Malformed("a sample has " + std::to_string(values.size()) + " values for " +
                       std::to_string(sample_types.size()) + " sample types");
    stack.clear();
    for (uint64_t id : loc_ids) {
      auto it = locs.find(id);
      if (it == locs.end()) return Malformed("sample refers to unknown location id " + std::to_string(id));
      for (uint32_t l = 0; l < it->second.lines; ++l) stack.push_back(line_text[it->second.first_line + l]);
    }
    if (stack.size() > lim.max_stack_depth)
      return InvalidArgument("pprof: a stack has more than " + std::to_string(lim.max_stack_depth) + " lines");
    const uint64_t hash = StackHash(stack);
    bool used = false;
    for (size_t i = 0; i < sample_types.size(); ++i) {
      if (type_names[i].empty()) continue;
      int64_t v = static_cast<int64_t>(values[i]);
      if (v == 0) {
        res.zero_values++;
        continue;
      }
      used = true;
      out->service_name.Add(service_name);
      out->type.Add(type_names[i]);
      out->start.push_back(start);
      out->end.push_back(end);
      for (const auto& [k, lv] : labels) out->labels.Put(k, lv);
      out->labels.EndRow();
      out->stack_hash.push_back(hash);
      out->value.push_back(v);
      res.rows++;
      out_bytes += label_bytes + 48;
    }
    if (out_bytes > lim.max_output_bytes) return InvalidArgument("pprof: the decoded rows exceed the output limit");
    if (!used) continue;
    if (!seen_stacks.emplace(hash, true).second) continue;  // already in the batch from this profile
    res.stacks++;
    if (out->HasStack(service_name, hash, end)) continue;
    for (auto l : stack) out->AddStackLine(l);
    out->EndStack(service_name, hash, end);
  }
  return res;
}

}  // namespace coroot::server::pprof
