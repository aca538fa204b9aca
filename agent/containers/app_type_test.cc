#include "agent/containers/app_type.h"

#include <gtest/gtest.h>

#include <string>

namespace coroot::agent::containers {
namespace {

using namespace std::string_literals;

TEST(AppTypeTest, ByCommand) {
  EXPECT_EQ(GuessApplicationType("nginx: master process /usr/sbin/nginx\0"s, ""), "nginx");
  EXPECT_EQ(GuessApplicationType("/usr/sbin/mysqld\0--basedir=/usr\0"s, ""), "mysql");
  EXPECT_EQ(GuessApplicationType("/usr/sbin/mariadbd\0"s, ""), "mysql");
  EXPECT_EQ(GuessApplicationType("postgres: checkpointer\0"s, ""), "postgres");
  EXPECT_EQ(GuessApplicationType("/usr/bin/redis-server *:6379\0"s, ""), "redis");
  EXPECT_EQ(GuessApplicationType("/opt/coroot/coroot-node-agent\0--listen\0:80\0"s, ""), "coroot-node-agent");
  EXPECT_EQ(GuessApplicationType("/usr/bin/coroot\0"s, ""), "coroot-community-edition");
  EXPECT_EQ(GuessApplicationType("/usr/bin/java\0-cp\0x\0org.apache.catalina.startup.Bootstrap\0"s, ""), "tomcat");
  EXPECT_EQ(GuessApplicationType("/usr/bin/java\0-cp\0x\0kafka.Kafka\0"s, ""), "kafka");
  EXPECT_EQ(GuessApplicationType("/usr/bin/java\0-jar\0app.jar\0"s, ""), "java");
  EXPECT_EQ(GuessApplicationType("/usr/lib/erlang/erts/bin/beam.smp\0--\0-root\0rabbit\0"s, ""), "rabbitmq");
  EXPECT_EQ(GuessApplicationType("/vmstorage-prod\0"s, ""), "victoria-metrics");
  EXPECT_EQ(GuessApplicationType("/usr/bin/python3.11\0app.py\0"s, ""), "python");
  EXPECT_EQ(GuessApplicationType("php-fpm: pool www\0"s, ""), "");  // argv[0] is "php-fpm"
  EXPECT_EQ(GuessApplicationType("/usr/local/bin/php8.2\0"s, ""), "php");
  EXPECT_EQ(GuessApplicationType("node\0server.js\0"s, ""), "nodejs");
  EXPECT_EQ(GuessApplicationType("/usr/bin/ruby3.1\0"s, ""), "ruby");
}

TEST(AppTypeTest, ByExeWhenTheCommandSaysNothing) {
  EXPECT_EQ(GuessApplicationType("gunicorn: worker [app]\0"s, "/usr/bin/python3.11"), "python");
  EXPECT_EQ(GuessApplicationType("my-service\0"s, "/usr/local/bin/node"), "nodejs");
  EXPECT_EQ(GuessApplicationType("my-service\0"s, "/usr/bin/my-service"), "");
  EXPECT_EQ(GuessApplicationType("", ""), "");
  EXPECT_EQ(GuessApplicationType("\0\0"s, ""), "");
}

}  // namespace
}  // namespace coroot::agent::containers
