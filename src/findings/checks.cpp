#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "findings/findings.hpp"

namespace dfa {

const std::vector<std::string_view>& catalogue_sources();

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::none: return "none";
    case Severity::info: return "info";
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
  }
  return "none";
}

std::optional<Severity> severity_from(std::string_view s) {
  for (Severity v : {Severity::none, Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

const std::vector<RuleDef>& catalogue() {
  static const std::vector<RuleDef> rules = [] {
    std::vector<RuleDef> v;
    for (auto src : catalogue_sources()) {
      Json j = Json::parse(src);
      RuleDef r;
      r.id = j.at("id");
      r.name = j.at("name");
      r.title = j.at("title");
      r.why = j.at("why");
      r.fix = j.at("fix");
      auto sev = severity_from(j.at("severity").get<std::string>());
      if (!sev) std::abort();
      r.severity = *sev;
      r.references = j.value("references", std::vector<std::string>{});
      v.push_back(std::move(r));
    }
    std::sort(v.begin(), v.end(), [](const RuleDef& a, const RuleDef& b) { return a.id < b.id; });
    return v;
  }();
  return rules;
}

const RuleDef* find_rule(const std::string& id) {
  for (const auto& r : catalogue())
    if (r.id == id) return &r;
  return nullptr;
}

namespace {

bool via_proxy(const Outcome& o) { return o.target.find("via docker-proxy") != std::string::npos; }

// A source class named in an example, with the destination it reached
// ("" when the example is the class alone).
struct Example {
  const SourceClass* cls;
  std::string destination;
  std::string text() const { return destination.empty() ? cls->label : cls->label + " to " + destination; }
};

// Source classes in the order a reader should see them as examples: anyone
// first, then named prefixes, addresses inside Docker's own subnets (which
// only a spoofing neighbour sends) last.
std::vector<Example> ordered(std::vector<Example> v, const Snapshot& s) {
  std::vector<Prefix> docker_subnets;
  if (s.docker)
    for (const DockerNetwork& n : s.docker->networks)
      for (const auto& sn : n.subnets)
        if (auto p = Prefix::parse(sn.subnet)) docker_subnets.push_back(*p);
  auto rank = [&](const Example& e) {
    if (e.cls->unnamed) return 0;
    const auto& a = e.cls->source.addr;
    bool docker = a && std::any_of(docker_subnets.begin(), docker_subnets.end(),
                                   [&](const Prefix& p) { return p.contains(*a); });
    return docker ? 2 : 1;
  };
  std::stable_sort(v.begin(), v.end(), [&](const Example& a, const Example& b) { return rank(a) < rank(b); });
  return v;
}

std::vector<std::string> texts(const std::vector<Example>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.text());
  return out;
}

// "nft inet filter input #1 (handle 2)" -> "nft:inet/filter/input"
std::string logical_of(const std::string& origin) {
  std::vector<std::string> w;
  std::size_t i = 0;
  while (i < origin.size() && w.size() < 5) {
    std::size_t j = origin.find(' ', i);
    if (j == std::string::npos) j = origin.size();
    w.push_back(origin.substr(i, j - i));
    i = j + 1;
  }
  if (w.size() >= 4 && w[0] == "nft") return fmt::format("nft:{}/{}/{}", w[1], w[2], w[3]);
  if (w.size() >= 4 && w[0] == "iptables-legacy") return fmt::format("iptables-legacy:{}/{}/{}", w[1], w[2], w[3]);
  if (w.size() >= 4 && w[0] == "policy") return logical_of(origin.substr(origin.find(" of ") + 4));
  return origin;
}

// The rule itself, without its handle: stable across reloads.
std::string stable_origin(const std::string& origin) {
  auto h = origin.find(" (handle");
  return h == std::string::npos ? origin : origin.substr(0, h);
}

const Json* daemon_setting(const Snapshot& s, const char* key, int& line, std::string& file) {
  // Only what the collector read completely (as section() says).
  if (!s.section("docker_config") || !s.daemon) return nullptr;
  const auto& dj = s.daemon->daemon_json;
  file = dj.path;
  if (!dj.content || !dj.content->is_object()) return nullptr;
  auto it = dj.content->find(key);
  if (it == dj.content->end()) return nullptr;
  if (auto kl = dj.key_lines.find(key); kl != dj.key_lines.end()) line = static_cast<int>(kl->second);
  return &*it;
}


void add(std::vector<Finding>& out, std::string id, std::string message, Location loc, std::string identity,
         Json evidence = Json::object(), std::vector<Step> flow = {}) {
  Finding f;
  f.rule_id = std::move(id);
  f.message = std::move(message);
  f.location = std::move(loc);
  f.identity = std::move(identity);
  f.evidence = std::move(evidence);
  f.flow = std::move(flow);
  out.push_back(std::move(f));
}

}  // namespace

// What dockerd runs with: its flag wins over daemon.json.
std::optional<bool> docker_flag(const Snapshot& s, const char* key, Location& where) {
  if (s.section("docker_config") && s.daemon && s.daemon->dockerd) {
    const auto& flags = s.daemon->dockerd->flags;
    if (auto it = flags.find(key); it != flags.end() && !it->second.empty()) {
      where.logical = fmt::format("dockerd:--{}", key);
      return it->second.back() == "true";
    }
  }
  int line = 0;
  std::string file;
  if (const Json* v = daemon_setting(s, key, line, file); v && v->is_boolean()) {
    where.file = file;
    where.line = line;
    return v->get<bool>();
  }
  return std::nullopt;
}

std::vector<Finding> run_checks(const Engine& engine, const Exposure& x) {
  const Snapshot& s = engine.snapshot();
  std::vector<Finding> out;

  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    // DFA001: delivered through DNAT although the input hook would drop it.
    std::map<std::string, std::vector<Example>> bypassed;  // blocking rule -> source classes
    std::map<std::string, ExposureCell> example;
    std::map<std::string, std::vector<Step>> example_flow;  // the DNAT path, for SARIF codeFlows
    for (const auto& c : en.cells()) {
      if (!c.source_class.remote() || c.outcome->result != Outcome::Result::delivered || via_proxy(*c.outcome) ||
          c.outcome->container.empty())
        continue;
      const SourceClass* cls = &c.source_class;
      const IpAddr* dst = &c.destination_addr;
      if (dst->is_loopback()) continue;
      Outcome without = engine.run(cls->source, *dst, en.port, en.proto, true, true);
      if (without.result != Outcome::Result::dropped) continue;
      bool at_input = std::any_of(without.steps.begin(), without.steps.end(), [&](const Step& st) {
        return st.hook == "input" && st.drops;
      });
      if (!at_input) continue;
      std::string by = stable_origin(without.decided_by);
      bypassed[by].push_back({cls, c.destination});
      if (example.emplace(by, c).second)
        example_flow[by] = engine.run(cls->source, *dst, en.port, en.proto, true).steps;
    }
    for (auto& [by, examples] : bypassed) {
      std::vector<Example> first = ordered(std::move(examples), s);
      std::vector<std::string> sources = texts(first);
      const ExposureCell& c = example.at(by);
      Json ev;
      ev["published"] = en.what;
      ev["blocking_rule"] = by;
      ev["reached_by"] = sources;
      ev["target"] = c.outcome->target;
      ev["decided_by"] = c.outcome->decided_by;
      add(out, "DFA001",
          fmt::format("{} is reachable from {} source class(es) (e.g. {} to {}) although {} drops it: Docker's DNAT "
                      "forwards the packet before the input hook; {} decides",
                      en.what, sources.size(), first.front().cls->label, first.front().destination, by,
                      c.outcome->decided_by),
          {"", 0, logical_of(by)}, fmt::format("{}|{}", en.what, by), ev, example_flow[by]);
    }

    // DFA003: open to "any other address" on an external interface.
    std::vector<std::string> any_open;
    for (const auto& c : en.cells())
      if (c.source_class.unnamed && c.outcome->result == Outcome::Result::delivered &&
          !c.destination_addr.is_loopback())
        any_open.push_back(c.source + " to " + c.destination);
    if (!any_open.empty())
      add(out, "DFA003", fmt::format("{} is reachable from any address ({})", en.what, any_open.front()),
          {"", 0, "docker:" + en.owner}, en.what, Json{{"reached_by", any_open}});

    // DFA011: undecidable cells.
    std::set<std::string> reasons;
    for (const auto& c : en.cells())
      if (c.outcome->result == Outcome::Result::uncertain)
        for (const auto& u : c.outcome->uncertain)
          if (u.rfind("(does not change", 0) != 0) reasons.insert(u);
    if (!reasons.empty())
      add(out, "DFA011", fmt::format("reachability of {} is uncertain: {}", en.what, *reasons.begin()),
          {"", 0, "docker:" + en.owner}, en.what,
          Json{{"reasons", std::vector<std::string>(reasons.begin(), reasons.end())}});
  }

  // DFA006: a published port or a host service bound to loopback, reached
  // by another host.
  for (const auto& en : x.entries) {
    if (!en.bound || !en.bound->is_loopback()) continue;
    std::vector<Example> examples;
    for (const auto& c : en.cells())
      if (c.source_class.remote() && c.outcome->result == Outcome::Result::delivered)
        examples.push_back({&c.source_class, c.destination});
    std::vector<std::string> reached = texts(ordered(std::move(examples), s));
    if (reached.empty()) continue;
    bool published = en.kind == EntryKind::published;
    add(out, "DFA006",
        fmt::format("{}{} is bound to the loopback address but reachable from {}", published ? "" : "host service ",
                    en.what, reached.front()),
        {"", 0, published ? "docker:" + en.owner : "socket:" + en.what}, en.what,
        Json{{"reached_by", reached}});
  }

  // DFA004: the same published port, open from anywhere over one family only.
  std::map<std::pair<std::string, std::string>, std::map<int, bool>> open_any;  // (web, :8080->80/tcp) -> family -> open
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    bool open = false;
    for (const auto& c : en.cells())
      if (c.source_class.unnamed && c.outcome->result == Outcome::Result::delivered &&
          !c.destination_addr.is_loopback())
        open = true;
    open_any[{en.owner, fmt::format(":{}->{}/{}", en.port, en.target_port, en.proto)}][en.family] |= open;
  }
  for (const auto& [key, fams] : open_any)
    if (fams.size() == 2 && fams.at(4) != fams.at(6)) {
      std::string what = key.first + " " + key.second;
      add(out, "DFA004",
          fmt::format("{} is open from any address over IPv{} and closed over IPv{}", what, fams.at(4) ? 4 : 6,
                      fams.at(4) ? 6 : 4),
          {"", 0, "docker:" + key.first}, what, Json{{"ipv4_open", fams.at(4)}, {"ipv6_open", fams.at(6)}});
    }

  // DFA005: container addresses reachable directly from outside.
  if (s.docker) {
    for (const Container* cp : s.docker->running()) {
      const Container& c = *cp;
      std::set<unsigned> published;
      for (const PortBinding& b : c.ports) published.insert(b.container_port);
      for (const ContainerNetwork& n : c.networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6}) {
          auto a = IpAddr::parse(*k);
          if (!a) continue;
          std::vector<std::pair<unsigned, std::string>> ports;
          for (unsigned p : published) ports.emplace_back(p, "published");
          ports.emplace_back(1, "unpublished");
          for (const auto& [port, kind] : ports) {
            std::vector<Example> examples;
            for (const auto& cls : x.classes) {
              if (!cls.remote() || !cls.source.addr || cls.source.addr->family != a->family) continue;
              Outcome o = engine.run(cls.source, *a, port, "tcp", false);
              if (o.result == Outcome::Result::delivered) examples.push_back({&cls, ""});
            }
            if (examples.empty()) continue;
            std::vector<std::string> reached = texts(ordered(std::move(examples), s));
            std::string where = a->family == 6 ? "[" + a->str() + "]" : a->str();
            add(out, "DFA005",
                fmt::format("container {} is reachable directly at {}:{} ({} port{}) from {}", c.name, where,
                            kind == "published" ? std::to_string(port) : std::string("*"), kind,
                            kind == "published" ? "" : "s", reached.front()),
                {"", 0, "docker:" + c.name},
                fmt::format("{}|{}|{}", c.name, n.network, kind == "published" ? std::to_string(port) : "unpublished"),
                Json{{"address", a->str()}, {"port", kind == "published" ? Json(port) : Json("unpublished")}, {"reached_by", reached}});
          }
        }
    }
  }

  // DFA002: Docker's rules in iptables-legacy next to an nftables host firewall.
  if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object()) {
    bool docker_legacy = false;
    for (const char* fam : {"ipv4", "ipv6"})
      for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables"))
        for (const auto& ch : array_member(t, "chains"))
          if (ch.value("name", "") == "DOCKER") docker_legacy = true;
    bool nft_firewall = false;
    if (const Json* nft = s.section("nftables"))
      for (const auto& o : nft->at("ruleset"))
        if (auto t = o.find("table"); t != o.end()) {
          static const std::set<std::string> xt_names = {"filter", "nat", "mangle", "raw", "security"};
          if (t->value("family", "") == "inet" || !xt_names.count(t->value("name", ""))) nft_firewall = true;
        }
    if (docker_legacy && nft_firewall)
      add(out, "DFA002", "Docker's chains are in iptables-legacy while nftables holds the host firewall",
          {"", 0, "iptables-legacy:ipv4/nat/DOCKER"}, "docker-legacy");
  }

  // Whether Docker writes its rules, and where that is configured.
  Location iptables_where;
  const std::optional<bool> iptables = docker_flag(s, "iptables", iptables_where);

  // DFA012: Docker's filter chains without DOCKER-USER in the path.
  if (iptables.value_or(true)) {
    auto check_table = [&](const std::string& where, const std::map<std::string, std::vector<std::string>>& chains) {
      if (!chains.count("DOCKER") || !chains.count("FORWARD")) return;
      bool has_user = chains.count("DOCKER-USER") > 0;
      const auto& fwd = chains.at("FORWARD");
      bool jumped = std::find(fwd.begin(), fwd.end(), "DOCKER-USER") != fwd.end();
      if (has_user && jumped) return;
      add(out, "DFA012",
          has_user ? fmt::format("{} FORWARD does not jump to DOCKER-USER", where)
                   : fmt::format("{} has Docker's chains but no DOCKER-USER chain", where),
          {"", 0, where + "/FORWARD"}, where);
    };
    if (const Json* nft = s.section("nftables")) {
      std::map<std::string, std::map<std::string, std::vector<std::string>>> tables;  // table -> chain -> jump targets
      for (const auto& o : nft->at("ruleset")) {
        if (auto c = o.find("chain"); c != o.end() && c->value("table", "") == "filter" &&
                                      (c->value("family", "") == "ip" || c->value("family", "") == "ip6"))
          tables[fmt::format("nft:{}/filter", c->value("family", ""))][c->value("name", "")];
        if (auto r = o.find("rule"); r != o.end() && r->value("table", "") == "filter")
          for (const auto& e : array_member(*r, "expr"))
            if (auto j = e.find("jump"); j != e.end())
              tables[fmt::format("nft:{}/filter", r->value("family", ""))][r->value("chain", "")].push_back(
                  j->value("target", ""));
      }
      for (const auto& [where, chains] : tables) check_table(where, chains);
    }
    if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object())
      for (const char* fam : {"ipv4", "ipv6"})
        for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables")) {
          if (t.value("name", "") != "filter") continue;
          std::map<std::string, std::vector<std::string>> chains;
          for (const auto& c : array_member(t, "chains")) {
            auto& targets = chains[c.value("name", "")];
            for (const auto& r : array_member(c, "rules"))
              if (r["target"].value("kind", "") == "jump") targets.push_back(r["target"].value("name", ""));
          }
          check_table(fmt::format("iptables-legacy:{}/filter", fam), chains);
        }
  }

  // DFA013: DNAT to an address in a Docker subnet that no running container holds.
  if (s.docker) {
    std::vector<Prefix> subnets;
    std::set<std::string> held;
    for (const DockerNetwork& n : s.docker->networks)
      for (const auto& sn : n.subnets)
        if (auto p = Prefix::parse(sn.subnet)) subnets.push_back(*p);
    for (const Container* c : s.docker->running())
      for (const ContainerNetwork& n : c->networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6})
          if (!k->empty()) held.insert(*k);
    auto check_dest = [&](const std::string& dest, const std::string& origin) {
      std::string addr = dest;
      if (!addr.empty() && addr[0] == '[') addr = addr.substr(1, addr.find(']') - 1);
      else if (std::count(addr.begin(), addr.end(), ':') == 1) addr = addr.substr(0, addr.find(':'));
      auto ip = IpAddr::parse(addr);
      if (!ip || held.count(ip->str())) return;
      if (std::none_of(subnets.begin(), subnets.end(), [&](const Prefix& p) { return p.contains(*ip); })) return;
      add(out, "DFA013", fmt::format("{} translates to {}, which no running container holds", origin, dest),
          {"", 0, logical_of(origin)}, origin + "|" + dest);
    };
    if (const Json* nft = s.section("nftables"))
      for (const auto& o : nft->at("ruleset"))
        if (auto r = o.find("rule"); r != o.end()) {
          std::string origin = fmt::format("nft {} {} {}", r->value("family", ""), r->value("table", ""), r->value("chain", ""));
          for (const auto& e : array_member(*r, "expr")) {
            if (auto d = e.find("dnat"); d != e.end() && d->contains("addr") && (*d)["addr"].is_string()) {
              std::string a = (*d)["addr"].get<std::string>();
              if (a.find(':') != std::string::npos) a = "[" + a + "]";
              check_dest(d->contains("port") ? a + ":" + (*d)["port"].dump() : a, origin);
            }
            if (auto x = e.find("xt"); x != e.end() && x->value("name", "") == "DNAT" && x->value("decoded", false))
              check_dest(x->value("params", Json::object()).value("to_destination", ""), origin);
          }
        }
    if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object())
      for (const char* fam : {"ipv4", "ipv6"})
        for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables"))
          for (const auto& c : array_member(t, "chains"))
            for (const auto& r : array_member(c, "rules"))
              if (r["target"].value("name", "") == "DNAT" && r["target"].value("decoded", false))
                check_dest(r["target"].value("params", Json::object()).value("to_destination", ""),
                           fmt::format("iptables-legacy {} {} {}", fam, t.value("name", ""), c.value("name", "")));
  }

  if (const HostFacts* host = s.host ? &*s.host : nullptr) {
    // DFA007: route_localnet on an interface that faces other hosts.
    std::set<std::string> bridges;
    if (s.docker)
      for (const DockerNetwork& n : s.docker->networks) bridges.insert(n.bridge);
    for (const auto& [k, v] : host->sysctls) {
      if (v != "1") continue;
      if (k.rfind("net/ipv4/conf/", 0) != 0 || k.size() < 15 || k.find("/route_localnet") == std::string::npos) continue;
      std::string iface = k.substr(14, k.find('/', 14) - 14);
      if (iface == "lo" || iface == "default" || bridges.count(iface)) continue;
      std::string key = k;
      std::replace(key.begin(), key.end(), '/', '.');
      add(out, "DFA007", fmt::format("{} = 1", key), {"", 0, "sysctl:" + key}, key);
    }
    // DFA009: nftables.conf flushes the ruleset while Docker writes rules.
    const NftablesConfig& cfg = host->nftables_config;
    if (cfg.flush_ruleset && iptables.value_or(true)) {
      int line = cfg.flush_ruleset_lines.empty() ? 0 : static_cast<int>(cfg.flush_ruleset_lines.front());
      add(out, "DFA009", fmt::format("{} runs `flush ruleset`, which deletes Docker's tables on every reload", cfg.path),
          {cfg.path, line, ""}, cfg.path);
    }
    // DFA008: iptables false, docker-proxy still listening.
    if (iptables && !*iptables) {
      std::vector<std::string> proxied;
      for (const ListeningSocket& so : host->listening_sockets)
        if (so.process == "docker-proxy") proxied.push_back(fmt::format("{}/{}", so.port, so.protocol));
      if (!proxied.empty())
        add(out, "DFA008", fmt::format("Docker runs with iptables disabled and docker-proxy listens on {} port(s), e.g. {}",
                                       proxied.size(), proxied.front()),
            iptables_where, "iptables-false", Json{{"docker_proxy_ports", proxied}});
    }
    // DFA010: icc=false networks with bridged traffic outside the ip hooks.
    if (s.docker) {
      for (const DockerNetwork& n : s.docker->networks) {
        if (n.driver != "bridge" || n.enable_icc.value_or(true)) continue;
        for (const char* knob : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"}) {
          if (std::string(knob).find("ip6") != std::string::npos && !n.enable_ipv6) continue;
          if (host->sysctl(knob) == "1") continue;
          std::string key = knob;
          std::replace(key.begin(), key.end(), '/', '.');
          add(out, "DFA010",
              fmt::format("network {} disables inter-container traffic, but {} is not 1: containers on {} still reach each other",
                          n.name, key, n.bridge),
              {"", 0, "sysctl:" + key}, n.name + "|" + key);
        }
      }
    }
  }

  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.rule_id, a.identity) < std::tie(b.rule_id, b.identity);
  });
  return out;
}

}  // namespace dfa
