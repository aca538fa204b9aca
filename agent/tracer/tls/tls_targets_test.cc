// TLS probe discovery on real files: Debian's libssl.so.3, Go binaries built here (with and
// without a symbol table), and live processes (openssl s_server, the Go client). Every address
// is checked against an independent tool: readelf for symbols, `go tool objdump` for RETs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "agent/tracer/tls/elf_image.h"
#include "agent/tracer/tls/go_binary.h"
#include "agent/tracer/tls/go_pclntab.h"
#include "agent/tracer/tls/tls_instrumenter.h"
#include "agent/tracer/tls/tls_targets.h"
#include "lib/base/file.h"
#include "lib/testing/go_build.h"
#include "lib/testing/process.h"

namespace coroot::agent::tracer::tls {
namespace {

using namespace std::chrono_literals;
const char* kLibssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3";

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// The Go client, built once for every test in this file.
class GoBinaries : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = coroot::testing::MakeTempDir("coroot_tls");
    const std::string src = coroot::testing::SourcePath("agent/tracer/tls/testdata/go_https_client.go");
    Status a = coroot::testing::BuildGoProgram(src, dir_ + "/client");
    Status b = coroot::testing::BuildGoProgram(src, dir_ + "/client_stripped", {"-ldflags=-s -w"});
    build_error_ = !a.ok() ? a.message() : !b.ok() ? b.message() : "";
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  void SetUp() override { ASSERT_EQ(build_error_, ""); }
  static std::string dir_, build_error_;
};
std::string GoBinaries::dir_, GoBinaries::build_error_;

TEST(ElfImage, LibsslSymbolsMatchReadelf) {
  auto file = MappedFile::Open(kLibssl);
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto elf = ElfImage::Parse(file->bytes());
  ASSERT_TRUE(elf.ok()) << elf.status().message();
  // readelf: "   Num:    Value          Size Type    Bind   Vis      Ndx Name"
  const std::string table = Shell(std::string("readelf -W --dyn-syms ") + kLibssl);
  for (const char* fn : {"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex"}) {
    std::smatch m;
    std::regex row(std::string(R"(\s+\d+: ([0-9a-f]+)\s+(\d+) FUNC\s+\S+\s+\S+\s+\d+ )") + fn + "@");
    ASSERT_TRUE(std::regex_search(table, m, row)) << fn << " not in readelf's output";
    auto sym = elf->FindFunction(fn);
    ASSERT_TRUE(sym.has_value()) << fn;
    EXPECT_EQ(sym->value, std::stoull(m[1], nullptr, 16)) << fn;
    EXPECT_EQ(sym->size, std::stoull(m[2])) << fn;
    // The file offset holds the bytes objdump disassembles at the function's address.
    auto off = elf->FileOffset(sym->value);
    ASSERT_TRUE(off.has_value());
    char range[96];
    snprintf(range, sizeof range, " --start-address=0x%lx --stop-address=0x%lx ", sym->value, sym->value + 4);
    const std::string dis = Shell(std::string("objdump -d") + range + kLibssl);
    std::smatch first;  // "   2c0e0:\t48 83 ec 18          \tsub ..."
    ASSERT_TRUE(std::regex_search(dis, first, std::regex(R"(\n\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+))"))) << dis;
    std::string expected_hex = first[1];
    std::string got_hex;
    for (size_t i = 0; i * 3 < expected_hex.size(); ++i) {
      snprintf(range, sizeof range, "%02x ", static_cast<uint8_t>(file->bytes()[*off + i]));
      got_hex += range;
    }
    // An agent running on this node with its OpenSSL uprobes attached has an int3 (0xcc) at the
    // function's first byte of every mapping of libssl, ours included (the file is mapped here),
    // while objdump read()s the original: the byte after it must still match.
    if (got_hex.rfind("cc ", 0) == 0 && expected_hex.rfind("cc ", 0) != 0) got_hex.replace(0, 2, expected_hex, 0, 2);
    EXPECT_EQ(got_hex, expected_hex) << fn;
  }
  EXPECT_FALSE(elf->FindFunction("no_such_function").has_value());
}

TEST(ElfImage, MalformedInputIsAnErrorNotACrash) {
  auto file = MappedFile::Open(kLibssl);
  ASSERT_TRUE(file.ok());
  std::string_view all = file->bytes();
  EXPECT_FALSE(ElfImage::Parse("").ok());
  EXPECT_FALSE(ElfImage::Parse("#!/bin/sh\necho hi\n").ok());
  EXPECT_FALSE(ElfImage::Parse(all.substr(0, 40)).ok());  // cut inside the ELF header
  // Cut anywhere: either a clear error, or an image whose lookups stay inside the bytes given.
  for (size_t cut : {size_t(64), size_t(4096), all.size() / 2, all.size() - 1}) {
    auto elf = ElfImage::Parse(all.substr(0, cut));
    if (!elf.ok()) continue;
    for (const auto& s : elf->sections()) {  // every view stays inside the bytes given
      std::string_view d = elf->SectionData(s);
      if (!d.empty()) {
        EXPECT_LE(d.data() + d.size(), all.data() + cut);
      }
    }
    elf->ForEachFunction([](const ElfSymbol&) { return true; });
  }
  // Section headers claiming more sections than the file can hold.
  std::string bogus(all.substr(0, 64));
  bogus[60] = '\xff';
  bogus[61] = '\xff';
  EXPECT_FALSE(ElfImage::Parse(bogus).ok());
  EXPECT_FALSE(MappedFile::Open("/nonexistent/libssl.so").ok());
  EXPECT_FALSE(MappedFile::Open("/proc/self").ok());
}

TEST(MappedFiles, ParsesMapsAndSkipsWhatIsNotAFile) {
  auto text = ReadFile(TLS_TESTDATA_DIR "/maps_sample.txt");
  ASSERT_TRUE(text.ok());
  size_t malformed = 0;
  auto files = ParseMappedFiles(*text, &malformed);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path, "/usr/bin/openssl");
  EXPECT_EQ(files[1].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");  // two mappings, listed once
  EXPECT_EQ(files[1].inode, 2244u);
  EXPECT_EQ(files[1].dev, makedev(0xfd, 0x01));
  EXPECT_EQ(files[2].path, "/opt/app/lib with space/libssl.so.1.1");
  EXPECT_EQ(malformed, 1u);  // the bad device; the "garbage" line has no path at all
}

TEST_F(GoBinaries, BuildVersionAndReadReturnsMatchGoTools) {
  auto file = MappedFile::Open(dir_ + "/client");
  ASSERT_TRUE(file.ok());
  auto elf = ElfImage::Parse(file->bytes());
  ASSERT_TRUE(elf.ok());
  // `go version <binary>` reads the same build info: "<path>: go1.26.8".
  const std::string go_says = Shell(coroot::testing::FindGoToolchain() + " version " + dir_ + "/client");
  auto version = GoBuildVersion(*elf);
  ASSERT_TRUE(version.has_value());
  EXPECT_NE(go_says.find(": " + *version + "\n"), std::string::npos) << go_says << " vs " << *version;
  int major = 0, minor = 0;
  ASSERT_TRUE(ParseGoVersion(*version, &major, &minor));
  EXPECT_GE(major * 100 + minor, 117);

  auto probes = FindGoTlsProbes(*elf);
  ASSERT_TRUE(probes.ok()) << probes.status().message();
  // go tool objdump prints "  file.go:LINE  0xADDR  BYTES  RET" for each RET of the function.
  const std::string dump = Shell(coroot::testing::FindGoToolchain() + " tool objdump -s '^crypto/tls.\\(\\*Conn\\).Read$' " +
                               dir_ + "/client");
  std::set<uint64_t> expected;
  std::regex ret_line(R"(\s(0x[0-9a-f]+)\s+[0-9a-f]+\s+RET\b)");
  for (auto it = std::sregex_iterator(dump.begin(), dump.end(), ret_line); it != std::sregex_iterator(); ++it)
    expected.insert(*elf->FileOffset(std::stoull((*it)[1], nullptr, 16)));
  ASSERT_FALSE(expected.empty()) << dump.substr(0, 2000);
  EXPECT_EQ(std::set<uint64_t>(probes->read_returns.begin(), probes->read_returns.end()), expected);
  // Entry offsets agree with the symbol table as `go tool nm` prints it.
  const std::string nm = Shell(coroot::testing::FindGoToolchain() + " tool nm " + dir_ + "/client");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(nm, m, std::regex(R"(\s*([0-9a-f]+) T crypto/tls\.\(\*Conn\)\.Write\n)")));
  EXPECT_EQ(probes->write_entry, *elf->FileOffset(std::stoull(m[1], nullptr, 16)));
}

