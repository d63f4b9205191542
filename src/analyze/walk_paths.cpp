// A walk along a packet's path: inbound, input, forward, output, bridges,
// docker-proxy and containers, and the reply direction (Engine::Impl, walk.hpp).
#include "analyze/walk.hpp"

namespace dfa {

Packet Engine::Impl::reply_of(const Packet& p) const {
  Packet r;
  r.family = p.family;
  r.proto = p.proto;
  r.saddr = p.daddr;
  r.sport = p.dport;
  r.daddr = p.saddr;
  r.dport = p.sport;
  // Conntrack finds the connection at -200: chains before it see none.
  r.ct = false;
  r.reply = true;
  r.tcp_flags = p.later ? 0x10 : 0x12;  // ACK, or the handshake's SYN|ACK
  r.later = p.later;
  if (p.untracked)
    r.ct_unknown = "the request was untracked (notrack): what conntrack makes of the reply is not modeled";
  r.snat_from = p.snat_from;  // r.daddr is the translated source until prerouting's NAT priority
  r.snat_unknown = p.snat_unknown;
  r.dnat_done = p.dnat_done;
  r.orig_daddr = p.orig_daddr;
  r.orig_dport = p.orig_dport;
  r.mark = 0;  // the packet mark is per packet; the connection mark stays with the connection
  r.ctmark = p.ctmark;
  r.ctmark_unknown = p.ctmark_unknown;
  return r;
}

bool Engine::Impl::reply_dropped(const std::string& by) {
  out.result = Outcome::Result::dropped;
  out.decided_by = "the reply is dropped: " + by;
  step("reply", "", "", "", out.decided_by);
  return false;
}

void Engine::Impl::rewritten(const Packet& q, bool reply) {
  if (q.rewritten.empty()) return;
  taint(q.rewritten + (reply ? " rewrote the reply: whether the client takes it is not modeled"
                             : " rewrote the request: whether its reply reaches the client is not modeled"));
}

bool Engine::Impl::reply_from_outside(const Packet& p, const ContainerAddr* from) {
  rewritten(p, false);
  if (p.bridged_unseen) {
    if (trace) step("reply", "", "", "", "the reply is bridged back: the ip hooks do not see it either");
    return true;
  }
  Packet r = reply_of(p);
  auto done = [&] {
    rewritten(r, true);
    return true;
  };
  r.iif = p.oif;
  r.bridged = p.bridged;
  r.physin = p.physout;
  r.physout = p.physin;
  r.physin_unknown = p.physout_unknown;
  r.physout_unknown = p.physin_unknown;
  if (!p.bridged && e.bridge_ports_.count(p.oif)) bridge_port(r, p.oif, from, p.daddr, true);
  if (trace) step("reply", r.iif, "", "", fmt::format("reply from {} comes back in on {}", r.saddr.str(), r.iif));
  if ((!p.bridged && !run_ingress(r)) || !run_hook("prerouting", r, false)) return reply_dropped(out.decided_by);
  if (p.bridged) {
    r.oif = p.iif;
    if (!run_hook("forward", r, false) || !run_hook("postrouting", r, false)) return reply_dropped(out.decided_by);
    return done();
  }
  if (e.host_.is_local(r.daddr)) {
    if (!run_hook("input", r, false)) return reply_dropped(out.decided_by);
    return done();
  }
  if (std::string rpf = rp_filter_drop(r); !rpf.empty()) return reply_dropped(rpf);
  std::string no_route;
  auto rt = route(r, r.saddr, no_route);
  if (!rt || rt->type != "unicast") return reply_dropped("no route back to " + r.daddr.str() + " (" + no_route + ")");
  r.oif = rt->dev;
  if (!run_hook("forward", r, false) || !run_hook("postrouting", r, false)) return reply_dropped(out.decided_by);
  return done();
}

bool Engine::Impl::reply_from_host(const Packet& p) {
  rewritten(p, false);
  Packet r = reply_of(p);
  auto done = [&] {
    rewritten(r, true);
    return true;
  };
  r.local_origin = true;
  bool local = e.host_.is_local(r.daddr) || p.iif == "lo";
  std::string no_route;
  if (local)
    r.oif = "lo";
  else if (auto rt = route(r, r.saddr, no_route); rt && rt->type == "unicast")
    r.oif = rt->dev;
  else
    return reply_dropped("no route back to " + r.daddr.str() + " (" + no_route + ")");
  if (trace) step("reply", r.oif, "", "", fmt::format("reply from the host goes out via {}", r.oif));
  if (!run_hook("output", r, false) || !run_hook("postrouting", r, false)) return reply_dropped(out.decided_by);
  if (r.oif == "lo") {
    r.iif = "lo";
    r.oif.clear();
    if (!run_hook("prerouting", r, false) || !run_hook("input", r, false)) return reply_dropped(out.decided_by);
  }
  return done();
}

const char* Engine::Impl::bridge_nf_knob(int family) {
  return family == 6 ? "net/bridge/bridge-nf-call-ip6tables" : "net/bridge/bridge-nf-call-iptables";
}

bool Engine::Impl::bridge_nf_call(int family) const { return family == 6 ? e.bridge_nf_call6_ : e.bridge_nf_call4_; }

void Engine::Impl::bridge_port(Packet& q, const std::string& bridge, const ContainerAddr* container, const IpAddr& addr,
                               bool in) const {
  if (!bridge_nf_call(q.family)) return;
  std::string& name = in ? q.physin : q.physout;
  std::string& unknown = in ? q.physin_unknown : q.physout_unknown;
  auto it = e.bridge_ports_.find(bridge);
  if (it != e.bridge_ports_.end() && it->second.size() == 1) {
    name = it->second.front();
    unknown.clear();
    return;
  }
  name = "?";
  unknown = fmt::format("which port of bridge {} leads to {} is not in the snapshot", bridge,
                        container ? "container " + container->name : addr.str());
}

std::optional<bool> Engine::Impl::bridge_hairpin(const std::string& bridge) const {
  auto it = e.hairpin_.find(bridge);
  return it == e.hairpin_.end() ? std::nullopt : it->second;
}

void Engine::Impl::deliver_container(const Packet& p, const ContainerAddr& c) {
  // Back to the container it came from (its own published port, DNATed):
  // the bridge sends a frame out of the port it came in on only in hairpin
  // mode, which Docker sets when the userland proxy is off.
  if (from_ctr == c.name && p.iif == c.bridge && !p.local_origin) {
    auto hp = bridge_hairpin(c.bridge);
    if (!hp) {
      taint(fmt::format("whether bridge {} sends container {}'s frames back to it (hairpin mode) is not known",
                        c.bridge, c.name));
      step("bridge", c.bridge, "", "", "hairpin mode of the bridge ports unknown");
      return;
    }
    if (!*hp) {
      step("bridge", c.bridge, "", "", "the bridge port has no hairpin mode");
      drop(fmt::format(
          "bridge {}: no hairpin mode on container {}'s port, so the frame is not sent back out the port it came in on",
          c.bridge, c.name));
      return;
    }
    step("bridge", c.bridge, "", "", "hairpin mode: the frame goes back out the port it came in on");
  }
  std::string accepted_by = last_accept;
  if (!reply_from_outside(p, &c)) return;
  check_nd(p.oif, p.daddr);
  if (!p.local_origin && !p.bridged) check_nd(p.iif, next_hop(p.snat_from.value_or(p.saddr)));
  out.result = Outcome::Result::delivered;
  out.decided_by = accepted_by;
  out.admin_accept = admin_accept;
  out.container = c.name;
  std::string a = bracketed(p.daddr);
  out.target = fmt::format("container {} {}:{}/{} (network {})", c.name, a, p.dport, p.proto, c.network);
  step("deliver", c.bridge, "", "", out.target);
}

void Engine::Impl::forward(Packet& p) {
  if (!run_hook("forward", p, false)) return;
  if (!run_hook("postrouting", p, true)) return;
  egress(p);
}

void Engine::Impl::egress(Packet& p) {
  auto c = container_at(p.daddr);
  if (c && c->bridge == p.oif) {
    deliver_container(p, *c);
    return;
  }
  if (!c && !p.oif.empty() && p.oif != "lo") {
    // Not a container Docker knows: the host lets it out; whoever is there gets it.
    std::string accepted_by = last_accept;
    if (!reply_from_outside(p)) return;
    check_nd(p.oif, next_hop(p.daddr));
    if (!p.local_origin) check_nd(p.iif, next_hop(p.snat_from.value_or(p.saddr)));
    out.result = Outcome::Result::delivered;
    out.decided_by = accepted_by;
    std::string a = bracketed(p.daddr);
    out.target = fmt::format("{}:{}/{} out of {}", a, p.dport, p.proto, p.oif);
    if (trace) step("deliver", p.oif, "", "", "sent out of " + p.oif);
    return;
  }
  out.result = Outcome::Result::dropped;
  out.decided_by = fmt::format("no container or host at {} behind {}", p.daddr.str(), p.oif);
  step("deliver", p.oif, "", "", out.decided_by);
}

void Engine::Impl::inbound(Packet& p) {
  if (p.family == 6 && (p.daddr.is_loopback() || p.saddr.is_loopback()) && p.iif != "lo") {
    step("ingress", "ip6_rcv_core", "", "", "drop: ::1 on a non-loopback device");
    drop("kernel: IPv6 drops ::1 arriving on a non-loopback device (ip6_rcv_core)");
    return;
  }
  p.orig_daddr = p.daddr;
  p.orig_dport = p.dport;
  if (!run_ingress(p) || !run_hook("prerouting", p, true)) return;
  route_input(p);
}

void Engine::Impl::route_input(Packet& p) {
  if (p.family == 4 && p.iif != "lo" && (p.daddr.is_loopback() || p.saddr.is_loopback()) && !route_localnet(p.iif)) {
    if (trace) step("routing", "ip_route_input_slow", "", "", "drop: martian (loopback address on " + p.iif + ")");
    drop(fmt::format("kernel: loopback address arriving on {} is martian (route_localnet is 0)", p.iif));
    return;
  }
  if (std::string rpf = rp_filter_drop(p); !rpf.empty()) {
    if (trace) step("routing", "fib_validate_source", "", "", "drop: " + rpf);
    drop(rpf);
    return;
  }
  if (e.host_.is_local(p.daddr)) {
    if (trace) step("routing", "local", "", "", "local delivery to " + p.daddr.str());
    local_in(p);
    return;
  }
  // Policy routing may send it to a local route of another table (tproxy's
  // usual setup): local delivery, forwarding not needed. The lookup comes
  // first, as in the kernel; a packet it cannot route is reported as
  // before when forwarding is off.
  std::string no_route;
  auto rt = route(p, p.saddr, no_route);
  if (rt && rt->type == "local" && !e.policy_rules_.empty()) {
    if (trace) step("routing", "local", "", "", "local delivery by a local route of table " + rt->table);
    local_in(p);
    return;
  }
  if (!forwarding_enabled(p.iif, p.family)) {
    step("routing", "forwarding", "", "", "drop: forwarding disabled");
    drop(fmt::format("kernel: IPv{} forwarding is disabled", p.family));
    return;
  }
  if (!rt || rt->type != "unicast") {
    step("routing", "main", "", "", "drop: no route");
    drop(no_route);
    return;
  }
  p.oif = rt->dev;
  std::string note;
  if (trace && p.dnat_done && e.host_.is_local(p.orig_daddr)) {
    // The classic bypass: say which input chains this packet never meets.
    std::vector<std::string> inputs;
    for (const auto& b : e.rules_.base)
      if (b.hook == "input" && b.type != "nat" && b.applies_to(p.family)) inputs.push_back(b.label());
    note = fmt::format(
        " (DNAT changed the destination from {} to {}: the packet is forwarded, so input chains{}{} never see it)",
        p.orig_daddr.str(), p.daddr.str(), inputs.empty() ? "" : " ", fmt::join(inputs, ", "));
  }
  if (trace) step("routing", "main", "", "", fmt::format("forward via {}{}", p.oif, note));
  forward(p);
}

void Engine::Impl::local_in(Packet& p) {
  if (!run_hook("input", p, true)) return;
  socket_lookup(p);
}

void Engine::Impl::socket_lookup(Packet& p) {
  out.met_socket = true;
  const SocketEntry* best = nullptr;
  int best_score = -1;
  static const IpAddr any4 = *IpAddr::parse("0.0.0.0"), any6 = *IpAddr::parse("::");
  auto candidates = e.sockets_by_port_.find({p.proto, p.dport});
  static const std::vector<std::size_t> none;
  for (std::size_t k : candidates == e.sockets_by_port_.end() ? none : candidates->second) {
    const auto& so = e.sockets_[k];
    int score = -1;
    if (so.addr == p.daddr)
      score = 3;
    else if (so.family == p.family && ((so.family == 4 && so.addr == any4) || (so.family == 6 && so.addr == any6)))
      score = 2;
    else if (so.family == 6 && p.family == 4 && so.addr == any6 && so.v6only != true)
      score = 1;  // dual-stack wildcard
    if (score > best_score) {
      best_score = score;
      best = &so;
    }
  }
  if (best && best_score == 1 && !best->v6only)
    taint(fmt::format("whether [::]:{}/{} ({}) takes IPv4 too (IPV6_V6ONLY) is not in the snapshot", p.dport, p.proto,
                      best->process.empty() ? "owner unknown" : best->process));
  if (!best) {
    std::string a = bracketed(p.daddr);
    if (trace) step("socket", "", "", "", fmt::format("no socket listening on {}:{}/{}", a, p.dport, p.proto));
    drop(fmt::format("no socket listens on {}:{}/{}", a, p.dport, p.proto));
    return;
  }
  std::string proc = best->process;
  std::string sa = bracketed(best->address);
  std::string sock = fmt::format("{} {}:{}/{}", proc.empty() ? "unknown process" : proc, sa, p.dport, p.proto);
  if (trace) step("socket", sock, "", "", "accepted by " + sock);
  out.process = proc;
  std::string accepted_by = last_accept;
  if (proc != "dockerd" && !reply_from_host(p)) return;
  if (!p.local_origin && p.iif != "lo") check_nd(p.iif, next_hop(p.snat_from.value_or(p.saddr)));
  last_accept = accepted_by;
  if (proc == "docker-proxy") {
    proxy(p, *best);
    return;
  }
  if (proc == "dockerd") {
    // With the userland proxy off, dockerd holds published ports open only
    // to reserve them: the handshake completes, nothing ever answers.
    out.result = Outcome::Result::dropped;
    out.target = "host socket " + sock;
    out.decided_by = "dockerd holds " + sock + " only to reserve the port: no service answers";
    return;
  }
  out.result = Outcome::Result::delivered;
  out.target = "host socket " + sock;
  out.decided_by = last_accept;
  if (proc.empty()) out.uncertain.push_back("the owner of " + sock + " is not known (collect as root)");
}

void Engine::Impl::proxy(const Packet& in, const Engine::SocketEntry& so) {
  if (so.proxy_addr && so.proxy_port) {
    // Its own argv says where: the container's IPv6 address for an IPv6
    // binding on Docker 28 when the container has one, IPv4 otherwise.
    proxy_connect(in, so.address, *so.proxy_addr, so.proxy_port, " (its argv)");
    return;
  }
  if (!e.snap_.docker) {
    d.pick("docker-proxy without Docker API data: its container is unknown");
    out.result = Outcome::Result::uncertain;
    return;
  }
  auto targets = e.proxy_targets_.find({in.proto, so.address});
  static const std::vector<Engine::ProxyTarget> no_targets;
  for (const auto& t : targets == e.proxy_targets_.end() ? no_targets : targets->second) {
    // Without its argv: the container's address on its first network
    // (IPv4), as Docker 20.10 does.
    if (in.dport < t.lo || in.dport > t.hi || !t.container) continue;
    proxy_connect(in, so.address, *t.container, t.container_port + (in.dport - t.lo), "");
    return;
  }
  out.result = Outcome::Result::dropped;
  out.decided_by = "docker-proxy has no container behind this port";
}

void Engine::Impl::proxy_connect(const Packet& in, const std::string& bound, const IpAddr& to, unsigned port,
                                 const char* how) {
  if (trace) step("docker-proxy", "", "", "", fmt::format("connects to {}:{}{}", to.str(), port, how));
  Packet q;
  q.family = to.family;
  q.proto = in.proto;
  q.daddr = to;
  q.dport = port;
  q.local_origin = true;
  q.later = in.later;
  q.tcp_flags = in.tcp_flags;
  std::string in_accept = last_accept;
  local_out(q, std::nullopt);
  if (out.result == Outcome::Result::delivered) {
    out.decided_by = in_accept;
    out.target += fmt::format(" via docker-proxy on {}:{}",
                              bracketed(bound), in.dport);
  }
}

void Engine::Impl::local_out(Packet& p, std::optional<IpAddr> src) {
  p.orig_daddr = p.daddr;
  p.orig_dport = p.dport;
  bool local = e.host_.is_local(p.daddr);
  const RouteEntry* rt = nullptr;
  if (local)
    p.oif = "lo";
  else {
    std::string no_route;
    rt = route(p, src, no_route);
    if (!rt || rt->type != "unicast") {
      step("routing", "main", "", "", "no route");
      drop(no_route);
      return;
    }
    p.oif = rt->dev;
  }
  p.saddr = src ? *src : local ? p.daddr : (rt->prefsrc ? *rt->prefsrc : primary_addr(p.oif, p.family));
  uint32_t mark = p.mark;
  if (!run_hook("output", p, true)) return;
  if (p.dnat_done || (p.mark != mark && !e.policy_rules_.empty())) {  // rerouted after DNAT or a new mark
    std::string no_route;
    if (e.host_.is_local(p.daddr))
      p.oif = "lo";
    else if (auto r2 = route(p, p.saddr, no_route); r2 && r2->type == "unicast")
      p.oif = r2->dev;
    else if (!e.policy_rules_.empty()) {
      drop(no_route);
      return;
    }
  }
  if (trace) step("routing", "output", "", "", "out via " + p.oif);
  if (!run_hook("postrouting", p, true)) return;
  if (p.oif == "lo") {
    // Loops back: prerouting (conntrack and NAT already done) and input.
    p.iif = "lo";
    p.oif.clear();
    if (!run_hook("prerouting", p, false)) return;
    local_in(p);
    return;
  }
  egress(p);
}

void Engine::Impl::from_container(Packet& p, const std::string& name) {
  from_ctr = name;
  const Container* c = e.snap_.docker ? e.snap_.docker->container(name) : nullptr;
  if (!c) {
    d.pick("no container named " + name);
    out.result = Outcome::Result::uncertain;
    return;
  }
  auto addr_of = [&](const ContainerNetwork& n) -> const std::string& { return p.family == 6 ? n.ipv6 : n.ipv4; };
  // Which of its networks the packet leaves by: the one whose subnet holds
  // the destination, else the first (Docker's default gateway).
  const ContainerNetwork* via = nullptr;
  for (const auto& n : c->networks) {
    if (addr_of(n).empty()) continue;
    if (!via) via = &n;
    auto self = IpAddr::parse(addr_of(n));
    int len = static_cast<int>(p.family == 6 ? n.ipv6_prefix_len : n.ipv4_prefix_len);
    if (self && *self == p.daddr) {
      out.result = Outcome::Result::delivered;
      out.container = name;
      out.target = fmt::format("container {} itself", name);
      step("deliver", "container", "", "", "its own address");
      return;
    }
    if (self && Prefix{*self, len}.contains(p.daddr)) via = &n;
  }
  if (!via) {
    drop(fmt::format("container {} has no IPv{} address", name, p.family));
    return;
  }
  auto saddr = IpAddr::parse(addr_of(*via));
  if (!saddr) {
    drop(fmt::format("container {} has no IPv{} address", name, p.family));
    return;
  }
  p.saddr = *saddr;
  p.iif = e.snap_.docker->bridge_of(via->network);
  ContainerAddr self{name, via->network, p.iif};
  bridge_port(p, p.iif, &self, p.saddr, true);
  auto dst = container_at(p.daddr);
  if (dst && dst->bridge == p.iif) {
    if (!bridge_nf_call(p.family)) {
      if (trace)
        step("bridge", p.iif, "", "",
             std::string(bridge_nf_knob(p.family)) + " is not 1: the ip hooks do not see bridged traffic");
      p.bridged_unseen = true;
      deliver_container(p, *dst);
      return;
    }
    step("bridge", p.iif, "", "", "br_netfilter: ip hooks see bridged traffic");
    p.bridged = true;
    bridge_port(p, p.iif, &*dst, p.daddr, false);
    p.orig_daddr = p.daddr;
    p.orig_dport = p.dport;
    if (!run_hook("prerouting", p, true)) return;
    if (p.dnat_done) {
      p.bridged = false;
      p.physout.clear();
      p.physout_unknown.clear();
      route_input(p);
      return;
    }
    p.oif = p.iif;
    forward(p);
    return;
  }
  inbound(p);
}

}  // namespace dfa
