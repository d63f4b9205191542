#include "analyze/engine.hpp"

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

namespace {

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


}  // namespace

struct Engine::Impl {
  const Engine& e;
  Decider& d;
  Outcome out;
  std::string last_accept;  // the last rule or policy that accepted the packet
  std::string admin_accept;  // Outcome::admin_accept, while the packet is on its way
  std::string unknown_end;  // set when the walk met a translation it cannot follow
  std::string from_ctr;     // the source container, when the packet starts in one
  bool trace = true;
  bool skip_nat = false;
  VisitedChains* visited = nullptr;  // every chain entered, when asked

  std::string sysctl(const std::string& key) const {
    auto it = e.sysctls_.find(key);
    return it == e.sysctls_.end() ? "" : it->second;
  }

  // Records a step when tracing. Exposure walks millions of packets without
  // a trace, so callers that format text do it under `if (trace)`.
  void step(std::string_view hook, std::string_view where, std::string_view rule, std::string_view origin,
            std::string_view verdict, bool drops = false) {
    if (drops && hook == "input") out.dropped_at_input = true;
    if (drops && (hook == "input" || hook == "prerouting" || hook == "forward")) out.dropped_in_filter = true;
    if (!trace) return;
    out.steps.push_back(
        {std::string(hook), std::string(where), std::string(rule), std::string(origin), std::string(verdict), drops});
  }

  // Something on this walk's path is not modeled: whatever the walk ends in
  // is uncertain, naming the first such thing.
  void taint(const std::string& why) {
    if (unknown_end.empty()) unknown_end = why;
  }

  void drop(const std::string& by) {
    out.result = Outcome::Result::dropped;
    out.decided_by = by;
  }

  bool eval_rule(const Rule& r, const Packet& p) {
    for (std::size_t k = 0; k < r.conds.size(); ++k) {
      std::string why;
      Tri t = r.conds[k](p, why);
      if (t == Tri::no || (t == Tri::unknown && !d.pick(fmt::format("{}: {}", r.origin, why)))) {
        if (visited && r.json) visited->rules.push_back({r.json, p.reply, closes(r, p, k)});
        return false;
      }
    }
    if (visited && r.json) visited->rules.push_back({r.json, p.reply, false});
    return true;
  }
  // For walk sharing: whether a plain test (Rule::lead) that does not read
  // the sender's address fails for p, so the rule fails for every sender
  // on p's path. failed: the test that ended the walk's evaluation. The
  // tests before it are plain too, and never unknown.
  bool closes(const Rule& r, const Packet& p, std::size_t failed) const {
    const TestReads sender = p.reply ? TestReads::daddr : TestReads::saddr;
    if (failed >= r.lead.size()) return false;
    if (r.lead[failed] != sender) return true;
    for (std::size_t k = failed + 1; k < r.lead.size(); ++k) {
      std::string why;
      if (r.lead[k] != sender && r.conds[k](p, why) == Tri::no) return true;
    }
    return false;
  }
  // A reply skipping rules by their destination address (PortIndex) skips
  // what a reply to another sender would read: for each, whether a plain
  // test that reads no destination address fails for this reply.
  void skipped_by_daddr(const BaseChain& b, const Chain& c, const Packet& p, std::size_t from, std::size_t to) {
    const auto& w = c.index->with_daddr;
    // Rules of one lead group close alike: each group's tests run once.
    std::uint32_t group = UINT32_MAX;
    bool closed = false;
    for (auto it = std::lower_bound(w.begin(), w.end(), from); it != w.end() && *it < to; ++it) {
      const Rule& r = c.rules[*it];
      if (!r.json) {
        visited->chains.push_back({&b, &c, true, true});
        continue;
      }
      if (std::uint32_t g = c.index->lead_group[static_cast<std::size_t>(it - w.begin())]; g != group) {
        group = g;
        closed = false;
        for (std::size_t k = 0; k < r.lead.size() && !closed; ++k) {
          std::string why;
          closed = r.lead[k] != TestReads::daddr && r.conds[k](p, why) == Tri::no;
        }
      }
      visited->rules.push_back({r.json, true, closed});
    }
  }

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
  static bool admin_intent(const BaseChain& b, const ChainResult& r) {
    if (r.k != ChainResult::accept || !r.rule || !r.chain) return false;
    const std::string& c = r.chain->name;
    bool docker = b.table.rfind("docker", 0) == 0 || c == "FORWARD" || (c.rfind("DOCKER", 0) == 0 && c != "DOCKER-USER");
    return !docker && (!r.rule->dports.empty() || r.rule->daddr.has_value() || r.rule->names_sources);
  }

