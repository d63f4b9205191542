#include <doctest/doctest.h>

#include "collect/docker_parse.hpp"
#include "fixtures.hpp"

TEST_CASE("given a container inspect from Docker 20.10, then name, address and bindings are normalized") {
  dfa::Json c = dfa::normalize_container(fixture_json("docker/container-web.json"));
  CHECK(c["name"] == "web");
  CHECK(c["running"] == true);
  REQUIRE(c["networks"].size() == 1);
  CHECK(c["networks"][0]["network"] == "bridge");
  CHECK(c["networks"][0]["ipv4"] == "172.17.0.2");
  REQUIRE(c["ports"].size() == 2);
  CHECK(c["ports"][0] == dfa::Json({{"container_port", 80}, {"protocol", "tcp"}, {"host_ip", "0.0.0.0"}, {"host_port", 8080}}));
  CHECK(c["ports"][1]["host_ip"] == "::");
  REQUIRE(c["ports_requested"].size() == 1);
  CHECK(c["ports_requested"][0]["host_ip"] == "");
}

TEST_CASE("given Docker's network list, then bridges get their device names") {
  dfa::Json nets = fixture_json("docker/networks.json");
  bool saw_bridge = false;
  for (const auto& n : nets) {
    dfa::Json j = dfa::normalize_network(n);
    if (j["name"] == "bridge") {
      saw_bridge = true;
      CHECK(j["bridge"] == "docker0");
      CHECK(j["enable_icc"] == true);
      CHECK(j["enable_ip_masquerade"] == true);
      CHECK(j["subnets"][0]["subnet"] == "172.17.0.0/16");
    }
    if (j["name"] == "host") CHECK(j["bridge"] == "");
  }
  CHECK(saw_bridge);
  dfa::Json user = {{"Id", "0123456789abcdef"}, {"Name", "app_default"}, {"Driver", "bridge"},
                    {"Options", dfa::Json::object()}, {"Labels", {{"com.docker.compose.project", "app"}}}};
  CHECK(dfa::normalize_network(user)["bridge"] == "br-0123456789ab");
  CHECK(dfa::normalize_network(user)["compose_project"] == "app");
}

TEST_CASE("given a host port range binding, then start and end are both kept") {
  dfa::Json inspect = {{"Name", "/r"},
                       {"HostConfig", {{"PortBindings", {{"7000/udp", {{{"HostIp", ""}, {"HostPort", "7000-7010"}}}}}}}},
                       {"NetworkSettings", {{"Ports", {{"7000/udp", {{{"HostIp", "0.0.0.0"}, {"HostPort", "7004"}}}}, {"9000/tcp", nullptr}}}}}};
  dfa::Json c = dfa::normalize_container(inspect);
  REQUIRE(c["ports_requested"].size() == 1);
  CHECK(c["ports_requested"][0]["host_port"] == 7000);
  CHECK(c["ports_requested"][0]["host_port_end"] == 7010);
  REQUIRE(c["ports"].size() == 1);  // 9000/tcp is exposed, not published
  CHECK(c["ports"][0]["host_port"] == 7004);
  CHECK(c["ports"][0]["protocol"] == "udp");
}
