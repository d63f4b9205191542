// The packet path: what the kernel does with one new connection's first
// packet, hook by hook, from a snapshot alone. See ../shared/NETFILTER.md and
// docs/analyzer.md for the semantics modeled and their sources.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analyze/ruleset.hpp"
#include "model/snapshot.hpp"

namespace dfa {

// Where a packet comes from.
struct Source {
  enum class Kind { remote, host, container } kind = Kind::remote;
  std::optional<IpAddr> addr;  // remote: its address; host: optional source address
  std::string iif;             // remote: arrival interface (derived from routes if empty)
  std::string container;       // container: its name
};

struct Step {
  std::string hook;     // prerouting, input, forward, output, postrouting, routing, socket, ...
  std::string where;    // base chain label, or the kernel function
  std::string rule;     // rule text ("" for a policy or a kernel decision)
  std::string origin;   // rule origin (nft table chain #n (handle h) / iptables-legacy ...)
  std::string verdict;  // accept, drop, dnat to ..., jump X, policy accept, ... (for people)
  bool drops = false;   // a rule's drop or reject, or a drop policy, ended the packet here
};

struct Outcome {
  enum class Result { delivered, dropped, uncertain } result = Result::dropped;
  std::string target;     // "container web 172.17.0.2:80", "host socket docker-proxy 0.0.0.0:8080 -> ...", ""
  std::string container;  // the container that receives it, if any
  std::string process;    // the host process that receives it, if any
  std::string decided_by; // the rule or kernel decision that decided
  std::vector<Step> steps;
  std::vector<std::string> uncertain;  // what could not be modeled, naming the rule
  // A rule's drop or reject, or a drop policy, at the input hook ended a
  // packet of this walk (a step of hook input that drops): known without a
  // trace, so checks need not trace every walk to ask.
  bool dropped_at_input = false;
  // Likewise for the filter hooks a guard can act before: a step of hook
  // prerouting, input or forward that drops.
  bool dropped_in_filter = false;
  // The admin's own rule that accepted the request at the forward hook: a
  // rule outside Docker's chains (DOCKER-USER counts as the admin's) that
  // can only match packets to certain ports or to one address, as `ufw
  // route allow` writes; "" when none did. Its intent is that the packet
  // passes: DFA001 and remediate's guard take it so.
  std::string admin_accept;
  // The walk (one of its packets) met a socket lookup: what came after it
  // depends on the port beyond what rules test (which socket, which
  // container docker-proxy connects to).
  bool met_socket = false;
};
std::string to_string(Outcome::Result r);

// What walk sharing needs of a walk (SharedWalks). The chains it entered
// (base chain, and the chain of its table: the base chain's own or one
// jumped or gone to), in order, with repeats, and whether a reply entered
// them; whole: the walk read the chain in a way not told rule by rule (a
// run of rules looked up by address), so each of its rules counts. And
// each rule a packet met (evaluated, or skipped by the sender's address),
// and whether a plain test that does not read the sender's address failed
// (closed: the rule fails for every sender on that path, Rule::lead). A
// rule a packet did not meet (skipped by its port or the request's
// destination, or after the walk left the chain) tells no senders apart.
struct VisitedChains {
  struct Entered {
    const BaseChain* base;
    const Chain* chain;
    bool reply;
    bool whole = false;
  };
  struct Met {
    const Json* rule;
    bool reply, closed;
  };
  std::vector<Entered> chains;
  std::vector<Met> rules;
  void clear() {
    chains.clear();
    rules.clear();
  }
};

class Engine {
 public:
  explicit Engine(const Snapshot& s);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The first packet of a new connection from src to dst:port/proto. With
  // trace false the steps are not recorded (exposure needs only verdicts).
  // skip_nat: as if no nat chain existed (what the filter chains alone would
  // do with the packet, e.g. the input chain a DNAT bypasses).
  // visited: when given, every chain the walk (each of its choices) enters
  // is appended.
  Outcome run(const Source& src, const IpAddr& dst, unsigned port, const std::string& proto,
              bool trace = true, bool skip_nat = false, VisitedChains* visited = nullptr) const;

