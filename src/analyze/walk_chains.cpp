// A walk through base chains and hooks (Engine::Impl, walk.hpp).
#include "analyze/walk.hpp"

namespace dfa {

bool Engine::Impl::eval_rule(const Rule& r, const Packet& p) {
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

bool Engine::Impl::closes(const Rule& r, const Packet& p, std::size_t failed) const {
  const TestReads sender = p.reply ? TestReads::daddr : TestReads::saddr;
  if (failed >= r.lead.size()) return false;
  if (r.lead[failed] != sender) return true;
  for (std::size_t k = failed + 1; k < r.lead.size(); ++k) {
    std::string why;
    if (r.lead[k] != sender && r.conds[k](p, why) == Tri::no) return true;
  }
  return false;
}

void Engine::Impl::skipped_by_daddr(const BaseChain& b, const Chain& c, const Packet& p, std::size_t from,
                                    std::size_t to) {
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

bool Engine::Impl::admin_intent(const BaseChain& b, const ChainResult& r) {
  if (r.k != ChainResult::accept || !r.rule || !r.chain) return false;
  const std::string& c = r.chain->name;
  bool docker = b.table.rfind("docker", 0) == 0 || c == "FORWARD" || (c.rfind("DOCKER", 0) == 0 && c != "DOCKER-USER");
  return !docker && (!r.rule->dports.empty() || r.rule->daddr.has_value() || r.rule->names_sources);
}

Engine::Impl::ChainResult Engine::Impl::run_chain(const BaseChain& b, Packet& p, const std::string& hook) {
  struct Frame {
    const Chain* chain;
    std::size_t i;
  };
  std::vector<Frame> stack;
  const Chain* cur = b.start;
  if (visited && cur) visited->chains.push_back({&b, cur, p.reply});
  std::size_t i = 0;
  auto policy = [&]() {
    if (trace)
      step(hook, b.label(), "", "", "policy " + b.policy, b.policy == "drop");
    else if (b.policy == "drop")
      step(hook, "", "", "", "", true);  // no text to make, the flag to set
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
      if (!p.ct_unknown.empty())
        ct.known = PortIndex::CtPort::unknown;
      else if (p.ct && !p.untracked)
        ct = {PortIndex::CtPort::yes, p.orig_dport};
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
      case Action::none:
        continue;
      case Action::accept:
        verdict("accept");
        return {ChainResult::accept, nullptr, r.origin, &r, cur};
      case Action::drop:
        verdict("drop", true);
        return {ChainResult::drop, nullptr, r.origin};
      case Action::reject:
        verdict("reject", true);
        return {ChainResult::drop, nullptr, r.origin};
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
        if (trace) {
          const std::string port = a->port_range ? fmt::format(":{}-{}", a->port_range->first, a->port_range->second)
                                   : a->port     ? fmt::format(":{}", a->port)
                                                 : "";
          verdict(a->kind == Action::snat       ? "snat/masquerade"
                  : a->kind == Action::redirect ? fmt::format("redirect to {}", port.empty() ? ":0" : port)
                                                : fmt::format("dnat to {}{}", a->addr ? a->addr->str() : "?", port));
        }
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

void Engine::Impl::pass_conntrack(Packet& p) const {
  if (p.ct || !e.rules_.conntrack_active) return;
  p.ct = true;
  if (p.nd) p.untracked = true;
}

bool Engine::Impl::run_ingress(Packet& p) {
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

void Engine::Impl::crossing(const std::string& dev) {
  if (dev.empty()) return;
  if (auto it = e.device_taint_.find(dev); it != e.device_taint_.end()) taint(it->second);
}

bool Engine::Impl::run_hook(const std::string& hook, Packet& p, bool nat_allowed) {
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
      if (trace)
        step(hook, "nat", "", "",
             fmt::format("conntrack undoes the source NAT: the reply is now addressed to {}", p.snat_from->str()));
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
      // A port range keeps the packet's port when it is inside, else gives
      // the range's first port (the first free one; a new connection's
      // tuple is free).
      auto translate_port = [&p, &a] {
        if (!a.port) return;
        if (a.port_range) {
          auto [lo, hi] = *a.port_range;
          p.dport = (p.dport >= lo && p.dport <= hi) ? p.dport : lo;
        } else {
          p.dport = a.port;
        }
      };
      if (dst && a.kind == Action::dnat) {
        if (a.addr) p.daddr = *a.addr;
        translate_port();
        p.dnat_done = true;
      } else if (dst && a.kind == Action::redirect) {
        p.daddr =
            hook == "output" ? *IpAddr::parse(p.family == 6 ? "::1" : "127.0.0.1") : primary_addr(p.iif, p.family);
        translate_port();
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
      nat_first = d.pick(
          fmt::format("{} has the NAT priority {}: whether NAT runs before it is not visible", b->label(), nat_pos));
    if (!nat_done && nat_first && !run_nat()) return false;
    if (b->priority > -200)
      pass_conntrack(p);  // conntrack runs at -200
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

std::optional<IpAddr> Engine::Impl::iface_addr(const std::string& iface, int family) const {
  auto it = e.host_.iface_addrs.find(iface);
  if (it != e.host_.iface_addrs.end())
    for (const auto& a : it->second)
      if (a.family == family && !(family == 6 && a.b[0] == 0xfe && (a.b[1] & 0xc0) == 0x80)) return a;
  return std::nullopt;
}

IpAddr Engine::Impl::primary_addr(const std::string& iface, int family) const {
  return iface_addr(iface, family).value_or(*IpAddr::parse(family == 6 ? "::1" : "127.0.0.1"));
}

}  // namespace dfa
