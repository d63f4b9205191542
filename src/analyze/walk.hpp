// One walk's state and steps (Engine::Impl): private to the engine's files.
// walk_chains.cpp runs base chains and hooks; walk_routing.cpp routes,
// checks reverse paths and IPv6 neighbours; walk_paths.cpp follows a packet
// along its path (input, forward, output, bridges, docker-proxy) and its
// reply. engine.cpp holds the Engine around them.
#pragma once
#include <fmt/format.h>

#include <algorithm>

#include "analyze/engine.hpp"

namespace dfa {

// Unknown conditions are choice points: a walk takes the choices it is given
// (default: the rule does not match) and records every point it met. The
// engine walks every combination; if they disagree, the outcome is uncertain.
struct Decider {
  std::vector<bool> choices;
  std::size_t next = 0;
  std::vector<std::string> points;
  bool pick(const std::string& why) {
    bool c = next < choices.size() && choices[next];
    ++next;
    points.push_back(why);
    return c;
  }
};

struct Engine::Impl {
  const Engine& e;
  Decider& d;
  Outcome out;
  std::string last_accept;   // the last rule or policy that accepted the packet
  std::string admin_accept;  // Outcome::admin_accept, while the packet is on its way
  std::string unknown_end;   // set when the walk met a translation it cannot follow
  std::string from_ctr;      // the source container, when the packet starts in one
  bool trace = true;
  bool skip_nat = false;
  VisitedChains* visited = nullptr;  // every chain entered, when asked

  std::string sysctl(const std::string& key) const;

  // Records a step when tracing. Exposure walks millions of packets without
  // a trace, so callers that format text do it under `if (trace)`.
  void step(std::string_view hook, std::string_view where, std::string_view rule, std::string_view origin,
            std::string_view verdict, bool drops = false);

  // Something on this walk's path is not modeled: whatever the walk ends in
  // is uncertain, naming the first such thing.
  void taint(const std::string& why);

  void drop(const std::string& by);

  bool eval_rule(const Rule& r, const Packet& p);
  // For walk sharing: whether a plain test (Rule::lead) that does not read
  // the sender's address fails for p, so the rule fails for every sender
  // on p's path. failed: the test that ended the walk's evaluation. The
  // tests before it are plain too, and never unknown.
  bool closes(const Rule& r, const Packet& p, std::size_t failed) const;
  // A reply skipping rules by their destination address (PortIndex) skips
  // what a reply to another sender would read: for each, whether a plain
  // test that reads no destination address fails for this reply.
  void skipped_by_daddr(const BaseChain& b, const Chain& c, const Packet& p, std::size_t from, std::size_t to);

  // ---- chains -------------------------------------------------------------

  // What a base chain decided. nat_action and by point into the ruleset
  // (a rule's action and origin, a chain's policy text), which outlives walks.
  struct ChainResult {
    enum K { accept, drop, nat } k = accept;
    const Action* nat_action = nullptr;
    std::string_view by;
    const Rule* rule = nullptr;    // an accept: the rule, and the chain it is in
    const Chain* chain = nullptr;  // (not set for a policy)
  };

  // Whether an accept says the admin meant the packet to pass: a rule of the
  // admin's own (not in a table or chain Docker writes; iptables' FORWARD
  // holds Docker's accepts, so one there is not told apart) that can only
  // match packets to certain ports, to one address or from certain sources
  // (`ufw route allow from 198.51.100.0/24`: that network may reach what
  // is forwarded).
  static bool admin_intent(const BaseChain& b, const ChainResult& r);

  ChainResult run_chain(const BaseChain& b, Packet& p, const std::string& hook);

  // The packet passes conntrack (-200 at prerouting and output): from here
  // on it has a connection, or is untracked (neighbour discovery).
  void pass_conntrack(Packet& p) const;

  // Ingress chains of the device a packet arrives on, before prerouting
  // (and before any conntrack). Returns false when the packet was dropped.
  bool run_ingress(Packet& p);

  // A device whose traffic meets chains the walks do not run.
  void crossing(const std::string& dev);

  // Runs every base chain at a hook in priority order, with the NAT core at
  // its own position: -100 at prerouting/output, +100 at input/postrouting.
  // Returns false when the packet was dropped.
  bool run_hook(const std::string& hook, Packet& p, bool nat_allowed);

  // The first address of the family on iface (not IPv6 link-local), if any.
  std::optional<IpAddr> iface_addr(const std::string& iface, int family) const;
  IpAddr primary_addr(const std::string& iface, int family) const;

  // ---- routing ------------------------------------------------------------

  // The main table's longest-prefix route to dst, or null.
  const RouteEntry* lookup(const IpAddr& dst) const;

  const RouteEntry* table_lookup(const std::string& table, const IpAddr& dst) const;

  // The route the kernel picks for p after the local table: through the
  // policy rules by preference (their source, destination, input device and
  // mark selectors, lookup/blackhole/unreachable/prohibit, a table's "throw"
  // going on to the next rule), or the main table when there are none but
  // the defaults. src: the source address when known (a locally generated
  // packet has none until routing picks one). Null: no route; why says so.
  const RouteEntry* route(const Packet& p, std::optional<IpAddr> src, std::string& why);

