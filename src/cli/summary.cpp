#include "cli/summary.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "findings/manager_terms.hpp"

namespace dfa {
namespace {

std::string nft_dnat_target(const Json& rule) {
  for (const auto& e : array_member(rule, "expr")) {
    if (auto d = e.find("dnat"); d != e.end()) {
      std::string addr = d->contains("addr") ? (d->at("addr").is_string() ? d->at("addr").get<std::string>() : d->at("addr").dump()) : "";
      if (d->contains("port")) return fmt::format("{}:{}", addr, d->at("port").dump());
      return addr;
    }
    if (auto x = e.find("xt"); x != e.end() && x->value("name", "") == "DNAT") {
      if (!x->value("decoded", false)) return "(undecoded)";
      return string_member(x->at("params"), "to_destination", "?");
    }
  }
  return "";
}

}  // namespace

// firewalld as its nftables table shows it (the runtime state): the zones its
// input dispatch chain sends packets to, by interface or source, the default
// last, and the policies it holds chains for.
// firewalld's permanent configuration as the admin wrote it: the zones that
// bind something, are the default or were changed in /etc, every policy,
// and the rich rules of each.
std::string firewalld_config_summary(const FirewalldConfig& fw) {
  if (!fw.present) return "";
  auto conf = [&](const char* k) {
    auto it = fw.conf.find(k);
    return it == fw.conf.end() ? std::string("?") : it->second;
  };
  const std::string default_zone = conf("default_zone");
  std::string out = fmt::format("\nfirewalld configuration ({}): default zone {}, backend {}, IPv6_rpfilter {}\n", fw.dir,
                                default_zone, conf("backend"), conf("ipv6_rpfilter"));
  if (conf("backend") == "iptables")
    out += "  its iptables backend puts its rules in iptables tables: findings name them as iptables rules, not by zone\n";
  auto part = [&](const char* kind, const FirewalldConfig::Part& p) {
    std::vector<std::string> what;
    if (!p.target.empty()) what.push_back("target " + p.target);
    if (!p.priority.empty()) what.push_back("priority " + p.priority);
    if (!p.ingress_zones.empty() || !p.egress_zones.empty())
      what.push_back(fmt::format("from {} to {}", fmt::join(p.ingress_zones, ", "), fmt::join(p.egress_zones, ", ")));
    for (const auto& [label, v] : {std::pair{"interfaces", &p.interfaces}, std::pair{"sources", &p.sources},
                                   std::pair{"services", &p.services}, std::pair{"ports", &p.ports},
                                   std::pair{"protocols", &p.protocols}})
      if (!v->empty()) what.push_back(fmt::format("{} {}", label, fmt::join(*v, ", ")));
    if (p.forward) what.push_back("forward");
    if (p.masquerade) what.push_back("masquerade");
    const bool is_default = p.name == default_zone && std::string(kind) == "zone";
    std::string line = fmt::format("  {} {} ({}{}){}{}\n", kind, p.name, is_default ? "the default, " : "",
                                   p.origin == "etc" ? "the admin's " + p.file : "the package's",
                                   what.empty() ? "" : ": ", fmt::join(what, "; "));
    for (const auto& r : p.forward_ports) line += fmt::format("    {}\n", r);
    for (const auto& r : p.rich_rules) line += fmt::format("    {}\n", r);
    if (!p.error.empty()) line += fmt::format("    could not read: {}\n", p.error);
    return line;
  };
  std::vector<std::string> quiet;
  for (const auto& z : fw.zones) {
    if (z.origin == "etc" || z.name == default_zone || !z.interfaces.empty() || !z.sources.empty() || !z.error.empty())
      out += part("zone", z);
    else
      quiet.push_back(z.name);
  }
  if (!quiet.empty())
    out += fmt::format("  zones as the package ships them, binding nothing: {}\n", fmt::join(quiet, ", "));
  for (const auto& p : fw.policies) out += part("policy", p);
  if (!fw.error.empty()) out += fmt::format("  could not read: {}\n", fw.error);
  return out;
}

std::string firewalld_summary(const Snapshot& s) {
  const Json* nft = s.section("nftables");
  if (!nft) return "";
  auto text = [](const Json& r) -> std::string {
    if (r.is_string()) return r.get<std::string>();
    if (r.is_object() && r.contains("prefix") && r["prefix"].is_object())
      return fmt::format("{}/{}", r["prefix"].value("addr", ""), r["prefix"].value("len", 0));
    if (r.is_object() && r.contains("set") && r["set"].is_array()) {
      std::string t;
      for (const auto& e : r["set"]) t += (t.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
      return "{" + t + "}";
    }
    return r.dump();
  };
  std::string table, zones;
  std::set<std::string> chains, policies;
  std::vector<std::pair<std::string, std::string>> bound;  // (interface, zone) of the input dispatch
  for (const auto& o : nft->at("ruleset"))
    if (auto c = o.find("chain"); c != o.end() && c->is_object() && c->value("table", "") == "firewalld") {
      table = fmt::format("{} {}", c->value("family", ""), c->value("table", ""));
      chains.insert(c->value("name", ""));
    }
  for (const std::string& name : chains)
    if (auto p = name.find("_policy_"); name.rfind("filter_", 0) == 0 && p != std::string::npos) {
      const std::string head = name.substr(0, p + 8);
      policies.insert(
          firewalld_owner(std::string_view(name).substr(p + 8), [&](const std::string& n) { return chains.count(head + n) > 0; })
              .owner);
    }
  for (const auto& o : nft->at("ruleset")) {
    auto r = o.find("rule");
    if (r == o.end() || !r->is_object() || r->value("table", "") != "firewalld" ||
        r->value("chain", "") != "filter_INPUT_ZONES")
      continue;
    std::string zone, by;
    for (const auto& e : array_member(*r, "expr")) {
      for (const char* v : {"goto", "jump"})
        if (auto g = e.find(v); g != e.end() && g->is_object()) zone = g->value("target", "");
      if (auto m = e.find("match"); m != e.end() && m->is_object()) {
        const Json& l = m->value("left", Json::object());
        std::string what = "match";
        if (l.is_object() && l.contains("meta") && l["meta"].is_object()) what = l["meta"].value("key", "");
        if (l.is_object() && l.contains("payload") && l["payload"].is_object())
          what = l["payload"].value("protocol", "") + " " + l["payload"].value("field", "");
        by += (by.empty() ? "" : " ") + what + (m->value("op", "==") == "!=" ? " != " : " ") + text(m->value("right", Json()));
      }
    }
    if (zone.rfind("filter_IN_", 0) != 0) continue;
    zones += fmt::format("{}  {} ({})\n", "", zone.substr(10), by.empty() ? "every other packet: the default zone" : by);
    if (by.rfind("iifname ", 0) == 0 && by.find(' ', 8) == std::string::npos) bound.emplace_back(by.substr(8), zone.substr(10));
  }
  if (table.empty()) return "";
  std::string out = fmt::format("\nfirewalld (nft {}, from the kernel's tables): zones that get input, in order:\n{}", table,
                                zones.empty() ? std::string("  (none)\n") : zones);
  if (!policies.empty()) out += fmt::format("  policies: {}\n", fmt::join(policies, ", "));
  // Interfaces the kernel's dispatch binds to a zone whose file does not
  // list them: bound at runtime only.
  if (s.host && s.host->firewalld.present && s.host->firewalld.error.empty()) {
    std::vector<std::string> runtime;
    for (const auto& b : bound) {
      const std::string &iface = b.first, &zone = b.second;  // named, not bound: lambdas capture them
      const auto& zs = s.host->firewalld.zones;
      auto z = std::find_if(zs.begin(), zs.end(), [&](const FirewalldConfig::Part& p) { return p.name == zone; });
      if (z == zs.end() || !z->error.empty()) continue;  // a zone of no file, or one not read: nothing to say
      if (std::find(z->interfaces.begin(), z->interfaces.end(), iface) == z->interfaces.end())
        runtime.push_back(fmt::format("{} in {}", iface, zone));
    }
    if (!runtime.empty())
      out += fmt::format("  bound here but not in firewalld's files (at runtime: firewall-cmd without --permanent, "
                         "Docker, or NetworkManager): {}\n",
                         fmt::join(runtime, ", "));
  }
  return out;
}

std::string render_summary(const Snapshot& s) {
  const Json& d = s.doc;
  std::string out;
  const HostFacts* host = s.host ? &*s.host : nullptr;
  out += fmt::format("Snapshot of {} (kernel {}, {}) collected {} by dockfw-audit {}\n\n",
                     host ? host->hostname : "?", host ? host->kernel : "?", host ? host->netns : "?",
                     d.value("collected_at", "?"),
                     d.contains("tool") ? d["tool"].value("version", "?") : "?");
  out += "Collectors:\n";
  for (auto name : kCollectors) {
    auto r = s.collector(name);
    out += fmt::format("  {:<16} {:<7} {}\n", name, to_string(r.status), r.reason);
  }

  if (const Json* nft = s.section("nftables")) {
    int tables = 0, chains = 0, rules = 0, xt = 0;
    for (const auto& o : nft->at("ruleset")) {
      tables += o.contains("table");
      chains += o.contains("chain");
      if (o.contains("rule")) {
        ++rules;
        for (const auto& e : array_member(o["rule"], "expr")) xt += e.contains("xt");
      }
    }
    out += fmt::format("\nnftables {}: {} tables, {} chains, {} rules, {} iptables-nft expressions ({} undecoded)\n",
                       nft->value("version", "?"), tables, chains, rules, xt, nft->at("undecoded_xt").size());
  }
  if (const Json* legacy = d.contains("iptables_legacy") && !d["iptables_legacy"].is_null() ? &d["iptables_legacy"] : nullptr) {
    for (const char* fam : {"ipv4", "ipv6"}) {
      const Json& f = legacy->at(fam);
      int n = 0;
      std::string names;
      for (const auto& t : f.at("tables")) {
        names += (names.empty() ? "" : ", ") + t.value("name", "");
        for (const auto& c : t.at("chains")) n += static_cast<int>(c.at("rules").size());
      }
      out += fmt::format("iptables-legacy {}: {}\n", fam,
                         names.empty() ? std::string("no tables") : fmt::format("tables {} with {} rules", names, n));
    }
  }

  out += "\nDNAT rules:\n";
  int dnats = 0;
  if (const Json* nft = s.section("nftables"))
    for (const auto& o : nft->at("ruleset"))
      if (o.contains("rule"))
        if (auto t = nft_dnat_target(o["rule"]); !t.empty()) {
          ++dnats;
          out += fmt::format("  nftables {} {} {} (handle {}) -> {}\n", o["rule"].value("family", ""),
                             o["rule"].value("table", ""), o["rule"].value("chain", ""),
                             o["rule"].value("handle", 0), t);
        }
  if (d.contains("iptables_legacy") && d["iptables_legacy"].is_object())
    for (const char* fam : {"ipv4", "ipv6"})
      for (const auto& t : d["iptables_legacy"][fam].at("tables"))
        for (const auto& c : t.at("chains"))
          for (const auto& r : c.at("rules"))
            if (r["target"].value("name", "") == "DNAT") {
              ++dnats;
              out += fmt::format("  legacy {} {}: {}\n", fam, t.value("name", ""), r.value("text", ""));
            }
  if (!dnats) out += "  (none)\n";

  if (const DockerState* docker = s.docker ? &*s.docker : nullptr) {
    out += fmt::format("\nDocker {} (API {}): {} containers, {} networks\n",
                       docker->engine_version.empty() ? "?" : docker->engine_version,
                       docker->api_version.empty() ? "?" : docker->api_version, docker->containers.size(),
                       docker->networks.size());
    if (!docker->firewall_backend.empty())
      out += fmt::format("  firewall backend (as the daemon says): {}\n", docker->firewall_backend);
    for (const Container& c : docker->containers) {
      std::string addrs;
      for (const ContainerNetwork& n : c.networks)
        addrs += fmt::format("{}{}={}{}", addrs.empty() ? "" : " ", n.network, n.ipv4, n.ipv6.empty() ? "" : "," + n.ipv6);
      out += fmt::format("  {} [{}] {}\n", c.name, c.state, addrs);
      for (const PortBinding& p : c.ports) {
        const std::string& hip = p.host_ip;
        out += fmt::format("    publishes {}:{} -> {}/{}\n", bracketed(hip),
                           p.host_port, p.container_port, p.protocol);
      }
    }
  }
  if (host) {
    out += "\nListening sockets:\n";
    for (const ListeningSocket& so : host->listening_sockets) {
      const std::string& a = so.address;
      std::string owner = !so.process ? std::string("(owner unknown)")
                          : so.pid    ? fmt::format("{} (pid {})", *so.process, *so.pid)
                                      : *so.process;
      out += fmt::format("  {} {}:{} {}\n", so.protocol, bracketed(a), so.port, owner);
    }
    if (const UfwConfig& u = host->ufw; u.present) {
      auto policy = [&](const char* d) {
        auto it = u.defaults.find(d);
        return it == u.defaults.end() ? std::string("?") : it->second;
      };
      out += fmt::format("\nufw ({}): {}, IPv6 {}; default incoming {}, outgoing {}, routed {}; {} user rules in user.rules and user6.rules\n", u.dir,
                         !u.enabled ? "enabled unknown" : *u.enabled ? "enabled" : "disabled",
                         !u.ipv6 ? "unknown" : *u.ipv6 ? "on" : "off", policy("incoming"), policy("outgoing"),
                         policy("routed"), u.rules.size());
      std::set<std::string> shown;
      for (const auto& r : u.rules)
        if (shown.insert(r.command.empty() ? r.tuple : r.command).second)
          out += fmt::format("  {}\n", r.command.empty() ? "(tuple) " + r.tuple : r.command);
      // Chains outside ufw's own that its files fill (the ufw-docker
      // recipe's DOCKER-USER block in after.rules).
      for (const auto& f : u.files) {
        std::map<std::string, std::vector<std::uint64_t>> others;  // chain -> its lines
        for (const auto& l : f.lines)
          if (l.chain.rfind("ufw-", 0) != 0 && l.chain.rfind("ufw6-", 0) != 0) others[l.chain].push_back(l.line);
        for (const auto& [chain, lines] : others)
          out += fmt::format("  {} adds {} rule(s) to {} (lines {}-{})\n", f.name, lines.size(), chain, lines.front(),
                             lines.back());
      }
      if (!u.error.empty()) out += fmt::format("  could not read: {}\n", u.error);
    }
    out += firewalld_summary(s);
    out += firewalld_config_summary(host->firewalld);
    if (!host->services.empty()) {
      out += "\nFirewall services (systemd, at boot):\n";
      for (const auto& [unit, st] : host->services) {
        std::string more;
        if (!st.wanted_by.empty()) more = fmt::format("wanted by {}", fmt::join(st.wanted_by, ", "));
        const NftablesConfig& cfg = host->nftables_config;
        if (unit == "nftables.service" && cfg.present)
          more += fmt::format("{}its file {}{}", more.empty() ? "" : "; ", cfg.path,
                              cfg.flush_ruleset ? fmt::format(" (flush ruleset on line {})",
                                                              fmt::join(cfg.flush_ruleset_lines, ", "))
                                                : std::string());
        std::string line = fmt::format("  {:<18} {:<9} {}", unit, st.state, more);
        while (line.back() == ' ') line.pop_back();
        out += line + "\n";
      }
    }
  }
  return out;
}

}  // namespace dfa
