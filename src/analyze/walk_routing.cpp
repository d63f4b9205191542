// A walk's routing: route lookups, forwarding and rp_filter, IPv6 neighbour
// discovery, and which container an address is (Engine::Impl, walk.hpp).
#include "analyze/walk.hpp"

namespace dfa {

const Engine::RouteEntry* Engine::Impl::lookup(const IpAddr& dst) const {
  const RouteEntry* best = nullptr;
  for (const RouteEntry* r : e.main_routes_)
    if (r->family == dst.family && r->dst.contains(dst) && (!best || r->dst.len > best->dst.len)) best = r;
  return best;
}

const Engine::RouteEntry* Engine::Impl::table_lookup(const std::string& table, const IpAddr& dst) const {
  auto it = e.tables_.find(table);
  if (it == e.tables_.end()) return nullptr;
  const RouteEntry* best = nullptr;
  for (const RouteEntry* r : it->second)
    if (r->family == dst.family && r->dst.contains(dst) && (!best || r->dst.len > best->dst.len)) best = r;
  return best;
}

const Engine::RouteEntry* Engine::Impl::route(const Packet& p, std::optional<IpAddr> src, std::string& why) {
  if (e.policy_rules_.empty()) {
    const RouteEntry* r = lookup(p.daddr);
    if (!r || r->type != "unicast") why = fmt::format("kernel: no route to {}", p.daddr.str());
    return r;
  }
  static const IpAddr none4 = *IpAddr::parse("0.0.0.0"), none6 = *IpAddr::parse("::");
  const IpAddr& from = src ? *src : p.family == 6 ? none6 : none4;
  for (const auto& entry : e.policy_rules_) {
    const PolicyRule& pr = *entry.rule;
    if (pr.family != p.family) continue;
    bool hit = true;
    if (pr.src_prefix && !pr.src_prefix->contains(from)) hit = false;
    if (pr.dst_prefix && !pr.dst_prefix->contains(p.daddr)) hit = false;
    if (!pr.iif.empty() && pr.iif != (p.local_origin ? "lo" : p.iif)) hit = false;
    if (!pr.oif.empty()) hit = false;  // only sockets bound to a device select by oif
    if (pr.fwmask && hit) {
      if (!p.mark_unknown.empty()) {
        hit = d.pick(fmt::format("policy routing rule {} selects by mark: {}", pr.priority, p.mark_unknown));
      } else if ((p.mark & pr.fwmask) != pr.fwmark) {
        hit = false;
      }
    }
    if (pr.invert) hit = !hit;
    if (!hit) continue;
    if (!entry.unmodeled.empty()) {
      taint(entry.unmodeled);
      continue;
    }
    if (pr.action != "lookup") {
      why = fmt::format("kernel: policy routing rule {} ({}) matches {}", pr.priority, pr.action, p.daddr.str());
      if (trace) step("routing", "rule " + std::to_string(pr.priority), "", "", pr.action);
      return nullptr;
    }
    const RouteEntry* r = table_lookup(pr.table, p.daddr);
    if (!r || r->type == "throw") continue;
    if (trace && pr.table != "main")
      step("routing", "rule " + std::to_string(pr.priority), "", "", "lookup table " + pr.table);
    if (r->type == "local" && !p.local_origin && !p.reply) return r;  // local delivery (route_input)
    if (r->type == "local") {
      taint(fmt::format("table {} routes {} to the host itself (a local route): not modeled for this packet", pr.table,
                        p.daddr.str()));
      return nullptr;
    }
    if (r->type != "unicast") {
      why = fmt::format("kernel: table {} has a {} route to {}", pr.table, r->type, p.daddr.str());
      return nullptr;
    }
    return r;
  }
  why = fmt::format("kernel: no route to {}", p.daddr.str());
  return nullptr;
}

bool Engine::Impl::forwarding_enabled(const std::string& iif, int family) const {
  if (family == 4) {
    std::string v = sysctl(fmt::format("net/ipv4/conf/{}/forwarding", iif));
    if (v.empty()) v = sysctl("net/ipv4/ip_forward");
    return v == "1";
  }
  std::string v = sysctl(fmt::format("net/ipv6/conf/{}/forwarding", iif));
  if (v.empty()) v = sysctl("net/ipv6/conf/all/forwarding");
  return v == "1";
}

std::string Engine::Impl::rp_filter_drop(const Packet& p) {
  if (p.family != 4 || p.iif.empty() || p.iif == "lo") return "";
  auto level = [&](const std::string& key) {
    std::string v = sysctl(key);
    return v == "1" ? 1 : v == "2" ? 2 : 0;
  };
  int rpf = std::max(level("net/ipv4/conf/all/rp_filter"), level(fmt::format("net/ipv4/conf/{}/rp_filter", p.iif)));
  if (!rpf) return "";
  // The reverse lookup carries the packet's mark only with src_valid_mark,
  // which the snapshot does not hold: where a mark rule could tell the two
  // lookups apart, both are made, and if they disagree it is uncertain.
  auto verdict = [&](uint32_t mark) -> std::string {
    Packet back;
    back.family = 4;
    back.daddr = p.saddr;
    back.local_origin = true;
    back.mark = mark;
    std::string no_route;
    const RouteEntry* rt = e.host_.is_local(p.saddr) ? nullptr : route(back, p.daddr, no_route);
    // The texts name the route, not the address: every source of a class
    // takes the same route back (routes split the classes), so a shared
    // walk says what is true of each of them.
    if (!rt || rt->type != "unicast")
      return fmt::format("kernel: reverse path filter (rp_filter {} on {}): no route back to the source", rpf, p.iif);
    if (rpf == 1 && rt->dev != p.iif) {
      if (rt->dev.empty()) {  // a multipath route: which devices it holds is not in the snapshot
        taint(
            fmt::format("the route back ({}) has several devices: whether strict rp_filter on {} passes it is "
                        "not modeled",
                        rt->dst.str(), p.iif));
        return "";
      }
      return fmt::format("kernel: reverse path filter (rp_filter 1 on {}): the route back ({}) leaves by {}", p.iif,
                         rt->dst.str(), rt->dev);
    }
    return "";
  };
  std::string without_mark = verdict(0);
  bool mark_rules = std::any_of(e.policy_rules_.begin(), e.policy_rules_.end(),
                                [](const PolicyRuleEntry& r) { return r.rule->fwmask != 0; });
  if (mark_rules && (!p.mark_unknown.empty() || (p.mark != 0 && verdict(p.mark) != without_mark))) {
    taint(
        fmt::format("the reverse path filter on {} looks the route back up with or without the packet's mark "
                    "(src_valid_mark, not in the snapshot), and a mark rule tells them apart",
                    p.iif));
    return "";
  }
  return without_mark;
}

bool Engine::Impl::route_localnet(const std::string& iif) const {
  return sysctl("net/ipv4/conf/all/route_localnet") == "1" ||
         sysctl(fmt::format("net/ipv4/conf/{}/route_localnet", iif)) == "1";
}

std::optional<Engine::Impl::ContainerAddr> Engine::Impl::container_at(const IpAddr& a) const {
  auto it = e.containers_.find(a);
  if (it == e.containers_.end()) return std::nullopt;
  return ContainerAddr{it->second.name, it->second.network, it->second.bridge};
}

void Engine::Impl::check_nd(const std::string& iface, const IpAddr& neighbour) {
  if (neighbour.family != 6 || iface.empty() || iface == "lo") return;
  IpAddr self = primary_addr(iface, 6);
  auto solicited = [](const IpAddr& a) {
    IpAddr m = *IpAddr::parse("ff02::1:ff00:0");
    for (int k = 13; k < 16; ++k) m.b[k] = a.b[k];
    return m;
  };
  struct Nd {
    const char* type;
    bool in;
    IpAddr from, to;
  };
  const Nd nds[] = {{"nd-neighbor-solicit", false, self, solicited(neighbour)},
                    {"nd-neighbor-advert", true, neighbour, self},
                    {"nd-neighbor-solicit", true, neighbour, solicited(self)},
                    {"nd-neighbor-advert", false, self, neighbour}};
  for (const Nd& nd : nds) {
    Outcome saved = out;
    std::string saved_accept = last_accept;
    Packet q;
    q.family = 6;
    q.proto = "ipv6-icmp";
    q.icmp_type = nd.type;
    q.hop_limit = 255;
    q.saddr = nd.from;
    q.daddr = nd.to;
    q.nd = true;  // conntrack leaves it untracked; chains before it see no connection
    bool ok;
    if (nd.in) {
      q.iif = iface;
      ok = run_ingress(q) && run_hook("prerouting", q, false) && run_hook("input", q, false);
    } else {
      q.oif = iface;
      q.local_origin = true;
      ok = run_hook("output", q, false);
      // Neighbour discovery builds its packets on the device (skb->dev),
      // which ip6_output hands to postrouting as the input device: there
      // "iifname" is the device they leave by (differential seed 1201).
      q.iif = iface;
      ok = ok && run_hook("postrouting", q, false);
    }
    std::string by = out.decided_by;
    out = saved;
    last_accept = saved_accept;
    if (ok) continue;
    std::string what = std::string(nd.type) == "nd-neighbor-solicit" ? "solicitations" : "advertisements";
    std::string why = fmt::format(
        "neighbour {} {} {} on {} are dropped by {}: the path works only while the "
        "neighbour caches still hold {} and {}",
        what, nd.in ? "from" : "to", neighbour.str(), iface, by, neighbour.str(), self.str());
    step("neighbour", iface, "", "", why);
    taint(why);
    return;
  }
}

IpAddr Engine::Impl::next_hop(const IpAddr& dst) const {
  const RouteEntry* best = lookup(dst);
  return best && best->gateway ? *best->gateway : dst;
}

}  // namespace dfa
