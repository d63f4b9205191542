// The host's facts as the analysis reads them (the snapshot's "host"
// section, docs/snapshot.md), lowered once from the checked JSON.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/addr.hpp"

namespace dfa {

struct InterfaceAddress {
  int family = 4;
  std::string address;
  unsigned prefix_len = 0;
  std::string scope;
};

struct Interface {
  unsigned index = 0;
  std::string name;
  bool up = false, loopback = false;
  std::string kind;    // "bridge", "veth", "" ...
  std::string master;  // "" when none
  std::optional<bool> hairpin;  // bridge ports: may a frame go back out of the port it came in on
  std::vector<InterfaceAddress> addresses;
};

struct Route {
  int family = 4;
  std::string table;  // "local", "main", or a number
  std::string type = "unicast";
  std::string dst;  // "a.b.c.d/len"
  std::optional<Prefix> dst_prefix;  // dst parsed (nullopt: a form the analysis does not read)
  std::string gateway, dev, prefsrc;
  std::uint64_t metric = 0;
};

struct PolicyRule {
  int family = 4;
  std::uint64_t priority = 0;
  std::string table;
  std::string action;  // "lookup", "blackhole", "unreachable", "prohibit", "goto", "nop" (or a number)
  std::string src, dst, iif, oif;  // "" when the rule does not select by it
  std::optional<Prefix> src_prefix, dst_prefix;  // src and dst parsed (nullopt: none, or a form not read)
  std::uint32_t fwmark = 0, fwmask = 0;
  bool invert = false;
  std::vector<std::string> unmodeled;  // selectors the analysis does not model ("uidrange", "ipproto", ...)
};

struct ListeningSocket {
  std::string protocol;  // "tcp" or "udp"
  int family = 4;
  std::string address;  // as bound: "0.0.0.0", "::", "127.0.0.1"
  std::optional<IpAddr> addr;  // address parsed
  unsigned port = 0;
  std::uint64_t inode = 0;
  // IPv6 sockets: IPV6_V6ONLY (a [::] socket without it takes IPv4 too);
  // nullopt when the snapshot does not say (collected before it did, or
  // sock_diag was not available).
  std::optional<bool> v6only;
  std::optional<std::uint64_t> uid, pid;
  std::optional<std::string> process;  // nullopt: the owner could not be seen
  // docker-proxy: the container address and port it forwards to (its argv);
  // nullopt when not recorded.
  std::optional<IpAddr> proxy_addr;
  unsigned proxy_port = 0;
};

struct NftablesConfig {
  std::string path;
  bool present = false;
  bool flush_ruleset = false;
  std::vector<std::uint64_t> flush_ruleset_lines;
  struct Include {
    std::uint64_t line = 0;
    std::string pattern;
  };
  std::vector<Include> includes;
  std::string error;
};

// A systemd unit as its unit directories show it (collect: systemd_unit_state).
struct ServiceState {
  std::string state;  // enabled, disabled, masked, absent, unknown
  std::vector<std::string> wanted_by;
};

// ufw's configuration (collect: read_ufw): what findings name the kernel's
// ufw chains and policies by.
struct UfwConfig {
  bool present = false;
  std::string dir;
  std::optional<bool> enabled, ipv6;
  // "incoming", "outgoing", "routed" -> DROP, ACCEPT or REJECT
  std::map<std::string, std::string, std::less<>> defaults;
  struct Line {
    std::string chain;
    std::uint64_t position = 0;  // among the chain's rules, from 1
  };
  struct Rule {
    int family = 4;
    std::string tuple, command;
    std::vector<Line> lines;
  };
  std::vector<Rule> rules;
  // before.rules, after.rules, before6.rules, after6.rules: the lines that
  // add rules to chains, in the order ufw loads them.
  struct FileLine {
    std::string chain, text;
    std::uint64_t line = 0;  // in the file, from 1
    bool insert = false;     // -I: its place in the chain is not the file's order
  };
  struct File {
    std::string name;
    int family = 4;
    std::vector<FileLine> lines;
  };
  std::vector<File> files;
  std::string error;
};

// firewalld's permanent configuration (collect: read_firewalld): what the
// admin wrote, beside the zones and policies the kernel holds.
struct FirewalldConfig {
  bool present = false;
  std::string dir;
  // "default_zone", "backend", "ipv6_rpfilter", "strict_forward_ports"
  std::map<std::string, std::string, std::less<>> conf;
  struct Part {  // a zone or a policy
    std::string name, file, origin;  // origin: "etc" (the admin's) or "usr" (the package's)
    std::string target, priority, short_name;
    std::vector<std::string> interfaces, sources, services, ports, protocols, forward_ports, rich_rules;
    std::vector<std::string> ingress_zones, egress_zones;  // policies
    bool forward = false, masquerade = false;
    std::string error;
  };
  std::vector<Part> zones, policies;
  std::string error;
};

struct HostFacts {
  std::string hostname, kernel, netns;
  std::vector<Interface> interfaces;
  std::vector<Route> routes;
  std::vector<PolicyRule> policy_rules;
  std::map<std::string, std::optional<std::string>, std::less<>> sysctls;  // null: no such file in this kernel
  std::vector<ListeningSocket> listening_sockets;
  bool socket_owners_complete = true;
  NftablesConfig nftables_config;
  // "nftables.service" -> its state; empty when the snapshot predates it.
  std::map<std::string, ServiceState, std::less<>> services;
  UfwConfig ufw;
  FirewalldConfig firewalld;

  // The value of a sysctl ("net/ipv4/ip_forward"), nullopt when absent or null.
  std::optional<std::string> sysctl(std::string_view key) const;
  const Interface* interface(std::string_view name) const;
};

}  // namespace dfa