TEST_F(GoBinaries, StrippedBinaryFoundThroughPclntab) {
  auto full_file = MappedFile::Open(dir_ + "/client"), stripped_file = MappedFile::Open(dir_ + "/client_stripped");
  ASSERT_TRUE(full_file.ok() && stripped_file.ok());
  auto full = ElfImage::Parse(full_file->bytes()), stripped = ElfImage::Parse(stripped_file->bytes());
  ASSERT_TRUE(full.ok() && stripped.ok());
  EXPECT_FALSE(stripped->FindFunction("crypto/tls.(*Conn).Read").has_value());  // really stripped
  EXPECT_TRUE(GoBuildVersion(*stripped).has_value());                           // build info survives -s -w
  // The runtime's table agrees with the symbol table, function by function.
  for (const char* fn : {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write", "main.main", "runtime.main", "crypto/tls.(*Conn).readRecordOrCCS"}) {
    auto sym = full->FindFunction(fn);
    auto pcln = FindGoFunction(*full, fn);
    ASSERT_TRUE(sym.has_value() && pcln.has_value()) << fn;
    EXPECT_EQ(pcln->value, sym->value) << fn;
    EXPECT_LE(sym->size, pcln->size) << fn;  // pclntab's size runs to the next function (padding)
  }
  EXPECT_FALSE(FindGoFunction(*full, "crypto/tls.(*Conn).NoSuchMethod").has_value());
  // -s -w drops symbols, not code: the stripped binary's probes are where the full one's are.
  auto a = FindGoTlsProbes(*full), b = FindGoTlsProbes(*stripped);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->write_entry, a->write_entry);
  EXPECT_EQ(b->read_entry, a->read_entry);
  EXPECT_EQ(b->read_returns, a->read_returns);
}

