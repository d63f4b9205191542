#include "analyze/engine.hpp"

#include "analyze/walk.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dfa {

std::string to_string(Outcome::Result r) {
  switch (r) {
    case Outcome::Result::delivered: return "delivered";
    case Outcome::Result::dropped: return "dropped";
    case Outcome::Result::uncertain: return "uncertain";
  }
  return "uncertain";
}

Engine::Engine(const Snapshot& s) : snap_(s), host_(build_host_view(s)), rules_(build_ruleset(s, host_)) {
  for (int fam : {4, 6})
    for (const char* hook : {"prerouting", "input", "forward", "output", "postrouting"}) {
      HookChains hc;
      for (const auto& b : rules_.base)
        if (b.hook == hook && b.applies_to(fam)) (b.type == "nat" ? hc.nats : hc.filters).push_back(&b);
      auto by_prio = [](const BaseChain* a, const BaseChain* b) { return a->priority < b->priority; };
      std::stable_sort(hc.filters.begin(), hc.filters.end(), by_prio);
      std::stable_sort(hc.nats.begin(), hc.nats.end(), by_prio);
      hooks_[{fam, hook}] = std::move(hc);
    }
  if (const HostFacts* h = s.host ? &*s.host : nullptr) {
    for (const Route& r : h->routes) {
      if (!r.dst_prefix) continue;
      RouteEntry re;
      re.dst = *r.dst_prefix;
      re.family = r.family;
      re.table = r.table;
      re.type = r.type;
      re.dev = r.dev;
      re.gateway = IpAddr::parse(r.gateway);
      re.prefsrc = IpAddr::parse(r.prefsrc);
      routes_.push_back(std::move(re));
    }
    for (const ListeningSocket& so : h->listening_sockets) {
      if (!so.addr) continue;
      SocketEntry se;
      se.addr = *so.addr;
      se.address = so.address;
      se.proto = so.protocol;
      se.family = so.family;
      se.port = so.port;
      se.process = so.process.value_or("");
      se.v6only = so.v6only;
      se.proxy_addr = so.proxy_addr;
      se.proxy_port = so.proxy_port;
      sockets_by_port_[{se.proto, se.port}].push_back(sockets_.size());
      sockets_.push_back(std::move(se));
    }
    for (const auto& [k, v] : h->sysctls)
      if (v) sysctls_[k] = *v;
    bridge_nf_call4_ = h->sysctl("net/bridge/bridge-nf-call-iptables") == "1";
    bridge_nf_call6_ = h->sysctl("net/bridge/bridge-nf-call-ip6tables") == "1";
    // Hairpin mode per bridge: known only when every port says, and agrees.
    std::set<std::string> unknown, bridges;
    for (const Interface& i : h->interfaces)
      if (i.kind == "bridge") bridges.insert(i.name);
    for (const Interface& i : h->interfaces) {
      const std::string& master = i.master;
      // Ports of bridges only (a bond's or a VRF's members have a master too).
      if (!master.empty() && bridges.count(master)) bridge_ports_[master].push_back(i.name);
      if (master.empty() || unknown.count(master)) continue;
      auto [it, fresh] = hairpin_.try_emplace(master, std::nullopt);
      if (!i.hairpin || (!fresh && it->second != *i.hairpin)) {
        unknown.insert(master);
        it->second = std::nullopt;
      } else {
        it->second = *i.hairpin;
      }
    }
  }
  for (const auto& r : routes_) {
    if (r.table == "main") main_routes_.push_back(&r);
    tables_[r.table].push_back(&r);
  }
  if (const HostFacts* h = s.host ? &*s.host : nullptr) {
    // A rule that looks a table up for every packet (as the default three do).
    auto plain_lookup = [](const PolicyRule& r) {
      return r.action == "lookup" && r.src.empty() && r.dst.empty() && r.iif.empty() && r.oif.empty() && !r.fwmask &&
             !r.invert && r.unmodeled.empty();
    };
    for (const PolicyRule& pr : h->policy_rules) {
      if (plain_lookup(pr) && pr.table == "local") continue;  // the local table: is_local answers it, first
      PolicyRuleEntry e{&pr, ""};
      std::vector<std::string> why = pr.unmodeled;
      if ((!pr.src.empty() && !pr.src_prefix) || (!pr.dst.empty() && !pr.dst_prefix)) why.push_back("an address it cannot read");
      if (pr.action != "lookup" && pr.action != "blackhole" && pr.action != "unreachable" && pr.action != "prohibit")
        why.push_back("action " + pr.action);
      if (!why.empty())
        e.unmodeled = fmt::format("policy routing rule {} ({}) is not modeled", pr.priority, fmt::join(why, ", "));
      policy_rules_.push_back(std::move(e));
    }
    std::stable_sort(policy_rules_.begin(), policy_rules_.end(), [](const PolicyRuleEntry& a, const PolicyRuleEntry& b) {
      return a.rule->priority < b.rule->priority;
    });
    // Only the default rules (main, default): the main table alone, as before.
    bool only_defaults = std::all_of(policy_rules_.begin(), policy_rules_.end(), [&](const PolicyRuleEntry& e) {
      return plain_lookup(*e.rule) && (e.rule->table == "main" || e.rule->table == "default");
    });
    if (only_defaults) policy_rules_.clear();
  }
  // Chains of other families. netdev and inet ingress chains are run by the
  // walks; the rest, where they can change a verdict, make the paths they
  // see uncertain.
  std::set<std::string> bridges;
  std::map<std::string, std::string> master_of;
  if (s.host)
    for (const Interface& i : s.host->interfaces) {
      if (i.kind == "bridge") bridges.insert(i.name);
      if (!i.master.empty()) master_of[i.name] = i.master;
    }
  for (const BaseChain& b : rules_.unmodeled_base) {
    if (!b.can_drop) continue;
    std::string why = fmt::format("{} (hook {}{}{}) is not run by the analysis", b.label(), b.hook,
                                  b.devices.empty() ? "" : ", device ", fmt::join(b.devices, ", "));
    auto on = [&](const std::string& dev) { device_taint_.try_emplace(dev, why); };
    if (b.devices.empty() && (b.hook == "ingress" || b.hook == "egress")) {
      if (global_taint_.empty()) global_taint_ = why + " (its device is not in the snapshot)";
    } else if ((b.family == "netdev" || b.family == "inet") && b.hook == "ingress") {
      bool port = false;
      for (const auto& d : b.devices)
        if (auto m = master_of.find(d); m != master_of.end() && bridges.count(m->second)) {
          on(m->second);  // which port of the bridge a packet came in on is not always known
          port = true;
        }
      if (!port) ingress_.push_back(&b);
    } else if (b.family == "netdev") {
      for (const auto& d : b.devices) on(d);
    } else if (b.family == "bridge") {
      for (const auto& br : bridges) on(br);
    } else if (global_taint_.empty()) {
      global_taint_ = why;  // arp and anything newer: every path may depend on it
    }
  }
  std::stable_sort(ingress_.begin(), ingress_.end(),
                   [](const BaseChain* a, const BaseChain* b) { return a->priority < b->priority; });
  if (s.docker)
    for (const Container* c : s.docker->running()) {
      std::optional<IpAddr> first4;
      for (const auto& n : c->networks)
        if (!first4) first4 = IpAddr::parse(n.ipv4);
      for (const PortBinding& b : c->ports) {
        ProxyTarget t;
        t.lo = b.host_port;
        t.hi = b.host_port_end;
        t.container_port = b.container_port;
        t.container = first4;
        proxy_targets_[{b.protocol, b.host_ip}].push_back(t);
      }
      for (const auto& n : c->networks)
        for (const std::string* a : {&n.ipv4, &n.ipv6})
          if (auto ip = IpAddr::parse(*a)) containers_.emplace(*ip, ContainerAt{c->name, n.network, s.docker->bridge_of(n.network)});
    }
}

