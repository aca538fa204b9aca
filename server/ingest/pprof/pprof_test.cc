// pprof → profiling rows, field by field, with profiles built by the generated protobuf classes.
#include "server/ingest/pprof/pprof.h"

#include <gtest/gtest.h>

#include "lib/compress/compress.h"
#include "pprof/profile.pb.h"

namespace coroot::server::pprof {
namespace {

using perftools::profiles::Profile;
using storage::ProfileBatch;

// A builder over the generated classes: strings interned, ids 1-based.
struct P {
  Profile p;
  std::map<std::string, int64_t> strs;
  P() { S(""); }
  int64_t S(const std::string& s) {
    auto it = strs.find(s);
    if (it != strs.end()) return it->second;
    p.add_string_table(s);
    return strs[s] = p.string_table_size() - 1;
  }
  void Type(const std::string& t, const std::string& u) {
    auto* vt = p.add_sample_type();
    vt->set_type(S(t));
    vt->set_unit(S(u));
  }
  uint64_t Func(const std::string& name, const std::string& file) {
    auto* f = p.add_function();
    f->set_id(p.function_size());
    f->set_name(S(name));
    f->set_filename(S(file));
    return f->id();
  }
  // A location with lines (function id, line), innermost first.
  uint64_t Loc(std::vector<std::pair<uint64_t, int64_t>> lines) {
    auto* l = p.add_location();
    l->set_id(p.location_size() + 100);  // ids need not be dense nor start at 1
    for (auto [f, n] : lines) {
      auto* ln = l->add_line();
      ln->set_function_id(f);
      ln->set_line(n);
    }
    return l->id();
  }
  void Sample(std::vector<uint64_t> locs, std::vector<int64_t> values) {
    auto* s = p.add_sample();
    for (auto l : locs) s->add_location_id(l);
    for (auto v : values) s->add_value(v);
  }
  std::string Bytes() const { return p.SerializeAsString(); }
};

uint64_t Fnv(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::vector<std::string> StackOf(const ProfileBatch& b, size_t i) {
  std::vector<std::string> out;
  for (size_t l = b.stack.begin(i); l < b.stack.end(i); ++l) out.emplace_back(b.lines[l]);
  return out;
}

TEST(Pprof, StackHashIsFnv1a64OverTheConcatenatedLines) {
  // Published FNV-1a 64 vectors.
  EXPECT_EQ(StackHash(std::vector<std::string>{}), 0xcbf29ce484222325ull);
  EXPECT_EQ(StackHash(std::vector<std::string>{"a"}), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(StackHash(std::vector<std::string>{"foobar"}), 0x85944171f73967e8ull);
  // No separator between lines (as Coroot's StackHash).
  EXPECT_EQ(StackHash(std::vector<std::string>{"foo", "bar"}), 0x85944171f73967e8ull);
  EXPECT_EQ(StackHash(std::vector<std::string>{"main.f a.go:1", "main.main a.go:9"}),
            Fnv("main.f a.go:1main.main a.go:9"));
}

TEST(Pprof, TypeNames) {
  EXPECT_EQ(TypeName("ebpf:cpu:nanoseconds", "nanoseconds"), "ebpf:cpu:nanoseconds");
  EXPECT_EQ(TypeName("go:heap_alloc_space:bytes", "bytes"), "go:heap_alloc_space:bytes");
  EXPECT_EQ(TypeName("cpu", "nanoseconds"), "cpu:nanoseconds");
  EXPECT_EQ(TypeName("samples", ""), "samples");
}

TEST(Pprof, RowsFieldByField) {
  P b;
  b.Type("ebpf:cpu:nanoseconds", "nanoseconds");
  b.Type("samples", "count");
  b.Type("", "ignored");  // an empty type is skipped
  auto fmain = b.Func("main.main", "/src/main.go");
  auto fwork = b.Func("main.work", "/src/work.go");
  auto finl = b.Func("main.inlined", "/src/work.go");
  auto lmain = b.Loc({{fmain, 10}});
  auto lwork = b.Loc({{finl, 7}, {fwork, 21}, {0, 99}});  // inlined frame first; no-function line dropped
  b.Sample({lwork, lmain}, {3000, 3, 42});
  b.Sample({lmain}, {0, 1, 0});  // zero CPU value: no cpu row
  b.Sample({lwork, lmain}, {1000, 1, 0});  // same stack again
  b.p.set_time_nanos(1'700'000'060'000'000'000);
  b.p.set_duration_nanos(60'000'000'000);

  ProfileBatch out;
  auto r = Decode(b.Bytes(), "/k8s/shop/checkout", {{"container.id", "/k8s/shop/c/app"}, {"host.name", "n1"}},
                  Limits(), 5, &out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 5u);
  EXPECT_EQ(r->stacks, 2u);
  EXPECT_EQ(r->sample_types, 2u);
  EXPECT_EQ(r->zero_values, 1u);
  ASSERT_EQ(out.rows(), 5u);
  ASSERT_TRUE(out.Consistent());
  const std::vector<std::string> deep = {"main.inlined /src/work.go:7", "main.work /src/work.go:21",
                                         "main.main /src/main.go:10"};
  const std::vector<std::string> shallow = {"main.main /src/main.go:10"};
  const uint64_t hdeep = Fnv(deep[0] + deep[1] + deep[2]), hshallow = Fnv(shallow[0]);
  struct Row {
    const char* type;
    uint64_t hash;
    int64_t value;
  };
  std::vector<Row> want = {{"ebpf:cpu:nanoseconds", hdeep, 3000},
                           {"samples:count", hdeep, 3},
                           {"samples:count", hshallow, 1},
                           {"ebpf:cpu:nanoseconds", hdeep, 1000},
                           {"samples:count", hdeep, 1}};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(out.service_name[i], "/k8s/shop/checkout");
    EXPECT_EQ(out.type[i], want[i].type);
    EXPECT_EQ(out.stack_hash[i], want[i].hash);
    EXPECT_EQ(out.value[i], want[i].value);
    EXPECT_EQ(out.start[i], 1'700'000'000'000'000'000);
    EXPECT_EQ(out.end[i], 1'700'000'060'000'000'000);
    ASSERT_EQ(out.labels.rows.end(i) - out.labels.rows.begin(i), 2u);
    EXPECT_EQ(out.labels.keys[out.labels.rows.begin(i)], "container.id");
    EXPECT_EQ(out.labels.values[out.labels.rows.begin(i)], "/k8s/shop/c/app");
    EXPECT_EQ(out.labels.keys[out.labels.rows.begin(i) + 1], "host.name");
    EXPECT_EQ(out.labels.values[out.labels.rows.begin(i) + 1], "n1");
  }
  // Stacks: distinct, leaf first, LastSeen = End.
  ASSERT_EQ(out.stacks(), 2u);
  EXPECT_EQ(out.hash[0], hdeep);
  EXPECT_EQ(StackOf(out, 0), deep);
  EXPECT_EQ(out.hash[1], hshallow);
  EXPECT_EQ(StackOf(out, 1), shallow);
  EXPECT_EQ(out.stack_service[0], "/k8s/shop/checkout");
  EXPECT_EQ(out.last_seen[0], 1'700'000'060'000'000'000);

  // Gzip-compressed: the same rows. A second profile into the same batch dedups its stacks.
  ProfileBatch gz;
  auto r2 = Decode(compress::ZlibCompress(b.Bytes(), compress::ZlibFormat::kGzip), "/k8s/shop/checkout",
                   {{"container.id", "/k8s/shop/c/app"}, {"host.name", "n1"}}, Limits(), 5, &gz);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(gz.rows(), 5u);
  b.p.set_time_nanos(1'700'000'120'000'000'000);
  ProfileBatch later;
  ASSERT_TRUE(Decode(b.Bytes(), "/k8s/shop/checkout", {}, Limits(), 5, &later).ok());
  gz.Append(later);
  EXPECT_EQ(gz.rows(), 10u);
  EXPECT_EQ(gz.stacks(), 2u);
  EXPECT_EQ(gz.last_seen[0], 1'700'000'120'000'000'000);  // moved forward
  EXPECT_TRUE(gz.Consistent());
  // Another service keeps its own stacks.
  ProfileBatch other;
  ASSERT_TRUE(Decode(b.Bytes(), "other", {}, Limits(), 5, &other).ok());
  gz.Append(other);
  EXPECT_EQ(gz.stacks(), 4u);
}

TEST(Pprof, NoTimeUsesNowAndNegativeValuesAreKept) {
  P b;
  b.Type("go:heap_inuse_space:bytes", "bytes");
  auto f = b.Func("f", "f.go");
  b.Sample({b.Loc({{f, 1}})}, {-4096});
  ProfileBatch out;
  auto r = Decode(b.Bytes(), "s", {}, Limits(), 777, &out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(out.rows(), 1u);
  EXPECT_EQ(out.start[0], 777);
  EXPECT_EQ(out.end[0], 777);
  EXPECT_EQ(out.value[0], -4096);
  EXPECT_EQ(out.type[0], "go:heap_inuse_space:bytes");
}

TEST(Pprof, NonPackedRepeatedFieldsAreRead) {
  // Sample{location_id: 5 (unpacked), value: 9 (unpacked)} written by hand.
  P b;
  b.Type("cpu", "nanoseconds");
  auto f = b.Func("g", "g.go");
  auto* l = b.p.add_location();
  l->set_id(5);
  l->add_line()->set_function_id(f);
  std::string body = b.Bytes();
  body += std::string("\x12\x04\x08\x05\x10\x09", 6);
  ProfileBatch out;
  auto r = Decode(body, "s", {}, Limits(), 1, &out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(out.rows(), 1u);
  EXPECT_EQ(out.value[0], 9);
  EXPECT_EQ(StackOf(out, 0), std::vector<std::string>{"g g.go:0"});
}

Status DecodeErr(const std::string& body, Limits lim = Limits()) {
  ProfileBatch out;
  auto r = Decode(body, "s", {}, lim, 1, &out);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(Pprof, HostileInputIsRefusedWithAReason) {
  P b;
  b.Type("cpu", "nanoseconds");
  auto f = b.Func("f", "f.go");
  auto loc = b.Loc({{f, 3}});
  b.Sample({loc}, {10});
  const std::string good = b.Bytes();
  ASSERT_TRUE(DecodeErr(good).ok());
  // Truncated at every length: an error or a shorter valid profile, never a crash.
  for (size_t n = 0; n < good.size(); ++n) (void)DecodeErr(good.substr(0, n));
  EXPECT_EQ(DecodeErr(good.substr(0, good.size() - 1)).code(), StatusCode::kInvalidArgument);
  // Unknown location / function ids and string indexes past the table.
  {
    P x = b;
    x.p.mutable_sample(0)->set_location_id(0, 9999);
    Status st = DecodeErr(x.Bytes());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("unknown location id 9999"), std::string::npos) << st.message();
  }
  {
    P x = b;
    x.p.mutable_location(0)->mutable_line(0)->set_function_id(77);
    EXPECT_NE(DecodeErr(x.Bytes()).message().find("unknown function id 77"), std::string::npos);
  }
  {
    P x = b;
    x.p.mutable_function(0)->set_name(1000);
    EXPECT_NE(DecodeErr(x.Bytes()).message().find("string index out of range"), std::string::npos);
    P y = b;
    y.p.mutable_sample_type(0)->set_type(-1);
    EXPECT_NE(DecodeErr(y.Bytes()).message().find("string index out of range"), std::string::npos);
  }
  {
    P x = b;
    x.p.mutable_sample(0)->add_value(1);  // 2 values, 1 type
    EXPECT_NE(DecodeErr(x.Bytes()).message().find("2 values for 1 sample types"), std::string::npos);
    P y = b;
    y.p.set_string_table(0, "x");
    EXPECT_NE(DecodeErr(y.Bytes()).message().find("string_table[0]"), std::string::npos);
    P z = b;
    z.p.mutable_function(0)->set_id(0);
    EXPECT_NE(DecodeErr(z.Bytes()).message().find("id 0"), std::string::npos);
  }
  // Limits.
  {
    Limits lim;
    lim.max_strings = 3;
    EXPECT_NE(DecodeErr(good, lim).message().find("more than 3 strings"), std::string::npos);
    lim = Limits();
    lim.max_samples = 0;
    EXPECT_NE(DecodeErr(good, lim).message().find("more than 0 samples"), std::string::npos);
    P deep = b;
    for (int i = 0; i < 20; ++i) deep.p.mutable_sample(0)->add_location_id(loc);
    lim = Limits();
    lim.max_stack_depth = 8;
    EXPECT_NE(DecodeErr(deep.Bytes(), lim).message().find("more than 8"), std::string::npos);
  }
  // A gzip bomb: past the decompressed limit → kResourceExhausted; corrupt gzip → kInvalidArgument.
  Limits small;
  small.max_decompressed_bytes = 1u << 20;
  std::string bomb = compress::ZlibCompress(std::string(16u << 20, '\0'), compress::ZlibFormat::kGzip, 9);
  EXPECT_EQ(DecodeErr(bomb, small).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(DecodeErr(std::string("\x1f\x8b garbage", 10)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeErr("").code(), StatusCode::kInvalidArgument);  // no string table
}

}  // namespace
}  // namespace coroot::server::pprof
