#include <doctest/doctest.h>

#include "collect/daemon_json.hpp"
#include "fixtures.hpp"

TEST_CASE("given a valid daemon.json, then content and key lines are kept") {
  auto r = dfa::parse_daemon_json(fixture_text("daemon-json/valid.json"), "daemon.json");
  REQUIRE(r.ok());
  CHECK(r.value()["content"]["iptables"] == false);
  CHECK(r.value()["content"]["fixed-cidr-v6"] == "fd00:d0c::/64");
  CHECK(r.value()["key_lines"]["iptables"] == 2);
  CHECK(r.value()["key_lines"]["fixed-cidr-v6"] == 5);
}

TEST_CASE("given a missing comma, then the error names file, line and column") {
  auto r = dfa::parse_daemon_json(fixture_text("daemon-json/missing-comma.json"), "/etc/docker/daemon.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("/etc/docker/daemon.json:4:3: ", 0) == 0);
}

TEST_CASE("given a network setting of the wrong type, then the error points at its value") {
  auto r = dfa::parse_daemon_json(fixture_text("daemon-json/wrong-type.json"), "d.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "d.json:2:15: \"iptables\" must be a boolean (true or false), found string");
}

TEST_CASE("given a top level that is not an object or empty, then it is an input error") {
  auto a = dfa::parse_daemon_json(fixture_text("daemon-json/not-object.json"), "d.json");
  REQUIRE_FALSE(a.ok());
  CHECK(a.error().message == "d.json:1:1: the top level must be an object, found array");
  auto b = dfa::parse_daemon_json(fixture_text("daemon-json/empty.json"), "d.json");
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.rfind("d.json:1:1: ", 0) == 0);
}

TEST_CASE("given dockerd flags, then booleans, values and repeats are kept in order") {
  dfa::Json j = dfa::parse_dockerd_flags({"/usr/sbin/dockerd", "-H", "fd://", "--iptables=false", "--ipv6",
                                          "--config-file", "/srv/d.json", "-H", "unix:///run/d.sock",
                                          "--userland-proxy=false"});
  CHECK(j["flags"]["H"] == dfa::Json::array({"fd://", "unix:///run/d.sock"}));
  CHECK(j["flags"]["iptables"] == dfa::Json::array({"false"}));
  CHECK(j["flags"]["ipv6"] == dfa::Json::array({"true"}));
  CHECK(j["flags"]["config-file"] == dfa::Json::array({"/srv/d.json"}));
  CHECK(j["flags"]["userland-proxy"] == dfa::Json::array({"false"}));
}
