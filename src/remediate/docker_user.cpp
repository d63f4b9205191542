// The ufw style of remediation (docs/remediate.md, "In ufw's terms"): the
// guard's rules for forwarded traffic as iptables rules in DOCKER-USER,
// written as the blocks ufw's after.rules and after6.rules load, and the same
// rules put into the snapshot's tables to prove them.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "dfa/version.hpp"
#include "findings/check.hpp"
#include "findings/findings.hpp"
#include "remediate/guard.hpp"
#include "remediate/guard_chains.hpp"

namespace dfa {
using namespace guard_detail;
namespace {

const char* family_name(int family) { return family == 6 ? "ip6" : "ip"; }

// Where a chain of the filter table is in this family, from the tables
// iptables writes (checks::xt_filter_tables): "nft" (iptables-nft),
// "legacy", or "".
std::string filter_chain_backend(const checks::XtFilterTables& tables, int family, const std::string& chain) {
  for (const auto& [backend, name] : {std::pair{"nft", family == 6 ? "nft:ip6/filter" : "nft:ip/filter"},
                                      std::pair{"legacy", family == 6 ? "iptables-legacy:ipv6/filter"
                                                                      : "iptables-legacy:ipv4/filter"}})
    if (auto t = tables.find(name); t != tables.end() && t->second.count(chain)) return backend;
  return "";
}

// The chain names of the nft guard, in iptables: dockfw-published,
// dockfw-tcp-8080 (at most 28 characters, as iptables wants).
std::string ipt_chain(const std::string& nft_name) {
  if (nft_name.rfind("port_", 0) == 0) {
    std::string rest = nft_name.substr(5);
    std::replace(rest.begin(), rest.end(), '_', '-');
    return "dockfw-" + rest;
  }
  return "dockfw-" + nft_name;
}

// One nft guard rule as iptables rules of one family: the interfaces and
// prefixes it names, one rule each. `pre_nat`: the rule ran before NAT
// (prerouting), where the destination is the one the client asked for; in
// DOCKER-USER, after DNAT, that is the connection's original destination.
// False when the rule has a match iptables cannot say here, or none for this
// family.
bool translate(const GRule& r, int family, bool pre_nat, const std::string& chain, std::vector<IptRule>& out) {
  std::vector<IptRule> rules(1);
  rules[0].chain = chain;
  auto conntrack = [](IptRule& x) -> IptRule::Conntrack& {
    if (x.conntrack.empty()) x.conntrack.emplace_back();
    return x.conntrack.front();
  };
  // Each alternative of a match multiplies the rules.
  auto fork = [&](std::size_t n, auto&& set) {
    std::vector<IptRule> next;
    for (const auto& x : rules)
      for (std::size_t i = 0; i < n; ++i) {
        IptRule y = x;
        set(y, i);
        next.push_back(std::move(y));
      }
    rules = std::move(next);
  };
  for (const Expr& e : r.exprs) {
    const Part& p = e.part;
    switch (p.kind) {
      case Part::other:
        return false;
      case Part::iif:
        fork(p.names.size(), [&](IptRule& x, std::size_t i) { x.iif = p.names[i]; });
        break;
      case Part::iif_not:
        for (auto& x : rules) x.iif = p.names[0], x.iif_not = true;
        break;
      case Part::nfproto:
        if (p.family != family) return false;
        break;
      case Part::daddr:
      case Part::saddr: {
        if (p.family != family) return false;
        if (p.kind == Part::daddr && !pre_nat) return false;  // not in the guard's forward chains
        fork(p.prefixes.size(), [&](IptRule& x, std::size_t i) {
          if (p.kind == Part::saddr) x.src = p.prefixes[i];
          else conntrack(x).origdst = p.prefixes[i];
        });
        break;
      }
      case Part::l4proto:
        for (auto& x : rules) x.proto = p.names[0];
        break;
      case Part::dport:
        if (!pre_nat) return false;
        for (auto& x : rules) x.proto = p.names[0], conntrack(x).origdstport = p.port;
        break;
      case Part::ct_new:
        for (auto& x : rules) conntrack(x).state = "NEW";
        break;
      case Part::ct_dnat:
        // A second conntrack match: its states are "any of", NEW and DNAT both.
        for (auto& x : rules) {
          conntrack(x);
          x.conntrack.push_back({"DNAT", false, std::nullopt, 0});
        }
        break;
      case Part::ct_odport:
        for (auto& x : rules) conntrack(x).origdstport = p.port;
        break;
      case Part::verdict: {
        std::string v = p.names[0] == "drop" ? "DROP" : p.names[0] == "return" ? "RETURN" : p.names[0] == "accept" ? "ACCEPT" : "";
        if (v.empty()) return false;
        for (auto& x : rules) x.target = v;
        break;
      }
      case Part::jump:
        for (auto& x : rules) x.target = ipt_chain(p.names[0]);
        break;
    }
  }
  for (auto& x : rules)
    if (x.target.empty()) return false;
  for (auto& x : rules) out.push_back(std::move(x));
  return true;
}

// A conntrack match's parameters as the collectors decode them (xt_decode).
Json conntrack_params(const IptRule::Conntrack& c) {
  Json params = Json::object();
  if (!c.state.empty()) params["ctstate"] = c.state, params["ctstate_invert"] = c.state_invert;
  if (c.origdst) params["ctorigdst"] = c.origdst->str(), params["ctorigdst_invert"] = false;
  if (c.origdstport) params["origdstport"] = std::to_string(c.origdstport);
  return params;
}

}  // namespace

std::string IptRule::text(bool insert_first) const {
  std::string t = insert_first ? fmt::format("-I {} 1", chain) : fmt::format("-A {}", chain);
  if (!iif.empty()) t += fmt::format(" {}-i {}", iif_not ? "! " : "", iif);
  if (src) t += " -s " + src->str();
  if (!proto.empty()) t += " -p " + proto;
  for (const auto& c : conntrack) {
    t += " -m conntrack";
    if (!c.state.empty()) t += fmt::format(" {}--ctstate {}", c.state_invert ? "! " : "", c.state);
    if (c.origdst) t += " --ctorigdst " + c.origdst->str();
    if (c.origdstport) t += fmt::format(" --ctorigdstport {}", c.origdstport);
  }
  t += " -j " + target;
  return t;
}

namespace {

// The guard's rules for forwarded traffic as iptables rules per family, for
// the style `manager` ("ufw" or "firewalld"); notes for the header.
Result<Remediation> docker_user_rules(const Engine& engine, const Exposure& x, const GuardPolicy& policy,
                                      const std::string& manager, std::vector<std::string>& notes) {
  const Snapshot& s = engine.snapshot();
  Location where;
  if (auto ipt = docker_flag(s, "iptables", where); ipt && !*ipt)
    return input_error(fmt::format(
        "--style {} writes rules for Docker's DOCKER-USER chain, and this dockerd runs with \"iptables\": false "
        "(no DOCKER-USER): use --style owner",
        manager));
  const bool ufw = manager == "ufw";
  if (!ufw) {
    bool running = false;
    if (const Json* nft = s.section("nftables"))
      for (const auto& o : nft->at("ruleset"))
        if (auto t = o.find("table"); t != o.end() && t->value("family", "") == "inet" && t->value("name", "") == "firewalld")
          running = true;
    if (!running)
      return input_error(
          "--style firewalld: firewalld's table (inet firewalld) is not in the kernel's tables: is firewalld running "
          "with its nftables backend? (use --style guard for a host without firewalld)");
  }
  Remediation rem;
  rem.style = manager;
  std::vector<GChain> chains = guard_chains(engine, x, policy, rem);
  // ufw: a block declares DOCKER-USER (and so empties it on each load) unless
  // ufw's files fill it already, the ufw-docker recipe's way. firewalld
  // inserts its direct rules among what the chain holds.
  const bool declare_docker_user = ufw && [&] {
    if (!s.host || !s.host->ufw.present) return true;
    for (const auto& f : s.host->ufw.files)
      for (const auto& l : f.lines)
        if (l.chain == "DOCKER-USER") return false;
    return true;
  }();

  const checks::XtFilterTables tables = checks::xt_filter_tables(s);
  for (int family : {4, 6}) {
    const std::string ufw_chain = family == 6 ? "ufw6-user-input" : "ufw-user-input";
    const std::string ufw_at = ufw ? filter_chain_backend(tables, family, ufw_chain) : "";
    const std::string docker_at = filter_chain_backend(tables, family, "DOCKER-USER");
    if (ufw && family == 4 && ufw_at.empty())
      return input_error(
          "--style ufw: ufw's chains (ufw-user-input) are not in the kernel's tables: is ufw enabled? "
          "(use --style guard for a host without ufw)");
    if (docker_at.empty()) {
      notes.push_back(fmt::format(
          "IPv{}: Docker has no DOCKER-USER chain in this family ({}), so nothing here filters its forwarded IPv{} "
          "traffic; the proof below says what stays open (--style guard covers it)",
          family, family == 6 ? "ip6tables off, or Docker before 27" : "Docker's iptables integration is not loaded",
          family));
      continue;
    }
    if (!ufw_at.empty() && ufw_at != docker_at)
      return input_error(fmt::format(
          "--style ufw: ufw's IPv{} rules are in iptables-{} and Docker's DOCKER-USER in iptables-{} (DFA016): "
          "rules in ufw's files would never see Docker's traffic; put both on one backend first",
          family, ufw_at, docker_at));
    IptFamily fam;
    fam.family = family;
    fam.backend = docker_at;
    fam.declare_docker_user = declare_docker_user;
    // dockfw-guard holds what the guard's raw and forward chains do, and
    // jumps to dockfw-direct (its prerouting chain, with the returns of
    // allow-direct-routing) between them; the regular chains follow under
    // their own names. The input chain (the docker-proxy path) is left to
    // ufw's own input rules, and the proof says whether that holds.
    std::map<std::string, std::vector<IptRule>> by_chain;
    std::vector<std::string> order = {"dockfw-guard"};
    bool untranslated = false;
    for (const GChain& c : chains) {
      if (c.hook == "input") continue;
      const bool pre_nat = c.hook == "prerouting";
      const std::string name = c.name == "prerouting" ? "dockfw-direct" : c.hook.empty() ? ipt_chain(c.name) : "dockfw-guard";
      if (name != "dockfw-guard") order.push_back(name);
      if (name == "dockfw-direct") by_chain["dockfw-guard"].push_back({"dockfw-guard", "", false, std::nullopt, "", {}, name});
      for (const GRule& r : c.rules) {
        if (translate(r, family, pre_nat, name, by_chain[name])) continue;
        // Another family's rule is not this family's business; anything
        // else (never in the guard's chains) is said, and the proof tells.
        untranslated |= std::none_of(r.exprs.begin(), r.exprs.end(), [&](const Expr& e) {
          return (e.part.kind == Part::nfproto || e.part.kind == Part::daddr || e.part.kind == Part::saddr) &&
                 e.part.family != family;
        });
      }
    }
    if (untranslated) notes.push_back(fmt::format("IPv{}: some of the guard's rules have no iptables form here", family));
    // A chain left empty in this family goes, and the jumps to it.
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& [name, rules] : by_chain)
        changed |= std::erase_if(rules, [&](const IptRule& r) {
                     auto t = by_chain.find(r.target);
                     return r.jump() && (t == by_chain.end() || t->second.empty());
                   }) > 0;
    }
    if (by_chain["dockfw-guard"].empty()) {
      notes.push_back(fmt::format("IPv{}: nothing to add", family));
      continue;
    }
    fam.rules.push_back({"DOCKER-USER", "", false, std::nullopt, "", {}, "dockfw-guard"});
    for (const auto& c : order)
      if (!by_chain[c].empty()) {
        fam.chains.push_back(c);
        for (auto& r : by_chain[c]) fam.rules.push_back(std::move(r));
      }
    rem.iptables.push_back(std::move(fam));
  }
  return rem;
}