  ChainResult run_chain(const BaseChain& b, Packet& p, const std::string& hook) {
    struct Frame {
      const Chain* chain;
      std::size_t i;
    };
    std::vector<Frame> stack;
    const Chain* cur = b.start;
    if (visited && cur) visited->chains.push_back({&b, cur, p.reply});
    std::size_t i = 0;
    auto policy = [&]() {
      if (trace) step(hook, b.label(), "", "", "policy " + b.policy, b.policy == "drop");
      else if (b.policy == "drop") step(hook, "", "", "", "", true);  // no text to make, the flag to set
      return ChainResult{b.policy == "drop" ? ChainResult::drop : ChainResult::accept, nullptr, b.policy_text};
    };
    int guard = 0;
    while (true) {
      if (++guard > 100000) {
        d.pick(b.label() + ": chain loop");
        return ChainResult{ChainResult::accept, nullptr, "loop"};
      }
      if (cur && cur->index) {
        // As the ct expression reads it (ruleset.cpp): unknown where the
        // model does not know the connection, nothing before conntrack or
        // for an untracked packet.
        PortIndex::CtPort ct;
        if (!p.ct_unknown.empty()) ct.known = PortIndex::CtPort::unknown;
        else if (p.ct && !p.untracked) ct = {PortIndex::CtPort::yes, p.orig_dport};
        std::size_t next = cur->index->next(p.daddr, p.dport, ct, i, cur->rules.size());
        if (visited && p.reply) skipped_by_daddr(b, *cur, p, i, next);
        i = next;
      }
      if (!cur || i >= cur->rules.size()) {
        if (stack.empty()) return policy();
        cur = stack.back().chain;
        i = stack.back().i;
        stack.pop_back();
        continue;
      }
      const Rule* rp = &cur->rules[i++];
      // A rule not from the snapshot (a run) is not told apart: the chain
      // counts whole.
      if (visited && (rp->run || !rp->json)) visited->chains.push_back({&b, cur, p.reply, true});
      if (rp->run) {
        // A run of single-address rules: the first whose address is the packet's.
        const RuleRun& run = *rp->run;
        if (p.family != run.family) continue;
        auto hit = run.first.find(run.src ? p.saddr : p.daddr);
        if (hit == run.first.end()) continue;
        rp = &run.rules[hit->second];
      } else if (!eval_rule(*rp, p)) {
        continue;
      }
      const Rule& r = *rp;
      for (const auto& eff : r.effects) eff(p);
      if (!r.taint.empty()) taint(r.taint);
      const Action* a = &r.action;
      if (a->kind == Action::vmap) {
        const Action* chosen = nullptr;
        std::optional<uint64_t> key = a->vmap_index ? a->vmap_index->key(p) : std::nullopt;
        if (key) {
          auto hit = a->vmap_index->first.find(*key);
          if (hit != a->vmap_index->first.end()) chosen = &a->vmap_entries[hit->second].action;
        } else {
          for (const auto& sub : a->vmap_entries)
            if (eval_rule(sub, p)) {
              chosen = &sub.action;
              break;
            }
        }
        if (!chosen) continue;
        a = chosen;
      }
      auto verdict = [&](std::string_view v, bool drops = false) { step(hook, b.label(), r.text, r.origin, v, drops); };
      switch (a->kind) {
        case Action::none: continue;
        case Action::accept: verdict("accept"); return {ChainResult::accept, nullptr, r.origin, &r, cur};
        case Action::drop: verdict("drop", true); return {ChainResult::drop, nullptr, r.origin};
        case Action::reject: verdict("reject", true); return {ChainResult::drop, nullptr, r.origin};
        case Action::ret:
          verdict("return");
          if (stack.empty()) return policy();
          cur = stack.back().chain;
          i = stack.back().i;
          stack.pop_back();
          continue;
        case Action::jump:
        case Action::go: {
          const Chain* target = a->target;
          if (trace) verdict((a->kind == Action::jump ? "jump " : "goto ") + a->chain);
          if (!target) continue;
          if (a->kind == Action::jump) {
            if (stack.size() > 16) {
              d.pick(r.origin + ": jump depth");
              continue;
            }
            stack.push_back({cur, i});
          }
          cur = target;
          if (visited) visited->chains.push_back({&b, cur, p.reply});
          i = 0;
          continue;
        }
        case Action::dnat:
        case Action::redirect:
        case Action::snat: {
          if (trace)
            verdict(a->kind == Action::snat       ? "snat/masquerade"
                    : a->kind == Action::redirect ? fmt::format("redirect to :{}", a->port)
                                                  : fmt::format("dnat to {}{}", a->addr ? a->addr->str() : "?",
                                                                a->port ? fmt::format(":{}", a->port) : ""));
          return {ChainResult::nat, a, r.origin};
        }
        case Action::queue:
        case Action::unknown:
        case Action::vmap: {
          // Not followed: it may do nothing, or end the chain. In a nat chain
          // ending means an unknown binding; elsewhere accept or drop.
          std::string why = fmt::format("{}: {}", r.origin, a->reason.empty() ? "verdict not modeled" : a->reason);
          if (!d.pick(why)) {
            verdict("(not modeled, taken as continue)");
            continue;
          }
          if (b.type == "nat") {
            verdict("(not modeled: an unknown translation)");
            unknown_end = why;
            return {ChainResult::drop, nullptr, r.origin};
          }
          bool as_drop = d.pick(why + " (accept or drop)");
          verdict(as_drop ? "(not modeled, taken as drop)" : "(not modeled, taken as accept)");
          return {as_drop ? ChainResult::drop : ChainResult::accept, nullptr, r.origin};
        }
      }
    }
  }

