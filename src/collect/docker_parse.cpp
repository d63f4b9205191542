#include "collect/docker_parse.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dfa {
namespace {

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json& obj(const Json& j, const char* key) {
  static const Json empty = Json::object();
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

// "8000-8010" -> {8000, 8010}; "8080" -> {8080, 8080}; "" -> {0, 0} (Docker picks).
std::pair<int, int> port_range(const std::string& s) {
  if (s.empty()) return {0, 0};
  auto dash = s.find('-');
  try {
    if (dash == std::string::npos) return {std::stoi(s), std::stoi(s)};
    return {std::stoi(s.substr(0, dash)), std::stoi(s.substr(dash + 1))};
  } catch (...) {
    return {-1, -1};
  }
}

// "80/tcp" -> (80, "tcp")
std::pair<std::string, std::string> split_port_key(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {key, "tcp"};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

Json bindings(const Json& ports) {
  Json out = Json::array();
  if (!ports.is_object()) return out;
  for (const auto& [key, list] : ports.items()) {
    auto [cport, proto] = split_port_key(key);
    auto crange = port_range(cport);
    if (!list.is_array()) {
      // Exposed but not published: Docker lists it with a null binding.
      continue;
    }
    for (const auto& b : list) {
      auto hrange = port_range(str(b, "HostPort"));
      Json j;
      j["container_port"] = crange.first;
      if (crange.second != crange.first) j["container_port_end"] = crange.second;
      j["protocol"] = proto;
      j["host_ip"] = str(b, "HostIp");
      j["host_port"] = hrange.first;
      if (hrange.second != hrange.first) j["host_port_end"] = hrange.second;
      out.push_back(std::move(j));
    }
  }
  std::sort(out.begin(), out.end(), [](const Json& a, const Json& b) {
    return std::tuple(a["protocol"].get<std::string>(), a["container_port"].get<int>(), a["host_ip"].get<std::string>(), a["host_port"].get<int>()) <
           std::tuple(b["protocol"].get<std::string>(), b["container_port"].get<int>(), b["host_ip"].get<std::string>(), b["host_port"].get<int>());
  });
  return out;
}

}  // namespace

Json normalize_container(const Json& c) {
  Json j;
  j["id"] = str(c, "Id");
  std::string name = str(c, "Name");
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  j["name"] = name;
  const Json& config = obj(c, "Config");
  const Json& state = obj(c, "State");
  const Json& host = obj(c, "HostConfig");
  const Json& ns = obj(c, "NetworkSettings");
  j["image"] = str(config, "Image");
  j["state"] = str(state, "Status");
  j["running"] = state.value("Running", false);
  j["pid"] = state.value("Pid", 0);
  const Json& labels = obj(config, "Labels");
  j["labels"] = labels;
  j["compose_project"] = str(labels, "com.docker.compose.project");
  j["compose_service"] = str(labels, "com.docker.compose.service");
  j["network_mode"] = str(host, "NetworkMode");
  Json nets = Json::array();
  for (const auto& [nname, n] : obj(ns, "Networks").items()) {
    Json e;
    e["network"] = nname;
    e["network_id"] = str(n, "NetworkID");
    e["ipv4"] = str(n, "IPAddress");
    e["ipv4_prefix_len"] = n.value("IPPrefixLen", 0);
    e["ipv6"] = str(n, "GlobalIPv6Address");
    e["ipv6_prefix_len"] = n.value("GlobalIPv6PrefixLen", 0);
    e["gateway"] = str(n, "Gateway");
    e["ipv6_gateway"] = str(n, "IPv6Gateway");
    e["aliases"] = n.contains("Aliases") && n["Aliases"].is_array() ? n["Aliases"] : Json::array();
    nets.push_back(std::move(e));
  }
  std::sort(nets.begin(), nets.end(), [](const Json& a, const Json& b) { return a["network"] < b["network"]; });
  j["networks"] = std::move(nets);
  // Bindings in force (what Docker actually bound) and as requested (ranges
  // and unbound ports of stopped containers).
  j["ports"] = bindings(ns.contains("Ports") ? ns["Ports"] : Json());
  j["ports_requested"] = bindings(host.contains("PortBindings") ? host["PortBindings"] : Json());
  j["publish_all"] = host.value("PublishAllPorts", false);
  return j;
}

std::string bridge_name_of(const Json& n) {
  if (str(n, "Driver") != "bridge") return "";
  std::string opt = str(obj(n, "Options"), "com.docker.network.bridge.name");
  if (!opt.empty()) return opt;
  return "br-" + str(n, "Id").substr(0, 12);
}

Json normalize_network(const Json& n) {
  Json j;
  j["id"] = str(n, "Id");
  j["name"] = str(n, "Name");
  j["driver"] = str(n, "Driver");
  j["scope"] = str(n, "Scope");
  j["internal"] = n.value("Internal", false);
  j["enable_ipv6"] = n.value("EnableIPv6", false);
  j["bridge"] = bridge_name_of(n);
  Json subnets = Json::array();
  const Json& ipam = obj(n, "IPAM");
  if (ipam.contains("Config") && ipam["Config"].is_array())
    for (const auto& c : ipam["Config"])
      subnets.push_back({{"subnet", str(c, "Subnet")}, {"gateway", str(c, "Gateway")}});
  j["subnets"] = std::move(subnets);
  const Json& opts = obj(n, "Options");
  j["options"] = opts;
  auto opt = [&](const char* key, const char* dflt) {
    std::string v = str(opts, key);
    return v.empty() ? std::string(dflt) : v;
  };
  if (j["driver"] == "bridge") {
    j["enable_icc"] = opt("com.docker.network.bridge.enable_icc", "true") == "true";
    j["enable_ip_masquerade"] = opt("com.docker.network.bridge.enable_ip_masquerade", "true") == "true";
    j["host_binding_ipv4"] = opt("com.docker.network.bridge.host_binding_ipv4", "");
    j["gateway_mode_ipv4"] = opt("com.docker.network.bridge.gateway_mode_ipv4", "");
    j["gateway_mode_ipv6"] = opt("com.docker.network.bridge.gateway_mode_ipv6", "");
  }
  const Json& labels = obj(n, "Labels");
  j["labels"] = labels;
  j["compose_project"] = str(labels, "com.docker.compose.project");
  return j;
}

}  // namespace dfa