std::string header(const Snapshot& s, const Remediation& rem, const GuardPolicy& policy, const std::vector<std::string>& notes,
                   const std::string& how) {
  std::string collected = s.doc.value("collected_at", "");
  std::string hostname = s.host ? s.host->hostname : "";
  std::string t = fmt::format("# dockfw-audit {} remediate --style {}, for {} (snapshot collected {}).\n", kVersion,
                              rem.style, hostname.empty() ? "this host" : hostname, collected.empty() ? "?" : collected);
  t += how;
  t += "# Regenerate them when published ports or Docker networks change\n# (dockfw-audit drift notices).\n#\n";
  t += fmt::format("# Intent ({}):\n", policy.given ? "from the policy file" : "inferred from the host's own filter rules");
  for (const auto& line : rem.intent) t += "#   " + line + "\n";
  for (const auto& n : notes) t += "# Note: " + n + "\n";
  return t;
}

}  // namespace

Result<Remediation> make_ufw(const Engine& engine, const Exposure& x, const GuardPolicy& policy) {
  std::vector<std::string> notes;
  auto r = docker_user_rules(engine, x, policy, "ufw", notes);
  if (!r) return r;
  Remediation& rem = *r;
  std::string how =
      "# Rules for ufw's own files. Docker's DNAT turns a connection to a published\n"
      "# port into forwarded traffic that Docker's FORWARD rules accept before any\n"
      "# of ufw's chains (moby#4737); DOCKER-USER is the one chain it passes first.\n"
      "# These rules go there, in chains of their own (dockfw-*), jumped first.\n"
      "# Install: append each block below to the file it names, then `ufw reload`.\n"
      "# They replace nothing: ufw flushes and reloads the dockfw-* chains each time.\n";
  if (std::any_of(rem.iptables.begin(), rem.iptables.end(), [](const IptFamily& f) { return f.declare_docker_user; }))
    how += "# The blocks declare DOCKER-USER (so that ufw, which starts before Docker,\n"
           "# can load them): ufw empties it on each load, so rules put there by other\n"
           "# means than ufw's files are gone after `ufw reload`; Docker adds its own again.\n";
  std::string& t = rem.script;
  t = header(engine.snapshot(), rem, policy, notes, how);
  for (const IptFamily& f : rem.iptables) {
    t += fmt::format("\n### append to /etc/ufw/{}\n", f.family == 6 ? "after6.rules" : "after.rules");
    t += "# BEGIN dockfw-audit\n*filter\n";
    if (f.declare_docker_user) t += ":DOCKER-USER - [0:0]\n";
    for (const auto& c : f.chains) t += fmt::format(":{} - [0:0]\n", c);
    for (std::size_t i = 0; i < f.rules.size(); ++i) t += f.rules[i].text(i == 0) + "\n";
    t += "COMMIT\n# END dockfw-audit\n";
  }
  return r;
}