  // The packet passes conntrack (-200 at prerouting and output): from here
  // on it has a connection, or is untracked (neighbour discovery).
  void pass_conntrack(Packet& p) const {
    if (p.ct || !e.rules_.conntrack_active) return;
    p.ct = true;
    if (p.nd) p.untracked = true;
  }

  // Ingress chains of the device a packet arrives on, before prerouting
  // (and before any conntrack). Returns false when the packet was dropped.
  bool run_ingress(Packet& p) {
    for (const BaseChain* b : e.ingress_) {
      if (std::find(b->devices.begin(), b->devices.end(), p.iif) == b->devices.end()) continue;
      ChainResult r = run_chain(*b, p, "ingress");
      if (r.k == ChainResult::drop) {
        drop(std::string(r.by));
        return false;
      }
    }
    return true;
  }

  // A device whose traffic meets chains the walks do not run.
  void crossing(const std::string& dev) {
    if (dev.empty()) return;
    if (auto it = e.device_taint_.find(dev); it != e.device_taint_.end()) taint(it->second);
  }

  // Runs every base chain at a hook in priority order, with the NAT core at
  // its own position: -100 at prerouting/output, +100 at input/postrouting.
  // Returns false when the packet was dropped.
  bool run_hook(const std::string& hook, Packet& p, bool nat_allowed) {
    static constexpr std::string_view hooks[] = {"prerouting", "input", "forward", "output", "postrouting"};
    p.hook = {};
    for (std::string_view h : hooks)
      if (h == hook) p.hook = h;
    if (!e.device_taint_.empty()) {
      crossing(p.iif);
      crossing(p.oif);
    }
    int nat_pos = (hook == "prerouting" || hook == "output") ? -100 : 100;
    static const HookChains none;
    auto hc = e.hooks_.find({p.family, hook});
    const HookChains& chains = hc == e.hooks_.end() ? none : hc->second;
    const std::vector<const BaseChain*>& filters = chains.filters;
    // Copied only when equal priorities make the order a choice (below).
    const std::vector<const BaseChain*>* nat_order = &chains.nats;
    std::vector<const BaseChain*> swapped;
    bool nat_done = false;
    auto run_nat_chains = [&]() -> bool {
      nat_done = true;
      pass_conntrack(p);
      // A reply to a source-NATed request gets its own address back here:
      // conntrack undoes the SNAT at the NAT priority of prerouting, so
      // chains before it (raw, mangle) saw the translated address.
      if (p.reply && hook == "prerouting" && p.snat_from) {
        if (trace) step(hook, "nat", "", "", fmt::format("conntrack undoes the source NAT: the reply is now addressed to {}", p.snat_from->str()));
        p.daddr = *p.snat_from;
        p.snat_from.reset();
      }
      if (!nat_allowed || nat_order->empty() || skip_nat) return true;
      if (p.untracked) {
        step(hook, "nat", "", "", "nat chains do not run: the packet is untracked (notrack)");
        return true;
      }
      if (!e.rules_.conntrack_active) {
        step(hook, "nat", "", "", "nat chains do not run: nothing in the ruleset enables conntrack");
        return true;
      }
      bool dst = hook == "prerouting" || hook == "output";
      if (dst && p.dnat_done) return true;
      // Equal priorities: registration order decides and is not in any
      // ruleset listing; where it could matter, both orders are walked.
      for (std::size_t k = 0; k + 1 < nat_order->size(); ++k)
        if ((*nat_order)[k]->priority == (*nat_order)[k + 1]->priority &&
            d.pick(fmt::format("{} and {} have the same priority {}: their order is not visible",
                               (*nat_order)[k]->label(), (*nat_order)[k + 1]->label(), (*nat_order)[k]->priority))) {
          if (nat_order != &swapped) swapped = *nat_order;
          nat_order = &swapped;
          std::swap(swapped[k], swapped[k + 1]);
        }
      for (const BaseChain* b : *nat_order) {
        ChainResult r = run_chain(*b, p, hook);
        if (r.k == ChainResult::drop) {
          drop(std::string(r.by));
          return false;
        }
        if (r.k != ChainResult::nat) continue;  // accept in a nat chain does not stop later nat chains
        const Action& a = *r.nat_action;
        if (dst && a.kind == Action::dnat) {
          if (a.addr) p.daddr = *a.addr;
          if (a.port) {
            if (a.port_range) {
              auto [lo, hi] = *a.port_range;
              p.dport = (p.dport >= lo && p.dport <= hi) ? p.dport : lo;
            } else {
              p.dport = a.port;
            }
          }
          p.dnat_done = true;
        } else if (dst && a.kind == Action::redirect) {
          p.daddr = hook == "output" ? *IpAddr::parse(p.family == 6 ? "::1" : "127.0.0.1") : primary_addr(p.iif, p.family);
          if (a.port) p.dport = a.port;
          p.dnat_done = true;
        } else if (!dst && a.kind == Action::snat && !p.reply) {
          // Chains after this one see the translated source, and so does
          // the reply until conntrack undoes it (above).
          // Masquerade takes an address of the way out.
          std::optional<IpAddr> to = a.masquerade ? iface_addr(p.oif, p.family) : a.addr;
          if (to && to->family == p.family) {
            if (!p.snat_from) p.snat_from = p.saddr;
            p.saddr = *to;
          } else if (a.masquerade) {
            taint(fmt::format("{}: masquerade out of {}, which has no IPv{} address: what the kernel does is not modeled",
                              r.by, p.oif.empty() ? "an unknown device" : p.oif, p.family));
          } else {
            p.snat_unknown =
                fmt::format("{}: {}", r.by, a.reason.empty() ? "the translated address is not known" : a.reason);
          }
        }
        return true;  // the first chain that binds wins
      }
      return true;
    };
    // A later packet gets the binding its connection's first packet made:
    // the nat chains are evaluated as for that packet (SYN, ct state new).
    auto run_nat = [&]() -> bool {
      if (!p.later) return run_nat_chains();
      p.later = false;
      p.tcp_flags = 0x02;
      bool ok = run_nat_chains();
      p.later = true;
      p.tcp_flags = 0x10;
      return ok;
    };
    bool ct_hook = hook == "prerouting" || hook == "output";
    for (const BaseChain* b : filters) {
      // A chain at the NAT core's or conntrack's own priority: which runs
      // first depends on the order they were registered, which no listing
      // shows; where it could matter, both orders are walked.
      bool nat_first = b->priority > nat_pos;
      if (!nat_done && b->priority == nat_pos && nat_allowed && !nat_order->empty() && !skip_nat &&
          e.rules_.conntrack_active)
        nat_first = d.pick(fmt::format("{} has the NAT priority {}: whether NAT runs before it is not visible",
                                       b->label(), nat_pos));
      if (!nat_done && nat_first && !run_nat()) return false;
      if (b->priority > -200) pass_conntrack(p);  // conntrack runs at -200
      else if (b->priority == -200 && ct_hook && !p.ct && e.rules_.conntrack_active &&
               d.pick(fmt::format("{} has conntrack's priority -200: whether conntrack runs before it is not visible",
                                  b->label())))
        pass_conntrack(p);
      if (p.reply && !nat_done && !p.snat_unknown.empty() && hook == "prerouting")
        taint(p.snat_unknown + ": what the reply is addressed to before conntrack undoes the source NAT is not known");
      ChainResult r = run_chain(*b, p, hook);
      if (r.k == ChainResult::drop) {
        drop(std::string(r.by));
        return false;
      }
      last_accept = r.by;
      if (hook == "forward" && !p.reply && admin_accept.empty() && admin_intent(*b, r)) admin_accept = r.by;
    }
    pass_conntrack(p);
    if (!nat_done && !run_nat()) return false;
    return true;
  }

