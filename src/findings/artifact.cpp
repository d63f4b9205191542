// The host artifact (artifact.hpp): one text file, one rule or fact a line,
// and the index from what findings name to those lines.
#include "findings/artifact.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/ruleset.hpp"

namespace dfa {
namespace {

class Writer {
 public:
  int line(const std::string& s) {
    text_ += s;
    text_ += '\n';
    return ++n_;
  }
  // Keys are first come, first kept: a chain's header is its line.
  void key(std::string k, int at) { lines_.emplace(std::move(k), at); }
  HostArtifact done() { return {std::move(text_), std::move(lines_)}; }

 private:
  std::string text_;
  int n_ = 0;
  std::map<std::string, int, std::less<>> lines_;
};

std::string str(const Json& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// No line of the file may break: a value with a newline in it (an interface
// or container name cannot, a daemon.json string can) is shown escaped.
std::string one_line(std::string s) {
  for (std::size_t at = 0; (at = s.find_first_of("\r\n", at)) != std::string::npos;) s.replace(at, 1, "\\n");
  return s;
}

void nftables(Writer& w, const Snapshot& s) {
  const Json* nft = s.section("nftables");
  if (!nft || !nft->contains("ruleset") || !(*nft)["ruleset"].is_array()) return;
  struct ChainText {
    std::string header;
    std::vector<const Json*> rules;
  };
  struct Table {
    std::vector<std::string> order;
    std::map<std::string, ChainText> chains;
    std::vector<std::string> sets;
  };
  std::vector<std::pair<std::string, std::string>> order;  // (family, table)
  std::map<std::pair<std::string, std::string>, Table> tables;
  auto table = [&](const std::string& f, const std::string& t) -> Table& {
    auto [it, fresh] = tables.try_emplace({f, t});
    if (fresh) order.emplace_back(f, t);
    return it->second;
  };
  auto chain = [&](Table& t, const std::string& name) -> ChainText& {
    auto [it, fresh] = t.chains.try_emplace(name);
    if (fresh) t.order.push_back(name);
    return it->second;
  };
  for (const Json& o : (*nft)["ruleset"]) {
    if (!o.is_object()) continue;
    if (auto t = o.find("table"); t != o.end() && t->is_object()) table(str(*t, "family"), str(*t, "name"));
    if (auto c = o.find("chain"); c != o.end() && c->is_object()) {
      ChainText& ct = chain(table(str(*c, "family"), str(*c, "table")), str(*c, "name"));
      if (c->contains("hook"))
        ct.header = fmt::format("type {} hook {} priority {}; policy {};", str(*c, "type"), str(*c, "hook"),
                                c->value("prio", Json(0)).dump(), str(*c, "policy").empty() ? "accept" : str(*c, "policy"));
    }
    if (auto r = o.find("rule"); r != o.end() && r->is_object())
      chain(table(str(*r, "family"), str(*r, "table")), str(*r, "chain")).rules.push_back(&*r);
    for (const char* kind : {"set", "map"})
      if (auto st = o.find(kind); st != o.end() && st->is_object()) {
        auto el = st->find("elem");
        std::size_t n = el != st->end() && el->is_array() ? el->size() : 0;
        table(str(*st, "family"), str(*st, "table"))
            .sets.push_back(fmt::format("{} {} {{ {} element{} }}", kind, str(*st, "name"), n, n == 1 ? "" : "s"));
      }
  }
  if (order.empty()) return;
  w.line("# nftables (nft list ruleset, one rule a line; sets by size)");
  for (const auto& [f, t] : order) {
    Table& tb = tables[{f, t}];
    w.key(fmt::format("nft:{}/{}", f, t), w.line(fmt::format("table {} {} {{", f, t)));
    for (const auto& set : tb.sets) w.line("\t" + one_line(set));
    for (const auto& name : tb.order) {
      const ChainText& c = tb.chains[name];
      int at = w.line(fmt::format("\tchain {} {{{}", name, c.header.empty() ? "" : "  # " + c.header));
      w.key(fmt::format("nft:{}/{}/{}", f, t, name), at);
      w.key(fmt::format("nft {} {} chain {}", f, t, name), at);  // a baseline's chain key
      int pos = 0;
      for (const Json* r : c.rules) {
        int l = w.line(fmt::format("\t\t{}  # handle {}", one_line(render_nft_rule(*r)), r->value("handle", Json(0)).dump()));
        w.key(fmt::format("nft {} {} {} #{}", f, t, name, ++pos), l);
      }
      w.line("\t}");
    }
    w.line("}");
  }
}

void legacy(Writer& w, const Snapshot& s) {
  const Json* il = s.section("iptables_legacy");
  if (!il) return;
  for (const char* fam : {"ipv4", "ipv6"}) {
    auto f = il->find(fam);
    if (f == il->end() || !f->is_object() || !f->contains("tables") || !(*f)["tables"].is_array()) continue;
    if ((*f)["tables"].empty()) continue;
    w.line(fmt::format("# iptables-legacy {} ({}-save)", fam, fam == std::string("ipv4") ? "iptables" : "ip6tables"));
    for (const Json& t : (*f)["tables"]) {
      std::string tn = str(t, "name");
      w.line("*" + tn);
      auto chains = t.find("chains");
      if (chains == t.end() || !chains->is_array()) continue;
      for (const Json& c : *chains) {
        std::string cn = str(c, "name");
        int at = w.line(fmt::format(":{} {}", cn, c.value("builtin", false) ? str(c, "policy") : "-"));
        w.key(fmt::format("iptables-legacy:{}/{}/{}", fam, tn, cn), at);
        w.key(fmt::format("iptables-legacy {} {} chain {}", fam, tn, cn), at);
      }
      for (const Json& c : *chains) {
        std::string cn = str(c, "name");
        auto rules = c.find("rules");
        if (rules == c.end() || !rules->is_array()) continue;
        for (const Json& r : *rules) {
          int l = w.line(one_line(str(r, "text")));
          w.key(fmt::format("iptables-legacy {} {} {} #{}", fam, tn, cn, r.value("index", Json(0)).dump()), l);
        }
      }
      w.line("COMMIT");
    }
  }
}

void docker(Writer& w, const Snapshot& s) {
  if (s.daemon) {
    w.line("# Docker's daemon");
    if (s.daemon->dockerd) {
      std::string argv;
      for (const auto& a : s.daemon->dockerd->argv) argv += (argv.empty() ? "" : " ") + a;
      int at = w.line(one_line("dockerd: " + argv));
      w.key("dockerd", at);
      for (const auto& [flag, values] : s.daemon->dockerd->flags) w.key("dockerd:--" + flag, at);
    }
    const auto& dj = s.daemon->daemon_json;
    if (!dj.path.empty()) {
      w.line(fmt::format("daemon.json: {}{}", one_line(dj.path), dj.error.empty() ? "" : " (" + one_line(dj.error) + ")"));
      if (dj.content && dj.content->is_object())
        for (const auto& [k, v] : dj.content->items()) {
          int at = w.line(one_line(fmt::format("  \"{}\": {}", k, v.dump())));
          if (auto kl = dj.key_lines.find(k); kl != dj.key_lines.end())
            w.key(fmt::format("file:{}:{}", dj.path, kl->second), at);
        }
    }
  }
  if (s.docker) {
    w.line(fmt::format("# Docker {} (API {}){}", s.docker->engine_version, s.docker->api_version,
                       s.docker->firewall_backend.empty() ? "" : ", firewall backend " + s.docker->firewall_backend));
    if (!s.docker->firewall_backend.empty()) w.key("docker-api:/info FirewallBackend", w.line("firewall backend: " + s.docker->firewall_backend));
    for (const DockerNetwork& n : s.docker->networks) {
      std::string subnets;
      for (const auto& sn : n.subnets) subnets += " " + sn.subnet;
      w.key("network:" + n.name, w.line(one_line(fmt::format("network {} driver {} bridge {}{}", n.name, n.driver,
                                                             n.bridge.empty() ? "-" : n.bridge, subnets))));
    }
    for (const Container& c : s.docker->containers) {
      std::string addrs, ports;
      for (const auto& n : c.networks)
        addrs += fmt::format(" {}={}{}", n.network, n.ipv4.empty() ? "-" : n.ipv4, n.ipv6.empty() ? "" : "," + n.ipv6);
      for (const auto& p : c.ports)
        ports += fmt::format(" {}:{}->{}/{}", p.host_ip.empty() ? "*" : p.host_ip, p.host_port, p.container_port, p.protocol);
      int at = w.line(one_line(fmt::format("container {} {} {}{}{}", c.name, c.state, c.image, addrs,
                                           ports.empty() ? "" : " ports" + ports)));
      w.key("container:" + c.name, at);
      w.key("docker:" + c.name, at);
    }
  }
}

void exposure_entries(Writer& w, const Exposure& x) {
  if (x.entries.empty()) return;
  w.line("# published ports and listening sockets (what scan and exposure report on)");
  for (const ExposureEntry& e : x.entries) {
    int at = w.line(one_line(fmt::format("{} {} IPv{}", to_string(e.kind), e.what, e.family)));
    w.key("exposure:" + e.what, at);
    if (e.kind == EntryKind::socket) w.key("socket:" + e.what, at);
    else if (!e.owner.empty()) w.key("docker:" + e.owner, at);
  }
}

void host(Writer& w, const Snapshot& s) {
  if (!s.host) return;
  w.line("# network sysctls");
  for (const auto& [k, v] : s.host->sysctls) {
    std::string dotted = k;
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    w.key("sysctl:" + dotted, w.line(one_line(fmt::format("{} = {}", dotted, v ? *v : "(absent)"))));
  }
}

}  // namespace

int HostArtifact::line_of(const Location& l) const {
  for (const std::string& k : {l.rule, l.logical, l.file.empty() ? std::string() : fmt::format("file:{}:{}", l.file, l.line)}) {
    if (k.empty()) continue;
    if (auto it = lines.find(k); it != lines.end()) return it->second;
  }
  return 0;
}

HostArtifact make_host_artifact(const Snapshot& s, const Exposure& exposure) {
  Writer w;
  w.line(one_line(fmt::format("# dockfw-audit: the state of {} collected at {} (snapshot schema {}); SARIF results point at "
                              "these lines",
                              s.host && !s.host->hostname.empty() ? s.host->hostname : "a host",
                              s.doc.value("collected_at", "?"), s.doc.value("schema_version", 0))));
  w.line("# collectors");
  for (auto name : kCollectors) {
    auto r = s.collector(name);
    w.key(fmt::format("collector:{}", name),
          w.line(one_line(fmt::format("{}: {}{}", name, to_string(r.status), r.reason.empty() ? "" : " (" + r.reason + ")"))));
  }
  nftables(w, s);
  legacy(w, s);
  docker(w, s);
  exposure_entries(w, exposure);
  host(w, s);
  return w.done();
}

}  // namespace dfa