  // Whether a packet from outside to `a` goes the way of one to any other
  // such address but for what rules read of its destination: `a` is an
  // address of the host (local delivery), neither loopback nor IPv6
  // link-local, and no policy routing rule is in force (its selectors, and
  // rp_filter's reverse lookup through them, read the destination). Two
  // walks without NAT from one source to two such addresses of a family,
  // through chains no rule of reads the destination (Chain::reads_destination)
  // and ending before a socket, are the same walk.
  bool plain_local(const IpAddr& a) const;

  const Snapshot& snapshot() const { return snap_; }
  std::vector<std::string> container_names() const;

 private:
  struct Impl;
  // Host facts parsed once: a walk must not parse JSON or addresses.
  struct RouteEntry {
    int family = 4;
    std::string table, type, dev;
    Prefix dst;
    std::optional<IpAddr> gateway, prefsrc;
  };
  struct ContainerAt {
    std::string name, network, bridge;
  };
  struct SocketEntry {
    std::string proto, address, process;
    int family = 4;
    IpAddr addr;
    unsigned port = 0;
    std::optional<bool> v6only;  // IPv6: IPV6_V6ONLY; nullopt: not in the snapshot
    std::optional<IpAddr> proxy_addr;  // docker-proxy: where its argv says it forwards
    unsigned proxy_port = 0;
  };
  const Snapshot& snap_;
  HostView host_;
  Ruleset rules_;
  std::vector<RouteEntry> routes_;
  std::map<IpAddr, ContainerAt> containers_;
  std::vector<SocketEntry> sockets_;
  std::map<std::pair<std::string, unsigned>, std::vector<std::size_t>> sockets_by_port_;  // (proto, port) -> sockets_
  // docker-proxy's targets: (proto, bound address) -> bindings in force.
  struct ProxyTarget {
    unsigned lo = 0, hi = 0, container_port = 0;
    std::optional<IpAddr> container;  // IPv4 on the container's first network
  };
  std::map<std::pair<std::string, std::string>, std::vector<ProxyTarget>> proxy_targets_;
  std::map<std::string, std::string> sysctls_;
  // net.bridge.bridge-nf-call-iptables (IPv4) and -ip6tables (IPv6) are 1:
  // the ip hooks see bridged traffic and bridge ports (br_netfilter).
  bool bridge_nf_call4_ = false, bridge_nf_call6_ = false;
  // Looked up by walks, found once: the main table's routes, and per
  // bridge whether its ports are in hairpin mode (absent or nullopt: unknown).
  std::vector<const RouteEntry*> main_routes_;
  std::map<std::string, std::optional<bool>> hairpin_;
  std::map<std::string, std::vector<std::string>> bridge_ports_;  // bridge -> its ports
  // Base chains per (family, hook), filter and nat, sorted by priority.
  struct HookChains {
    std::vector<const BaseChain*> filters, nats;
  };
  std::map<std::pair<int, std::string>, HookChains> hooks_;
  // Policy routing: the rules besides the local-table one, by preference,
  // and every table's routes. Empty rules (a snapshot without them): the
  // main table alone.
  struct PolicyRuleEntry {
    const PolicyRule* rule;
    std::string unmodeled;  // non-empty: why a packet it may select is uncertain
  };
  std::vector<PolicyRuleEntry> policy_rules_;
  std::map<std::string, std::vector<const RouteEntry*>> tables_;
  // Chains the walks run before prerouting: netdev (and inet) ingress, by
  // priority; each lists its devices.
  std::vector<const BaseChain*> ingress_;
  // Paths through these devices meet chains the walks do not run (bridge
  // family, netdev egress, ingress on a bridge port): why, per device.
  std::map<std::string, std::string> device_taint_;
  std::string global_taint_;  // non-empty: every walk is uncertain (an arp-family chain)
};

Json to_json(const Outcome& o);
std::string render_text(const Outcome& o);

}  // namespace dfa
