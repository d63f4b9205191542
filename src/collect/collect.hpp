// Collection: each collector reads one part of the live host and reports how
// it fared; collect_snapshot() runs them all and assembles the snapshot.
#pragma once
#include <string>
#include <vector>

#include "model/snapshot.hpp"

namespace dfa {

struct CollectOptions {
  std::string daemon_config = "/etc/docker/daemon.json";
  bool daemon_config_explicit = false;  // --daemon-config given: never substitute dockerd's
  std::string docker_host;              // empty: DOCKER_HOST, then the default socket
  std::string nftables_config = "/etc/nftables.conf";
  std::string ufw_dir = "/etc/ufw";                 // ufw.conf, user.rules, user6.rules
  std::string ufw_defaults = "/etc/default/ufw";    // its default policies, IPV6
  std::string firewalld_dir = "/etc/firewalld";     // firewalld.conf, the admin's zones/ and policies/
  std::string firewalld_system_dir = "/usr/lib/firewalld";  // the package's zones/ and policies/
  int docker_timeout_ms = 5000;
};

// One collector's result: its report and, when it has data, its section.
struct Collected {
  CollectorReport report;
  Json data;  // null when nothing could be read
};

bool has_cap_net_admin();
std::string denied_reason(const char* what);

Collected collect_host(const CollectOptions& o);
Collected collect_nftables(const CollectOptions& o);
Collected collect_iptables_legacy(const CollectOptions& o);
// Reads daemon.json (the dockerd's --config-file when --daemon-config is not
// given) and the running dockerd's flags.
Collected collect_docker_config(const CollectOptions& o);
Collected collect_docker_api(const CollectOptions& o);

struct CollectSummary {
  Snapshot snapshot;
  bool anything_collected = false;  // false: every collector failed
};
CollectSummary collect_snapshot(const CollectOptions& o);

}  // namespace dfa