Result<Remediation> make_firewalld(const Engine& engine, const Exposure& x, const GuardPolicy& policy) {
  std::vector<std::string> notes;
  auto r = docker_user_rules(engine, x, policy, "firewalld", notes);
  if (!r) return r;
  Remediation& rem = *r;
  std::string& t = rem.script;
  t = "#!/bin/sh\n";
  t += header(engine.snapshot(), rem, policy, notes,
              "# firewalld's own terms: direct rules. firewalld accepts every DNATed\n"
              "# connection before its zones and policies (ct status dnat accept), and\n"
              "# Docker's FORWARD rules accept it too; DOCKER-USER is the one chain it\n"
              "# passes first. These rules go there, in chains of their own (dockfw-*),\n"
              "# jumped first (priority -1). Run this script as root: each command runs\n"
              "# twice, --permanent for the next start and once for now, so no\n"
              "# --reload is needed (a reload would drop what was added without\n"
              "# --permanent, and Docker would put its own rules back). It first empties\n"
              "# the dockfw-* chains it names, so running it again replaces them.\n"
              "# DOCKER-USER is made a direct chain of firewalld's permanent configuration:\n"
              "# without it firewalld cannot load the jump at boot (before Docker) or at a\n"
              "# reload (which removes Docker's chains), and falls back to its stock\n"
              "# configuration, dropping the admin's (seen in the lab; moby#35043). Docker\n"
              "# keeps a DOCKER-USER it finds and still jumps to it first.\n");
  t += "set -e\nfw() { firewall-cmd --permanent --direct \"$@\" && firewall-cmd --direct \"$@\"; }\n";
  for (const IptFamily& f : rem.iptables) {
    const char* fam = f.family == 6 ? "ipv6" : "ipv4";
    t += fmt::format("\n# IPv{}\n", f.family);
    t += fmt::format("firewall-cmd --permanent --direct --add-chain {} filter DOCKER-USER\n", fam);
    for (const auto& c : f.chains) t += fmt::format("fw --add-chain {} filter {}\n", fam, c);
    for (const auto& c : f.chains) t += fmt::format("fw --remove-rules {} filter {}\n", fam, c);
    // The chains' rules first, the jump into them last.
    std::map<std::string, int> priority;
    std::string jump;
    for (std::size_t i = 0; i < f.rules.size(); ++i) {
      const IptRule& x = f.rules[i];
      // "-A CHAIN ARGS": firewall-cmd takes the chain and a priority apart.
      std::string line = fmt::format("fw --add-rule {} filter {} {}{}\n", fam, x.chain, i == 0 ? -1 : priority[x.chain]++,
                                     x.text().substr(3 + x.chain.size()));
      (i == 0 ? jump : t) += line;
    }
    t += jump;
  }
  return r;
}