std::vector<std::string> Engine::container_names() const {
  std::vector<std::string> v;
  if (snap_.docker)
    for (const auto& c : snap_.docker->containers) v.push_back(c.name);
  return v;
}

bool Engine::plain_local(const IpAddr& a) const {
  const bool link_local = a.family == 6 && a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80;
  return policy_rules_.empty() && !a.is_loopback() && !link_local && !a.is_v4_mapped() && host_.is_local(a);
}

Outcome Engine::run(const Source& src, const IpAddr& dst, unsigned port, const std::string& proto, bool trace,
                    bool skip_nat, VisitedChains* visited) const {
  std::vector<std::vector<bool>> todo{{}};
  std::vector<Outcome> results;
  std::vector<std::string> points;
  std::size_t walks = 0;
  bool met_socket = false;  // any packet of any choice
  while (!todo.empty() && walks < 64) {
    std::vector<bool> choices = todo.back();
    todo.pop_back();
    ++walks;
    Decider d{choices, 0, {}};
    Impl w{*this, d, {}, {}, {}, {}, {}, trace, skip_nat, visited};
    if (!global_taint_.empty()) w.taint(global_taint_);
    Packet p;
    p.family = dst.family;
    p.daddr = dst;
    p.dport = port;
    p.proto = proto;
    if (!snap_.host) {
      w.out.result = Outcome::Result::uncertain;
      w.out.uncertain.push_back("the host collector did not succeed: routes and addresses are unknown");
      return w.out;
    }
    auto start = [&](Packet p) {
      switch (src.kind) {
        case Source::Kind::remote:
          p.saddr = *src.addr;
          p.iif = src.iif;
          if (p.iif.empty()) {
            auto rt = w.lookup(p.saddr);
            p.iif = rt ? rt->dev : "";
          }
          w.inbound(p);
          break;
        case Source::Kind::host:
          p.local_origin = true;
          w.local_out(p, src.addr);
          break;
        case Source::Kind::container:
          w.from_container(p, src.container);
          break;
      }
    };
    start(p);
    met_socket = met_socket || w.out.met_socket;
    if (proto == "tcp" && rules_.tests_tcp_flags && w.out.result == Outcome::Result::delivered && w.unknown_end.empty()) {
      // Rules test TCP flags: the handshake's SYN and SYN|ACK passed; the
      // connection also needs its later packets (ACK) in both directions.
      Outcome first = std::move(w.out);
      w.out = Outcome{};
      w.last_accept.clear();
      w.admin_accept.clear();
      w.from_ctr.clear();
      Packet q = p;
      q.later = true;
      q.tcp_flags = 0x10;
      start(q);
      met_socket = met_socket || w.out.met_socket;
      if (w.unknown_end.empty() && w.out.result == Outcome::Result::delivered) {
        w.out = std::move(first);
      } else {
        Outcome later = std::move(w.out);
        w.out = std::move(first);
        w.out.result = later.result == Outcome::Result::dropped ? Outcome::Result::dropped : Outcome::Result::uncertain;
        w.out.decided_by = "a later packet of the connection (ACK) " +
                           (later.result == Outcome::Result::dropped ? "is dropped: " + later.decided_by
                                                                     : std::string("may not pass"));
        w.out.steps.push_back({"later", "", "", "", "a later packet of the connection (TCP ACK, ct state established):", false});
        for (auto& st : later.steps) w.out.steps.push_back(std::move(st));
        w.out.dropped_at_input = w.out.dropped_at_input || later.dropped_at_input;
        if (!w.unknown_end.empty()) w.unknown_end = "a later packet of the connection (ACK): " + w.unknown_end;
      }
    }
    // Each unexplored branch: flip one choice point past the given prefix.
    for (std::size_t k = choices.size(); k < d.points.size(); ++k) {
      std::vector<bool> c(choices);
      c.resize(k, false);
      c.push_back(true);
      todo.push_back(std::move(c));
    }
    for (const auto& pt : d.points)
      if (std::find(points.begin(), points.end(), pt) == points.end()) points.push_back(pt);
    if (!w.unknown_end.empty()) {
      w.out.result = Outcome::Result::uncertain;
      w.out.decided_by = w.unknown_end;
    }
    results.push_back(std::move(w.out));
  }
  Outcome o = results.front();  // the walk where nothing unknown matched
  o.met_socket = met_socket;
  bool agree = todo.empty();
  for (const auto& r : results) {
    if (r.result != o.result || r.target != o.target || r.process != o.process) agree = false;
    // Intent only where every choice meets the admin's rule: a walk that
    // passes by another accept is traffic the admin did not open.
    if (r.admin_accept != o.admin_accept) o.admin_accept.clear();
  }
  for (const auto& e : rules_.problems) o.uncertain.push_back(e);
  if (!agree) {
    o.result = Outcome::Result::uncertain;
    for (const auto& pt : points) o.uncertain.push_back(pt);
  } else if (!points.empty()) {
    for (const auto& pt : points) o.uncertain.push_back("(does not change the outcome) " + pt);
  }
  // Rules we could not read may accept or drop anything.
  if (!rules_.problems.empty()) o.result = Outcome::Result::uncertain;
  return o;
}