  // The first address of the family on iface (not IPv6 link-local), if any.
  std::optional<IpAddr> iface_addr(const std::string& iface, int family) const {
    auto it = e.host_.iface_addrs.find(iface);
    if (it != e.host_.iface_addrs.end())
      for (const auto& a : it->second)
        if (a.family == family && !(family == 6 && a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80)) return a;
    return std::nullopt;
  }
  IpAddr primary_addr(const std::string& iface, int family) const {
    return iface_addr(iface, family).value_or(*IpAddr::parse(family == 6 ? "::1" : "127.0.0.1"));
  }

  // ---- routing ------------------------------------------------------------

  // The main table's longest-prefix route to dst, or null.
  const RouteEntry* lookup(const IpAddr& dst) const {
    const RouteEntry* best = nullptr;
    for (const RouteEntry* r : e.main_routes_)
      if (r->family == dst.family && r->dst.contains(dst) && (!best || r->dst.len > best->dst.len)) best = r;
    return best;
  }

  const RouteEntry* table_lookup(const std::string& table, const IpAddr& dst) const {
    auto it = e.tables_.find(table);
    if (it == e.tables_.end()) return nullptr;
    const RouteEntry* best = nullptr;
    for (const RouteEntry* r : it->second)
      if (r->family == dst.family && r->dst.contains(dst) && (!best || r->dst.len > best->dst.len)) best = r;
    return best;
  }

