// The checks' registry and the helpers they share; each check is a file of
// its own under checks/.
#include "findings/check.hpp"
#include "findings/manager_terms.hpp"

#include "analyze/parallel.hpp"

#include <chrono>
#include <iterator>
#include <cstdlib>

namespace dfa {
namespace checks {

bool via_proxy(const Outcome& o) { return o.target.find("via docker-proxy") != std::string::npos; }



ExampleRank::ExampleRank(const Snapshot& s) {
  if (s.docker)
    for (const DockerNetwork& n : s.docker->networks)
      for (const auto& sn : n.subnets)
        if (auto p = Prefix::parse(sn.subnet)) docker_subnets_.push_back(*p);
}

int ExampleRank::operator()(const SourceClass& c) const {
  if (c.unnamed) return 0;
  const auto& a = c.source.addr;
  bool docker =
      a && std::any_of(docker_subnets_.begin(), docker_subnets_.end(), [&](const Prefix& p) { return p.contains(*a); });
  return docker ? 2 : 1;
}

// Source classes in the order a reader should see them as examples: anyone
// first, then named prefixes, addresses inside Docker's own subnets (which
// only a spoofing neighbour sends) last.
std::vector<Example> ordered(std::vector<Example> v, const Snapshot& s, std::size_t limit) {
  const ExampleRank rank(s);
  // A stable sort by rank, each rank found once (not once per comparison).
  std::vector<int> r(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) r[i] = rank(*v[i].cls);
  std::vector<Example> out;
  out.reserve(std::min(v.size(), limit));
  for (int k = 0; k <= 2; ++k)
    for (std::size_t i = 0; i < v.size() && out.size() < limit; ++i)
      if (r[i] == k) out.push_back(std::move(v[i]));
  return out;
}

std::vector<Example> ExampleSample::first(const std::vector<const ExampleSample*>& in_order) {
  std::vector<Example> out;
  for (std::size_t k = 0; k < 3; ++k)
    for (const ExampleSample* s : in_order)
      for (const Example& e : s->by_rank_[k]) {
        if (out.size() == kMaxExamples) return out;
        out.push_back(e);
      }
  return out;
}

void put_examples(Evidence& ev, const std::string& key, std::vector<std::string> v, std::size_t total) {
  total = std::max(total, v.size());
  if (v.size() > kMaxExamples) v.resize(kMaxExamples);
  const std::size_t shown = v.size();
  ev[key] = std::move(v);
  if (total > shown) ev[key + "_total"] = total;
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

XtFilterTables xt_filter_tables(const Snapshot& s) {
  XtFilterTables tables;
  if (const Json* nft = s.section("nftables")) {
    for (const auto& o : nft->at("ruleset")) {
      if (auto c = o.find("chain"); c != o.end() && c->value("table", "") == "filter" &&
                                    (c->value("family", "") == "ip" || c->value("family", "") == "ip6"))
        tables[fmt::format("nft:{}/filter", c->value("family", ""))][c->value("name", "")];
      auto r = o.find("rule");
      if (r == o.end() || r->value("table", "") != "filter" ||
          (r->value("family", "") != "ip" && r->value("family", "") != "ip6"))
        continue;
      XtChain& chain = tables[fmt::format("nft:{}/filter", r->value("family", ""))][r->value("chain", "")];
      ++chain.rules;
      bool only_return = false, other = false;
      for (const auto& e : array_member(*r, "expr")) {
        for (const char* verdict : {"jump", "goto"})
          if (auto j = e.find(verdict); j != e.end() && j->is_object()) chain.targets.push_back(j->value("target", ""));
        if (e.contains("return")) only_return = true;
        else if (!e.contains("counter")) other = true;
      }
      chain.bare_returns += only_return && !other;
    }
  }
  if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object())
    for (const char* fam : {"ipv4", "ipv6"})
      for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables")) {
        if (t.value("name", "") != "filter") continue;
        auto& chains = tables[fmt::format("iptables-legacy:{}/filter", fam)];
        for (const auto& c : array_member(t, "chains")) {
          XtChain& chain = chains[c.value("name", "")];
          for (const auto& r : array_member(c, "rules")) {
            ++chain.rules;
            chain.bare_returns += r.value("text", "") == fmt::format("-A {} -j RETURN", c.value("name", ""));
            if (r["target"].value("kind", "") == "jump") chain.targets.push_back(r["target"].value("name", ""));
          }
        }
      }
  return tables;
}

void add(std::vector<Finding>& out, std::string id, std::string message, Location loc, std::string identity,
         Evidence evidence, std::vector<Step> flow) {
  Finding f;
  f.rule_id = std::move(id);
  f.message = std::move(message);
  f.location = std::move(loc);
  f.identity = std::move(identity);
  f.evidence = std::move(evidence);
  f.flow = std::move(flow);
  out.push_back(std::move(f));
}

}  // namespace checks

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
  if (const Json* v = checks::daemon_setting(s, key, line, file); v && v->is_boolean()) {
    where.file = file;
    where.line = line;
    return v->get<bool>();
  }
  return std::nullopt;
}

