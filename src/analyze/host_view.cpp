// The host as the rules see it (HostView): its local addresses and networks,
// and the reverse-path lookups fib makes.
#include "analyze/ruleset.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dfa {

bool HostView::is_local(const IpAddr& a) const {
  return std::binary_search(local_addrs.begin(), local_addrs.end(), a) ||
         std::any_of(local_nets.begin(), local_nets.end(), [&](const Prefix& p) { return p.contains(a); });
}

bool HostView::is_local_on(const IpAddr& a, const std::string& iface) const {
  if (a.is_loopback()) return iface == "lo";
  auto it = iface_addrs.find(iface);
  return it != iface_addrs.end() && std::find(it->second.begin(), it->second.end(), a) != it->second.end();
}

Tri HostView::fib6_saddr_iif(const IpAddr& saddr, const std::string& iif, std::string& why) const {
  // A packet on the loopback device: the kernel answers iif without a lookup.
  if (iif == "lo") return Tri::yes;
  if (!fib6_unmodeled.empty()) {
    why = "fib saddr . iif oif (IPv6 reverse path): " + fib6_unmodeled;
    return Tri::unknown;
  }
  if (saddr.b[0] == 0xff) {
    why = "fib saddr . iif oif of a multicast source is not modeled";
    return Tri::unknown;
  }
  // The host's own address: the lookup finds a local route (RTF_LOCAL), so no oif.
  if (is_local(saddr) || std::find(anycast6.begin(), anycast6.end(), saddr) != anycast6.end()) return Tri::no;
  // A link-local source is looked up on the input device only.
  bool link_local = saddr.b[0] == 0xfe && (saddr.b[1] & 0xc0) == 0x80;
  const Route6* best = nullptr;
  bool tie = false;
  for (const Route6& r : main6) {
    if (!r.dst.contains(saddr) || (link_local && r.dev != iif)) continue;
    if (!best || r.dst.len > best->dst.len || (r.dst.len == best->dst.len && r.metric < best->metric)) {
      best = &r;
      tie = false;
    } else if (r.dst.len == best->dst.len && r.metric == best->metric && r.dev != best->dev) {
      tie = true;
    }
  }
  if (!best) return Tri::no;  // no route: the lookup fails (ENETUNREACH)
  if (best->type == "unreachable" || best->type == "blackhole" || best->type == "prohibit") return Tri::no;  // RTF_REJECT
  if (best->type != "unicast" || best->dev.empty() || tie) {
    why = fmt::format("fib saddr . iif oif: the route back to {} ({} {}) is not modeled", saddr.str(), best->type,
                      best->dst.str());
    return Tri::unknown;
  }
  return best->dev == iif ? Tri::yes : Tri::no;
}

HostView build_host_view(const Snapshot& s) {
  HostView h;
  if (s.host) {
    for (const Route& r : s.host->routes)
      if (r.table == "local" && r.type == "local" && r.dst_prefix) h.local.push_back(*r.dst_prefix);
    for (const Interface& i : s.host->interfaces)
      for (const InterfaceAddress& a : i.addresses)
        if (auto ip = IpAddr::parse(a.address)) {
          h.iface_addrs[i.name].push_back(*ip);
          h.local.push_back(Prefix{*ip, ip->bytes() * 8});
        }
  }
  if (s.host) {
    for (const Route& r : s.host->routes) {
      if (r.family != 6) continue;
      if (r.table == "main" && r.dst_prefix) h.main6.push_back({*r.dst_prefix, r.dev, r.type, r.metric});
      else if (r.table == "main") h.fib6_unmodeled = "an IPv6 route the analysis does not read (" + r.dst + ")";
      if (r.table == "local" && r.type == "anycast" && r.dst_prefix) h.anycast6.push_back(r.dst_prefix->addr);
      if (r.table == "default") h.fib6_unmodeled = "IPv6 routes in table default";
    }
    bool defaults_only = true;
    for (const PolicyRule& r : s.host->policy_rules)
      if (r.family == 6 && !(r.action == "lookup" && r.src.empty() && r.dst.empty() && r.iif.empty() && r.oif.empty() &&
                             !r.fwmask && !r.invert && r.unmodeled.empty() &&
                             (r.table == "local" || r.table == "main" || r.table == "default")))
        defaults_only = false;
    if (!defaults_only) h.fib6_unmodeled = "IPv6 policy routing rules other than the defaults";
    if (std::any_of(s.host->interfaces.begin(), s.host->interfaces.end(), [](const Interface& i) { return i.kind == "vrf"; }))
      h.fib6_unmodeled = "a VRF device";
    if (h.main6.empty()) h.fib6_unmodeled = "no IPv6 routes in the snapshot";
  } else {
    h.fib6_unmodeled = "no host facts in the snapshot";
  }
  h.local.push_back(*Prefix::parse("127.0.0.0/8"));
  h.local.push_back(*Prefix::parse("::1/128"));
  for (const Prefix& p : h.local) {
    if (p.len == p.addr.bytes() * 8) h.local_addrs.push_back(p.addr);
    else h.local_nets.push_back(p);
  }
  std::sort(h.local_addrs.begin(), h.local_addrs.end());
  return h;
}
}  // namespace dfa