  // The route the kernel picks for p after the local table: through the
  // policy rules by preference (their source, destination, input device and
  // mark selectors, lookup/blackhole/unreachable/prohibit, a table's "throw"
  // going on to the next rule), or the main table when there are none but
  // the defaults. src: the source address when known (a locally generated
  // packet has none until routing picks one). Null: no route; why says so.
  const RouteEntry* route(const Packet& p, std::optional<IpAddr> src, std::string& why) {
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
      if (trace && pr.table != "main") step("routing", "rule " + std::to_string(pr.priority), "", "", "lookup table " + pr.table);
      if (r->type == "local" && !p.local_origin && !p.reply) return r;  // local delivery (route_input)
      if (r->type == "local") {
        taint(fmt::format("table {} routes {} to the host itself (a local route): not modeled for this packet",
                          pr.table, p.daddr.str()));
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

  bool forwarding_enabled(const std::string& iif, int family) const {
    if (family == 4) {
      std::string v = sysctl(fmt::format("net/ipv4/conf/{}/forwarding", iif));
      if (v.empty()) v = sysctl("net/ipv4/ip_forward");
      return v == "1";
    }
    std::string v = sysctl(fmt::format("net/ipv6/conf/{}/forwarding", iif));
    if (v.empty()) v = sysctl("net/ipv6/conf/all/forwarding");
    return v == "1";
  }

  // The reverse path filter (IPv4, rp_filter = the larger of "all" and the
  // input device): strict (1) drops a packet whose route back to its source
  // leaves by another device; loose (2) one with no route back at all.
  // Returns why it drops, or "".
  std::string rp_filter_drop(const Packet& p) {
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
          taint(fmt::format("the route back ({}) has several devices: whether strict rp_filter on {} passes it is "
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
      taint(fmt::format("the reverse path filter on {} looks the route back up with or without the packet's mark "
                        "(src_valid_mark, not in the snapshot), and a mark rule tells them apart",
                        p.iif));
      return "";
    }
    return without_mark;
  }

  bool route_localnet(const std::string& iif) const {
    return sysctl("net/ipv4/conf/all/route_localnet") == "1" ||
           sysctl(fmt::format("net/ipv4/conf/{}/route_localnet", iif)) == "1";
  }

  // ---- Docker facts ---------------------------------------------------------

  struct ContainerAddr {
    std::string name, network, bridge;
  };

  std::optional<ContainerAddr> container_at(const IpAddr& a) const {
    auto it = e.containers_.find(a);
    if (it == e.containers_.end()) return std::nullopt;
    return ContainerAddr{it->second.name, it->second.network, it->second.bridge};
  }

  // ---- IPv6 neighbour discovery ---------------------------------------------
  // Unlike ARP, IPv6 neighbour discovery passes the ip6 hooks, both ways:
  // the host's solicitation out and the neighbour's advertisement in, the
  // neighbour's solicitation in and the host's advertisement out. A chain
  // that drops any of them cuts the host off from that neighbour once the
  // caches' entries expire. Whether they are still cached is not in any
  // snapshot, so such a path is uncertain.
  void check_nd(const std::string& iface, const IpAddr& neighbour) {
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
      std::string why = fmt::format("neighbour {} {} {} on {} are dropped by {}: the path works only while the "
                                    "neighbour caches still hold {} and {}",
                                    what, nd.in ? "from" : "to", neighbour.str(), iface, by, neighbour.str(), self.str());
      step("neighbour", iface, "", "", why);
      taint(why);
      return;
    }
  }

  // The neighbour a packet to dst is handed to on iface: the gateway, or dst.
  IpAddr next_hop(const IpAddr& dst) const {
    const RouteEntry* best = lookup(dst);
    return best && best->gateway ? *best->gateway : dst;
  }

  // ---- the reply direction ------------------------------------------------
  // A connection needs its replies too: the first reply packet, established,
  // back through the hooks on its own path (no NAT chains run for it; the
  // DNAT is undone at postrouting, so forward still sees the container).

  Packet reply_of(const Packet& p) const {
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

  bool reply_dropped(const std::string& by) {
    out.result = Outcome::Result::dropped;
    out.decided_by = "the reply is dropped: " + by;
    step("reply", "", "", "", out.decided_by);
    return false;
  }

  // A request or reply whose ports or addresses a payload statement
  // rewrote: the reply carries a rewritten request's values back, and a
  // rewritten reply reaches the client changed; whether the client takes
  // either is not modeled.
  void rewritten(const Packet& q, bool reply) {
    if (q.rewritten.empty()) return;
    taint(q.rewritten + (reply ? " rewrote the reply: whether the client takes it is not modeled"
                               : " rewrote the request: whether its reply reaches the client is not modeled"));
  }

  // The request left through p.oif toward a neighbour or container: its reply
  // comes back in on that interface.
  // A routed request that left through a bridge: its reply comes back in
  // through the bridge port that leads to the container or neighbour.
  bool reply_from_outside(const Packet& p, const ContainerAddr* from = nullptr) {
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
    if (!p.bridged && e.bridge_ports_.count(p.oif))
      bridge_port(r, p.oif, from, p.daddr, true);
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

  // The request reached a host socket: its reply is sent by the host.
  bool reply_from_host(const Packet& p) {
    rewritten(p, false);
    Packet r = reply_of(p);
    auto done = [&] {
      rewritten(r, true);
      return true;
    };
    r.local_origin = true;
    bool local = e.host_.is_local(r.daddr) || p.iif == "lo";
    std::string no_route;
    if (local) r.oif = "lo";
    else if (auto rt = route(r, r.saddr, no_route); rt && rt->type == "unicast") r.oif = rt->dev;
    else return reply_dropped("no route back to " + r.daddr.str() + " (" + no_route + ")");
    if (trace) step("reply", r.oif, "", "", fmt::format("reply from the host goes out via {}", r.oif));
    if (!run_hook("output", r, false) || !run_hook("postrouting", r, false)) return reply_dropped(out.decided_by);
    if (r.oif == "lo") {
      r.iif = "lo";
      r.oif.clear();
      if (!run_hook("prerouting", r, false) || !run_hook("input", r, false)) return reply_dropped(out.decided_by);
    }
    return done();
  }

  // ---- paths ----------------------------------------------------------------

  static const char* bridge_nf_knob(int family) {
    return family == 6 ? "net/bridge/bridge-nf-call-ip6tables" : "net/bridge/bridge-nf-call-iptables";
  }
  bool bridge_nf_call(int family) const { return family == 6 ? e.bridge_nf_call6_ : e.bridge_nf_call4_; }

  // A packet entering (in) or leaving through the port of bridge that leads
  // to a container (or, with none, to the neighbour at addr): br_netfilter
  // records that port for the ip hooks only when bridge-nf-call-ip(6)tables
  // is 1. The port's name is known when the bridge has one port; which of
  // several leads there is not in the snapshot, so physdev tests of a name
  // are then uncertain.
  void bridge_port(Packet& q, const std::string& bridge, const ContainerAddr* container, const IpAddr& addr,
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

  // Hairpin mode of the ports of a bridge: true or false when every port
  // agrees, nullopt when they differ (which port is the container's is not in
  // the snapshot) or a snapshot predates the field.
  std::optional<bool> bridge_hairpin(const std::string& bridge) const {
    auto it = e.hairpin_.find(bridge);
    return it == e.hairpin_.end() ? std::nullopt : it->second;
  }

  void deliver_container(const Packet& p, const ContainerAddr& c) {
    // Back to the container it came from (its own published port, DNATed):
    // the bridge sends a frame out of the port it came in on only in hairpin
    // mode, which Docker sets when the userland proxy is off.
    if (from_ctr == c.name && p.iif == c.bridge && !p.local_origin) {
      auto hp = bridge_hairpin(c.bridge);
      if (!hp) {
        taint(fmt::format("whether bridge {} sends container {}'s frames back to it (hairpin mode) is not known", c.bridge,
                          c.name));
        step("bridge", c.bridge, "", "", "hairpin mode of the bridge ports unknown");
        return;
      }
      if (!*hp) {
        step("bridge", c.bridge, "", "", "the bridge port has no hairpin mode");
        drop(fmt::format("bridge {}: no hairpin mode on container {}'s port, so the frame is not sent back out the port it came in on",
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
    std::string a = p.daddr.family == 6 ? "[" + p.daddr.str() + "]" : p.daddr.str();
    out.target = fmt::format("container {} {}:{}/{} (network {})", c.name, a, p.dport, p.proto, c.network);
    step("deliver", c.bridge, "", "", out.target);
  }

  // After routing decided "forward": forward and postrouting, then out of oif.
  void forward(Packet& p) {
    if (!run_hook("forward", p, false)) return;
    if (!run_hook("postrouting", p, true)) return;
    egress(p);
  }

  void egress(Packet& p) {
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
      std::string a = p.daddr.family == 6 ? "[" + p.daddr.str() + "]" : p.daddr.str();
      out.target = fmt::format("{}:{}/{} out of {}", a, p.dport, p.proto, p.oif);
      if (trace) step("deliver", p.oif, "", "", "sent out of " + p.oif);
      return;
    }
    out.result = Outcome::Result::dropped;
    out.decided_by = fmt::format("no container or host at {} behind {}", p.daddr.str(), p.oif);
    step("deliver", p.oif, "", "", out.decided_by);
  }

  // A packet arriving on iif (from outside, or from a container on a bridge).
  void inbound(Packet& p) {
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

  void route_input(Packet& p) {
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
      note = fmt::format(" (DNAT changed the destination from {} to {}: the packet is forwarded, so input chains{}{} never see it)",
                         p.orig_daddr.str(), p.daddr.str(), inputs.empty() ? "" : " ", fmt::join(inputs, ", "));
    }
    if (trace) step("routing", "main", "", "", fmt::format("forward via {}{}", p.oif, note));
    forward(p);
  }

  void local_in(Packet& p) {
    if (!run_hook("input", p, true)) return;
    socket_lookup(p);
  }

  void socket_lookup(Packet& p) {
    out.met_socket = true;
    const SocketEntry* best = nullptr;
    int best_score = -1;
    static const IpAddr any4 = *IpAddr::parse("0.0.0.0"), any6 = *IpAddr::parse("::");
    auto candidates = e.sockets_by_port_.find({p.proto, p.dport});
    static const std::vector<std::size_t> none;
    for (std::size_t k : candidates == e.sockets_by_port_.end() ? none : candidates->second) {
      const auto& so = e.sockets_[k];
      int score = -1;
      if (so.addr == p.daddr) score = 3;
      else if (so.family == p.family && ((so.family == 4 && so.addr == any4) || (so.family == 6 && so.addr == any6))) score = 2;
      else if (so.family == 6 && p.family == 4 && so.addr == any6 && so.v6only != true) score = 1;  // dual-stack wildcard
      if (score > best_score) {
        best_score = score;
        best = &so;
      }
    }
    if (best && best_score == 1 && !best->v6only)
      taint(fmt::format("whether [::]:{}/{} ({}) takes IPv4 too (IPV6_V6ONLY) is not in the snapshot", p.dport, p.proto,
                        best->process.empty() ? "owner unknown" : best->process));
    if (!best) {
      std::string a = p.daddr.family == 6 ? "[" + p.daddr.str() + "]" : p.daddr.str();
      if (trace) step("socket", "", "", "", fmt::format("no socket listening on {}:{}/{}", a, p.dport, p.proto));
      drop(fmt::format("no socket listens on {}:{}/{}", a, p.dport, p.proto));
      return;
    }
    std::string proc = best->process;
    std::string sa = best->address;
    if (best->family == 6) sa = "[" + sa + "]";
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

  // docker-proxy forwards to the container that published this port, as a
  // new connection from the host.
  void proxy(const Packet& in, const Engine::SocketEntry& so) {
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

  // docker-proxy's own connection to the container, from the host.
  void proxy_connect(const Packet& in, const std::string& bound, const IpAddr& to, unsigned port, const char* how) {
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
      out.target += fmt::format(" via docker-proxy on {}:{}", bound.find(':') != std::string::npos ? "[" + bound + "]" : bound,
                                in.dport);
    }
  }

  // A packet the host sends: output, then either the loopback round trip or
  // postrouting and out.
  void local_out(Packet& p, std::optional<IpAddr> src) {
    p.orig_daddr = p.daddr;
    p.orig_dport = p.dport;
    bool local = e.host_.is_local(p.daddr);
    const RouteEntry* rt = nullptr;
    if (local) p.oif = "lo";
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
      if (e.host_.is_local(p.daddr)) p.oif = "lo";
      else if (auto r2 = route(p, p.saddr, no_route); r2 && r2->type == "unicast") p.oif = r2->dev;
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

  // A packet from a container: bridged to a neighbour on the same bridge, or
  // routed through the host.
  void from_container(Packet& p, const std::string& name) {
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
          step("bridge", p.iif, "", "", std::string(bridge_nf_knob(p.family)) + " is not 1: the ip hooks do not see bridged traffic");
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
};

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
