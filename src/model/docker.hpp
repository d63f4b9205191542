// Docker as the analysis reads it: the daemon's settings (docker_config)
// and its containers and networks (docker_api), docs/snapshot.md, lowered
// once from the checked JSON. Questions every layer asks (which containers
// run, which bridge a network uses) are answered here, once.
#pragma once
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/addr.hpp"
#include "model/json_io.hpp"

namespace dfa {

struct PortBinding {
  unsigned container_port = 0, container_port_end = 0;  // end == port unless a range
  std::string protocol;                                // "tcp", "udp", "sctp"
  std::string host_ip;                                 // "0.0.0.0", "::", "" (requested: all)
  unsigned host_port = 0, host_port_end = 0;
};

struct ContainerNetwork {
  std::string network, network_id;
  std::string ipv4, ipv6;  // "" when none
  unsigned ipv4_prefix_len = 0, ipv6_prefix_len = 0;
  std::string gateway, ipv6_gateway;
  std::vector<std::string> aliases;
};

struct Container {
  std::string id, name, image, state;
  bool running = false;
  std::uint64_t pid = 0;
  std::map<std::string, std::string> labels;
  std::string compose_project, compose_service, network_mode;
  std::vector<ContainerNetwork> networks;
  std::vector<PortBinding> ports;            // the bindings in force
  std::vector<PortBinding> ports_requested;  // as requested
  bool publish_all = false;
};

struct DockerNetwork {
  struct Subnet {
    std::string subnet, gateway;
  };
  std::string id, name, driver, scope;
  bool internal = false, enable_ipv6 = false;
  std::string bridge;  // the host's bridge device ("" when not a bridge network)
  std::vector<Subnet> subnets;
  std::map<std::string, std::string> options, labels;
  std::string compose_project;
  std::optional<bool> enable_icc, enable_ip_masquerade;
  std::string host_binding_ipv4, gateway_mode_ipv4, gateway_mode_ipv6;
  const std::string& gateway_mode(int family) const { return family == 6 ? gateway_mode_ipv6 : gateway_mode_ipv4; }
  // Docker 28: host interfaces whose packets may reach the containers'
  // addresses directly (com.docker.network.bridge.trusted_host_interfaces,
  // colon-separated).
  std::vector<std::string> trusted_host_interfaces() const {
    std::vector<std::string> out;
    auto it = options.find("com.docker.network.bridge.trusted_host_interfaces");
    if (it == options.end()) return out;
    std::string_view v = it->second;
    while (!v.empty()) {
      auto colon = v.find(':');
      if (colon) out.emplace_back(v.substr(0, colon));
      if (colon == std::string_view::npos) break;
      v.remove_prefix(colon + 1);
    }
    return out;
  }
  bool trusts(std::string_view iface) const {
    auto t = trusted_host_interfaces();
    return !iface.empty() && std::find(t.begin(), t.end(), iface) != t.end();
  }
};

struct DockerState {
  std::string endpoint, engine_version, api_version, os, arch;
  std::string firewall_backend;  // as /info says ("nftables+firewalld"); "" when the daemon does not say
  std::vector<Container> containers;  // by name
  std::vector<DockerNetwork> networks;

  std::vector<const Container*> running() const;
  const Container* container(std::string_view name) const;
  const DockerNetwork* network(std::string_view name) const;
  // The bridge device of a network by name ("" when unknown).
  std::string bridge_of(std::string_view network) const;
};

// The settings dockerd runs with: its command line and daemon.json.
struct DockerDaemon {
  struct Dockerd {
    std::uint64_t pid = 0, candidates = 0;
    std::vector<std::string> argv;
    std::map<std::string, std::vector<std::string>> flags;  // "iptables" -> ["false"]
  };
  std::optional<Dockerd> dockerd;  // nullopt: no dockerd in the collector's namespace
  std::uint64_t dockerd_in_other_namespaces = 0;
  struct DaemonJson {
    std::string path, source, error;
    bool present = false;
    std::optional<Json> content;  // daemon.json as written (a document of its own)
    std::map<std::string, std::uint64_t> key_lines;
  } daemon_json;
};

}  // namespace dfa