  bool forwarding_enabled(const std::string& iif, int family) const;

  // The reverse path filter (IPv4, rp_filter = the larger of "all" and the
  // input device): strict (1) drops a packet whose route back to its source
  // leaves by another device; loose (2) one with no route back at all.
  // Returns why it drops, or "".
  std::string rp_filter_drop(const Packet& p);

  bool route_localnet(const std::string& iif) const;

  // ---- Docker facts ---------------------------------------------------------

  struct ContainerAddr {
    std::string name, network, bridge;
  };

  std::optional<ContainerAddr> container_at(const IpAddr& a) const;

  // ---- IPv6 neighbour discovery ---------------------------------------------
  // Unlike ARP, IPv6 neighbour discovery passes the ip6 hooks, both ways:
  // the host's solicitation out and the neighbour's advertisement in, the
  // neighbour's solicitation in and the host's advertisement out. A chain
  // that drops any of them cuts the host off from that neighbour once the
  // caches' entries expire. Whether they are still cached is not in any
  // snapshot, so such a path is uncertain.
  void check_nd(const std::string& iface, const IpAddr& neighbour);

  // The neighbour a packet to dst is handed to on iface: the gateway, or dst.
  IpAddr next_hop(const IpAddr& dst) const;

  // ---- the reply direction ------------------------------------------------
  // A connection needs its replies too: the first reply packet, established,
  // back through the hooks on its own path (no NAT chains run for it; the
  // DNAT is undone at postrouting, so forward still sees the container).

  Packet reply_of(const Packet& p) const;

  bool reply_dropped(const std::string& by);

  // A request or reply whose ports or addresses a payload statement
  // rewrote: the reply carries a rewritten request's values back, and a
  // rewritten reply reaches the client changed; whether the client takes
  // either is not modeled.
  void rewritten(const Packet& q, bool reply);

  // The request left through p.oif toward a neighbour or container: its reply
  // comes back in on that interface.
  // A routed request that left through a bridge: its reply comes back in
  // through the bridge port that leads to the container or neighbour.
  bool reply_from_outside(const Packet& p, const ContainerAddr* from = nullptr);

  // The request reached a host socket: its reply is sent by the host.
  bool reply_from_host(const Packet& p);

  // ---- paths ----------------------------------------------------------------

  static const char* bridge_nf_knob(int family);
  bool bridge_nf_call(int family) const;

  // A packet entering (in) or leaving through the port of bridge that leads
  // to a container (or, with none, to the neighbour at addr): br_netfilter
  // records that port for the ip hooks only when bridge-nf-call-ip(6)tables
  // is 1. The port's name is known when the bridge has one port; which of
  // several leads there is not in the snapshot, so physdev tests of a name
  // are then uncertain.
  void bridge_port(Packet& q, const std::string& bridge, const ContainerAddr* container, const IpAddr& addr,
                   bool in) const;

  // Hairpin mode of the ports of a bridge: true or false when every port
  // agrees, nullopt when they differ (which port is the container's is not in
  // the snapshot) or a snapshot predates the field.
  std::optional<bool> bridge_hairpin(const std::string& bridge) const;

  void deliver_container(const Packet& p, const ContainerAddr& c);

  // After routing decided "forward": forward and postrouting, then out of oif.
  void forward(Packet& p);

  void egress(Packet& p);

  // A packet arriving on iif (from outside, or from a container on a bridge).
  void inbound(Packet& p);

  void route_input(Packet& p);

  void local_in(Packet& p);

  void socket_lookup(Packet& p);

  // docker-proxy forwards to the container that published this port, as a
  // new connection from the host.
  void proxy(const Packet& in, const Engine::SocketEntry& so);

  // docker-proxy's own connection to the container, from the host.
  void proxy_connect(const Packet& in, const std::string& bound, const IpAddr& to, unsigned port, const char* how);

  // A packet the host sends: output, then either the loopback round trip or
  // postrouting and out.
  void local_out(Packet& p, std::optional<IpAddr> src);

  // A packet from a container: bridged to a neighbour on the same bridge, or
  // routed through the host.
  void from_container(Packet& p, const std::string& name);
};

inline std::string Engine::Impl::sysctl(const std::string& key) const {
  auto it = e.sysctls_.find(key);
  return it == e.sysctls_.end() ? "" : it->second;
}

inline void Engine::Impl::step(std::string_view hook, std::string_view where, std::string_view rule,
                               std::string_view origin, std::string_view verdict, bool drops) {
  if (drops && hook == "input") out.dropped_at_input = true;
  if (drops && (hook == "input" || hook == "prerouting" || hook == "forward")) out.dropped_in_filter = true;
  if (!trace) return;
  out.steps.push_back(
      {std::string(hook), std::string(where), std::string(rule), std::string(origin), std::string(verdict), drops});
}

inline void Engine::Impl::taint(const std::string& why) {
  if (unknown_end.empty()) unknown_end = why;
}

inline void Engine::Impl::drop(const std::string& by) {
  out.result = Outcome::Result::dropped;
  out.decided_by = by;
}

}  // namespace dfa
