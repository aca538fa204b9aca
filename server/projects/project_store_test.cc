#include "server/projects/project_store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace coroot::server {
namespace {

std::string TempDb() {
  auto p = std::filesystem::temp_directory_path() / ("projects_" + std::to_string(::getpid()) + "_" +
                                                     std::to_string(rand()) + ".sqlite");
  std::filesystem::remove(p);
  return p;
}

TEST(ProjectStore, BootstrapAndDefaultKey) {
  std::string path = TempDb();
  {
    auto store = ProjectStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->FindByApiKey("").status().code(), StatusCode::kNotFound);  // no project yet
    ASSERT_TRUE((*store)->Bootstrap("http://127.0.0.1:9090/", "").ok());
    auto p = (*store)->FindByApiKey("");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->name, "default");
    EXPECT_EQ(p->id.size(), 8u);
    EXPECT_EQ(p->EffectiveRemoteWriteUrl(), "http://127.0.0.1:9090/api/v1/write");
    EXPECT_EQ((*store)->FindByApiKey("nope").status().message(), "project not found");
  }
  // Reopened: the project and its auto-added default key persist.
  auto store = ProjectStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto all = (*store)->List();
  ASSERT_EQ(all.size(), 1u);
  ASSERT_EQ(all[0].api_keys.size(), 1u);
  EXPECT_EQ(all[0].api_keys[0].key, kDefaultApiKey);
  EXPECT_TRUE((*store)->FindByApiKey(kDefaultApiKey).ok());
  std::filesystem::remove(path);
}

TEST(ProjectStore, KeysResolveToTheirProject) {
  std::string path = TempDb();
  auto store = ProjectStore::Open(path);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Save({"p1", "staging", "http://a:9090", "http://rw/api/v1/write", {{"k-staging", "x"}}}).ok());
  ASSERT_TRUE((*store)->Save({"p2", "prod", "http://b:9090", "", {{"k-prod", "\"quoted\""}}}).ok());
  EXPECT_EQ((*store)->FindByApiKey("k-prod")->id, "p2");
  EXPECT_EQ((*store)->FindByApiKey("k-staging")->EffectiveRemoteWriteUrl(), "http://rw/api/v1/write");
  // Two projects, none named default: an empty key belongs to nobody.
  EXPECT_FALSE((*store)->FindByApiKey("").ok());
  auto reopened = ProjectStore::Open(path);
  EXPECT_EQ((*reopened)->FindByApiKey("k-prod")->api_keys[0].description, "\"quoted\"");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace coroot::server