Json to_json(const Outcome& o) {
  Json j;
  j["outcome"] = to_string(o.result);
  j["target"] = o.target;
  j["container"] = o.container.empty() ? Json(nullptr) : Json(o.container);
  j["process"] = o.process.empty() ? Json(nullptr) : Json(o.process);
  j["decided_by"] = o.decided_by;
  Json steps = Json::array();
  for (const auto& s : o.steps)
    steps.push_back({{"hook", s.hook}, {"where", s.where}, {"rule", s.rule}, {"origin", s.origin}, {"verdict", s.verdict}});
  j["steps"] = std::move(steps);
  j["uncertain"] = o.uncertain;
  return j;
}

std::string render_text(const Outcome& o) {
  std::string s;
  for (const auto& st : o.steps) {
    s += fmt::format("  {:<12} {}", st.hook, st.where);
    if (!st.rule.empty()) s += fmt::format("\n  {:<12}   {}  [{}]", "", st.rule, st.origin);
    s += fmt::format("\n  {:<12}   -> {}\n", "", st.verdict);
  }
  s += fmt::format("outcome: {}", to_string(o.result));
  if (!o.target.empty()) s += " to " + o.target;
  if (!o.decided_by.empty()) s += "\ndecided by: " + o.decided_by;
  s += "\n";
  for (const auto& u : o.uncertain) s += "uncertain: " + u + "\n";
  return s;
}

}  // namespace dfa