TEST(GoPclntab, NotAGoBinary) {
  auto file = MappedFile::Open(kLibssl);
  ASSERT_TRUE(file.ok());
  auto elf = ElfImage::Parse(file->bytes());
  ASSERT_TRUE(elf.ok());
  EXPECT_FALSE(FindGoFunction(*elf, "SSL_write").has_value());
}

TEST(GoVersion, Parse) {
  int major = 0, minor = 0;
  EXPECT_TRUE(ParseGoVersion("go1.21.5", &major, &minor));
  EXPECT_EQ(major, 1);
  EXPECT_EQ(minor, 21);
  EXPECT_TRUE(ParseGoVersion("go1.22rc1", &major, &minor));
  EXPECT_EQ(minor, 22);
  EXPECT_FALSE(ParseGoVersion("devel go1.23-abc", &major, &minor));
  EXPECT_FALSE(ParseGoVersion("go", &major, &minor));
  EXPECT_FALSE(ParseGoVersion("go1", &major, &minor));
}

TEST(ReturnInstructions, DecodedNotByteScanned) {
  // mov eax, 0xc3c3c3c3 (b8 c3 c3 c3 c3); ret (c3); int3 padding; ret imm16 (c2 08 00)
  std::string code("\xb8\xc3\xc3\xc3\xc3\xc3\xcc\xcc\xc2\x08\x00", 11);
  auto rets = FindReturnInstructions(code, 0x1000);
  ASSERT_TRUE(rets.ok());
  EXPECT_EQ(*rets, (std::vector<uint64_t>{0x1005, 0x1008}));
}