FirewallBackend docker_firewall_backend(const Snapshot& s) {
  FirewallBackend b;
  auto is_nft = [](std::string_view v) { return v.substr(0, 8) == "nftables"; };
  if (s.section("docker_api") && s.docker && !s.docker->firewall_backend.empty()) {
    b.said = s.docker->firewall_backend;
    b.nftables = is_nft(b.said);
    b.where.logical = "docker-api:/info FirewallBackend";
    return b;
  }
  if (s.section("docker_config") && s.daemon && s.daemon->dockerd) {
    const auto& flags = s.daemon->dockerd->flags;
    if (auto it = flags.find("firewall-backend"); it != flags.end() && !it->second.empty()) {
      b.said = it->second.back();
      b.nftables = is_nft(b.said);
      b.where.logical = "dockerd:--firewall-backend";
      return b;
    }
  }
  int line = 0;
  std::string file;
  if (const Json* v = checks::daemon_setting(s, "firewall-backend", line, file); v && v->is_string()) {
    b.said = v->get<std::string>();
    b.nftables = is_nft(b.said);
    b.where.file = file;
    b.where.line = line;
  }
  return b;
}

namespace {
// Every check, by the catalogue rule it reports.
struct Check {
  const char* rule;
  checks::CheckFn run;
};
constexpr Check kChecks[] = {
    {"DFA001", checks::dfa001},  // and DFA017, from the same walks
    {"DFA002", checks::dfa002},
    {"DFA003", checks::dfa003},
    {"DFA004", checks::dfa004},
    {"DFA005", checks::dfa005},
    {"DFA006", checks::dfa006},
    {"DFA007", checks::dfa007},
    {"DFA008", checks::dfa008},
    {"DFA009", checks::dfa009},
    {"DFA010", checks::dfa010},
    {"DFA011", checks::dfa011},
    {"DFA012", checks::dfa012},
    {"DFA013", checks::dfa013},
    {"DFA015", checks::dfa015},
    {"DFA016", checks::dfa016},
    {"DFA018", checks::dfa018},
};
}  // namespace

std::vector<Finding> run_checks(const Engine& engine, const Exposure& x) {
  CheckContext cx{engine, x, engine.snapshot(), std::nullopt, {}, {}};
  cx.iptables = docker_flag(cx.snapshot, "iptables", cx.iptables_where);
  cx.backend = docker_firewall_backend(cx.snapshot);
  // The checks run side by side (DFA001, the costly one, beside the rest):
  // each writes findings of its own, joined in the catalogue's order. They
  // only read the engine, the exposure and the snapshot; DFA001's walks
  // without NAT are its own cache (ExposureEntry::bare_walk).
  constexpr std::size_t n = std::size(kChecks);
  std::vector<std::vector<Finding>> found(n);
  std::vector<double> ms(n);
  parallel_for(n, analysis_threads(), [&](std::size_t i) {
    auto t0 = std::chrono::steady_clock::now();
    kChecks[i].run(cx, found[i]);
    ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  });
  // DFA_TIMING=1: what each check cost (docs/benchmarks.md).
  static const bool timing = std::getenv("DFA_TIMING") != nullptr;
  std::vector<Finding> out;
  for (std::size_t i = 0; i < n; ++i) {
    if (timing) fmt::print(stderr, "dockfw-audit: timing: check {} {:.1f} ms\n", kChecks[i].rule, ms[i]);
    std::move(found[i].begin(), found[i].end(), std::back_inserter(out));
  }
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.rule_id, a.identity) < std::tie(b.rule_id, b.identity);
  });
  name_in_ufw_terms(cx.snapshot, out);
  name_in_firewalld_terms(cx.snapshot, out);
  return out;
}

}  // namespace dfa