// The snapshot with the ufw style's rules loaded: as `ufw reload` leaves the
// tables, DOCKER-USER holds the jump to dockfw-guard first (and nothing else
// when the block declares it, which empties it).
namespace guard_detail {
void with_iptables_rules(Json& doc, const Remediation& r) {
  int handle = 1 << 20;
  for (const IptFamily& f : r.iptables) {
    if (f.backend == "nft") {
      Json& rs = doc["nftables"]["ruleset"];
      Json out = Json::array();
      const std::string fam = family_name(f.family);
      auto ours = [&](const Json& o, const char* kind) {
        auto c = o.find(kind);
        return c != o.end() && c->value("family", "") == fam && c->value("table", "") == "filter";
      };
      for (const auto& o : rs) {
        if (ours(o, "rule") && o["rule"].value("chain", "") == "DOCKER-USER" && f.declare_docker_user) continue;
        out.push_back(o);
        if (!ours(o, "chain") || o["chain"].value("name", "") != "DOCKER-USER") continue;
        for (const auto& c : f.chains)
          out.push_back({{"chain", {{"family", fam}, {"table", "filter"}, {"name", c}, {"handle", handle++}}}});
        for (const IptRule& x : f.rules) {
          Json expr = Json::array();
          if (!x.iif.empty()) expr.push_back(match(x.iif_not ? "!=" : "==", meta("iifname"), x.iif));
          if (x.src) expr.push_back(match("==", payload(fam.c_str(), "saddr"), prefix_json(*x.src)));
          if (!x.proto.empty()) expr.push_back(match("==", meta("l4proto"), x.proto));
          for (const auto& c : x.conntrack)
            expr.push_back({{"xt", {{"type", "match"}, {"name", "conntrack"}, {"revision", 3}, {"decoded", true},
                                    {"params", conntrack_params(c)}, {"text", ""}}}});
          if (x.jump()) expr.push_back({{"jump", {{"target", x.target}}}});
          else expr.push_back({{x.target == "DROP" ? "drop" : x.target == "RETURN" ? "return" : "accept", nullptr}});
          out.push_back({{"rule", {{"family", fam}, {"table", "filter"}, {"chain", x.chain}, {"handle", handle++},
                                   {"expr", std::move(expr)}}}});
        }
      }
      rs = std::move(out);
      continue;
    }
    Json& legacy = doc["iptables_legacy"][f.family == 6 ? "ipv6" : "ipv4"];
    for (Json& t : legacy["tables"]) {
      if (t.value("name", "") != "filter") continue;
      std::map<std::string, Json> rules;
      for (const auto& c : f.chains) rules[c] = Json::array();
      rules["DOCKER-USER"] = Json::array();
      for (const IptRule& x : f.rules) {
        Json matches = Json::array();
        for (const auto& c : x.conntrack)
          matches.push_back({{"name", "conntrack"}, {"revision", 3}, {"decoded", true}, {"params", conntrack_params(c)}});
        Json rule = {{"src", x.src ? x.src->str() : ""}, {"in_iface", x.iif}, {"in_invert", x.iif_not},
                     {"protocol", x.proto}, {"matches", std::move(matches)},
                     {"target", {{"kind", x.jump() ? "jump" : "verdict"}, {"name", x.target}, {"decoded", true}}},
                     {"text", x.text()}};
        rules[x.chain].push_back(std::move(rule));
      }
      Json& chains = t["chains"];
      for (const auto& c : f.chains) chains.push_back({{"name", c}, {"builtin", false}, {"rules", rules[c]}});
      for (Json& c : chains) {
        if (c.value("name", "") != "DOCKER-USER") continue;
        Json kept = rules["DOCKER-USER"];
        if (!f.declare_docker_user)
          for (const auto& old : c["rules"]) kept.push_back(old);
        c["rules"] = std::move(kept);
      }
    }
  }
}

}  // namespace guard_detail

}  // namespace dfa