TEST_F(GoBinaries, LiveProcessesGetProbesOncePerFile) {
  const std::string dir = coroot::testing::MakeTempDir("coroot_tls_live");
  ASSERT_EQ(system(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout " + dir +
                    "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1")
                       .c_str()),
            0);
  const int port = coroot::testing::FreePort();
  auto server = [&](const std::string& log) {
    return std::make_unique<coroot::testing::ChildProcess>(
        std::vector<std::string>{"openssl", "s_server", "-quiet", "-www", "-accept", "127.0.0.1:" + std::to_string(port),
                                 "-cert", dir + "/cert.pem", "-key", dir + "/key.pem"},
        dir + "/" + log);
  };
  auto s1 = server("s1.log");
  ASSERT_TRUE(coroot::testing::WaitFor(
      [&] { return Shell("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:" + std::to_string(port) + "/") == "200"; },
      10s))
      << s1->Log();
  coroot::testing::ChildProcess go({dir_ + "/client", "https://127.0.0.1:" + std::to_string(port) + "/", "3", "0", "30"},
                                   dir + "/go.log");
  ASSERT_TRUE(coroot::testing::WaitFor([&] { return go.Log().find("responses: 3") != std::string::npos; }, 20s))
      << go.Log();

  // The kernel side is the bpf test's business; here the attacher records what it is asked.
  struct Recorder : IUprobeAttacher {
    std::multiset<std::string> calls;  // "program path offset ret"
    std::set<std::string> files;
    Status Attach(const std::string& program, const std::string& path, uint64_t offset, bool ret) override {
      calls.insert(program + (ret ? " ret" : ""));
      files.insert(path);
      EXPECT_GT(offset, 0u);
      return Status::Ok();
    }
  } recorder;

  // Too young for the delay: nothing is looked at.
  TlsInstrumenter patient(&recorder, {.delay = std::chrono::seconds(3600)});
  patient.OnProcess(s1->pid());
  patient.Poll(TlsInstrumenter::Clock::now());
  EXPECT_EQ(patient.stats().processes_inspected, 0u);
  EXPECT_TRUE(recorder.calls.empty());

  TlsInstrumenter inst(&recorder, {.delay = std::chrono::seconds(0)});
  inst.OnProcess(s1->pid());
  inst.OnProcess(go.pid());
  inst.Poll(TlsInstrumenter::Clock::now());
  EXPECT_EQ(inst.stats().processes_inspected, 2u);
  EXPECT_EQ(inst.stats().files_attached, 2u) << ::testing::PrintToString(inst.problems());
  EXPECT_EQ(inst.stats().attach_errors, 0u);
  // openssl: SSL_write and SSL_write_ex share programs; every function has an entry and a return.
  EXPECT_EQ(recorder.calls.count("coroot_openssl_write_enter"), 2u);
  EXPECT_EQ(recorder.calls.count("coroot_openssl_write_exit ret"), 2u);
  EXPECT_EQ(recorder.calls.count("coroot_openssl_read_enter"), 1u);
  EXPECT_EQ(recorder.calls.count("coroot_openssl_read_exit ret"), 1u);
  EXPECT_EQ(recorder.calls.count("coroot_openssl_read_ex_enter"), 1u);
  EXPECT_EQ(recorder.calls.count("coroot_openssl_read_ex_exit ret"), 1u);
  EXPECT_EQ(recorder.calls.count("coroot_go_tls_write_enter"), 1u);
  EXPECT_EQ(recorder.calls.count("coroot_go_tls_read_enter"), 1u);
  EXPECT_GE(recorder.calls.count("coroot_go_tls_read_exit"), 1u);
  // libssl through the server's root, the Go client's executable through /proc/<pid>/exe.
  EXPECT_EQ(recorder.files, (std::set<std::string>{"/proc/" + std::to_string(s1->pid()) + "/root" + kLibssl,
                                                   "/proc/" + std::to_string(go.pid()) + "/exe"}));
  const size_t probes = recorder.calls.size();
  EXPECT_EQ(inst.stats().probes_attached, probes);

  // A second openssl process maps the same libssl: nothing new to attach.
  s1->Stop();
  auto s2 = server("s2.log");
  ASSERT_TRUE(coroot::testing::WaitFor(
      [&] { return Shell("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:" + std::to_string(port) + "/") == "200"; },
      10s));
  inst.OnProcess(s2->pid());
  inst.Poll(TlsInstrumenter::Clock::now());
  EXPECT_EQ(inst.stats().processes_inspected, 3u);
  EXPECT_EQ(recorder.calls.size(), probes);

  // A process that is gone is dropped without a look.
  const pid_t gone = s2->pid();
  s2->Stop();
  inst.OnProcess(gone);
  inst.Poll(TlsInstrumenter::Clock::now() + std::chrono::seconds(10));
  EXPECT_EQ(inst.stats().processes_inspected, 4u);  // the Go client's retry, not the dead server
  go.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace coroot::agent::tracer::tls
