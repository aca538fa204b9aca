#include "lib/base/flags.h"

#include <gtest/gtest.h>

#include <map>

namespace coroot {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> fn() {
    return [this](const char* k) -> const char* {
      auto it = vars.find(k);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(ParseDuration, GoAndPrometheusSyntax) {
  EXPECT_EQ(ParseDuration("15s")->count(), 15000);
  EXPECT_EQ(ParseDuration("1m30s")->count(), 90000);
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("7d")->count(), 7 * 86400000LL);
  EXPECT_EQ(ParseDuration("30")->count(), 30000);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999999d").ok());
}

TEST(ParseByteSize, PowersOf1024) {
  EXPECT_EQ(*ParseByteSize("500MB"), 500ull << 20);
  EXPECT_EQ(*ParseByteSize("1GiB"), 1ull << 30);
  EXPECT_EQ(*ParseByteSize("64k"), 64ull << 10);
  EXPECT_EQ(*ParseByteSize("1024"), 1024ull);
  EXPECT_FALSE(ParseByteSize("MB").ok());
  EXPECT_FALSE(ParseByteSize("5 parsecs").ok());
}

TEST(FlagSet, CommandLineBeatsEnvBeatsDefault) {
  FlagSet fs("t");
  std::string listen, key;
  bool verbose;
  Duration interval;
  fs.String("listen", "LISTEN", &listen, ":8080", "");
  fs.String("api-key", "API_KEY", &key, "", "");
  fs.Bool("verbose", "VERBOSE", &verbose, false, "");
  fs.Dur("scrape-interval", "SCRAPE_INTERVAL", &interval, "15s", "");
  Env env;
  env.vars = {{"LISTEN", ":9999"}, {"API_KEY", "env-key"}, {"VERBOSE", "true"}};
  ASSERT_TRUE(fs.Parse({"--listen=127.0.0.1:1", "--scrape-interval", "5s"}, env.fn()).ok());
  EXPECT_EQ(listen, "127.0.0.1:1");
  EXPECT_EQ(key, "env-key");
  EXPECT_TRUE(verbose);
  EXPECT_EQ(interval.count(), 5000);
}

TEST(FlagSet, DefaultsAndNegatedBools) {
  FlagSet fs("t");
  bool skip;
  Duration ttl;
  uint64_t spool;
  fs.Bool("skip-systemd-system-services", "SKIP", &skip, true, "");
  fs.Dur("traces-ttl", "TRACES_TTL", &ttl, "7d", "");
  fs.Bytes("max-spool-size", "MAX_SPOOL_SIZE", &spool, "500MB", "");
  Env env;
  ASSERT_TRUE(fs.Parse({"--no-skip-systemd-system-services"}, env.fn()).ok());
  EXPECT_FALSE(skip);
  EXPECT_EQ(ttl.count(), 7 * 86400000LL);
  EXPECT_EQ(spool, 500ull << 20);
}

TEST(FlagSet, RepeatableFromArgsAndEnv) {
  FlagSet fs("t");
  std::vector<std::string> allow;
  fs.Strings("container-allowlist", "CONTAINER_ALLOWLIST", &allow, "");
  Env env;
  ASSERT_TRUE(fs.Parse({"--container-allowlist=a.*", "--container-allowlist", "b.*"}, env.fn()).ok());
  EXPECT_EQ(allow, (std::vector<std::string>{"a.*", "b.*"}));
  FlagSet fs2("t");
  fs2.Strings("container-allowlist", "CONTAINER_ALLOWLIST", &allow, "");
  env.vars["CONTAINER_ALLOWLIST"] = "x, y";
  ASSERT_TRUE(fs2.Parse({}, env.fn()).ok());
  EXPECT_EQ(allow, (std::vector<std::string>{"x", "y"}));
}

TEST(FlagSet, ClearErrors) {
  FlagSet fs("t");
  int64_t n;
  fs.Int("n", "N", &n, 1, "");
  Env env;
  auto st = fs.Parse({"--bogus"}, env.fn());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("--bogus"), std::string::npos);
  EXPECT_FALSE(fs.Parse({"--n=abc"}, env.fn()).ok());
  EXPECT_FALSE(fs.Parse({"--n"}, env.fn()).ok());
  env.vars["N"] = "zz";
  auto st2 = fs.Parse({}, env.fn());
  EXPECT_NE(st2.message().find("env N"), std::string::npos);
}

}  // namespace
}  // namespace coroot
