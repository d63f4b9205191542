#include "drift/baseline.hpp"

#include "model/shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "analyze/exposure.hpp"
#include "dfa/version.hpp"
#include "findings/report.hpp"

namespace dfa {
namespace {

// j's text without counters (what changes as packets pass), as a rule's
// identity: a lone {"counter": ...} as {"counter": null}, no "counters"
// member. Written as it is read, without a copy of the rule.
void write_without_counters(JsonWriter& w, const Json& j) {
  if (j.is_object()) {
    w.begin_object();
    if (j.size() == 1 && j.contains("counter")) {
      w.key("counter");
      w.null();
    } else {
      for (const auto& [k, v] : j.items())
        if (k != "counters") {
          w.key(k);
          write_without_counters(w, v);
        }
    }
    w.end_object();
  } else if (j.is_array()) {
    w.begin_array();
    for (const auto& v : j) write_without_counters(w, v);
    w.end_array();
  } else if (j.is_string()) {
    w.string(j.get_ref<const std::string&>());
  } else if (j.is_number_integer() && (!j.is_number_unsigned() || j.get<std::uint64_t>() <= INT64_MAX)) {
    w.number(j.get<long long>());
  } else {
    w.value(j);
  }
}

// A chain's rules (by id) or a set's elements (by text), one after another:
// what they are, not their order, is what rule_changes counts. f(id, text).
template <class F>
void for_each_item(const Baseline::RuleList& l, F&& f) {
  if (l.is_set)
    for (const auto& t : l.elements) f(t, t);
  else
    for (const auto& r : l.rules) f(r.id, r.text);
}
std::size_t items_of(const Baseline::RuleList& l) { return l.is_set ? l.elements.size() : l.rules.size(); }

// The digest of a list: its header and its items' identities in order.
std::string digest_of(const Baseline::RuleList& l) {
  std::string all = l.header;
  for_each_item(l, [&](const std::string& id, const std::string&) {
    all += '\n';
    all += id;
  });
  return stable_hash(all);
}

// "nft FAMILY TABLE chain NAME" / "iptables-legacy ipv4 TABLE chain NAME":
// rules; "nft FAMILY TABLE set NAME" (or map): elements.
std::map<std::string, Baseline::RuleList> rules_of(const Snapshot& s) {
  std::map<std::string, Baseline::RuleList> out;
  if (const Json* nft = s.section("nftables")) {
    for (const auto& o : nft->at("ruleset")) {
      if (auto c = o.find("chain"); c != o.end()) {
        std::string key = fmt::format("nft {} {} chain {}", c->value("family", ""), c->value("table", ""), c->value("name", ""));
        Baseline::RuleList& e = out[key];
        if (c->contains("hook"))
          e.header = fmt::format("type {} hook {} priority {} policy {}", c->value("type", ""), c->value("hook", ""),
                                 c->value("prio", 0), c->value("policy", "accept"));
      } else if (auto r = o.find("rule"); r != o.end()) {
        std::string key = fmt::format("nft {} {} chain {}", r->value("family", ""), r->value("table", ""), r->value("chain", ""));
        std::string id;
        JsonWriter w(id, false);
        if (auto e = r->find("expr"); e != r->end()) write_without_counters(w, *e);
        else id = "[]";
        std::string comment = r->value("comment", "");
        std::string text = render_nft_rule(*r) + (comment.empty() ? "" : " comment \"" + comment + "\"");
        out[key].rules.push_back({std::move(text), stable_hash(id + comment)});
      } else {
        for (const char* kind : {"set", "map"}) {
          auto st = o.find(kind);
          if (st == o.end()) continue;
          std::string key = fmt::format("nft {} {} {} {}", st->value("family", ""), st->value("table", ""), kind,
                                        st->value("name", ""));
          // Elements as text, each its own identity: a blocklist of 100,000
          // is 100,000 short strings, not objects with a hash each.
          Baseline::RuleList& e = out[key];
          e.is_set = true;
          e.header = fmt::format("type {}", st->contains("type") ? (*st)["type"].dump() : "");
          const Json& elems = array_member(*st, "elem");
          e.elements.reserve(elems.size());
          for (const auto& el : elems) e.elements.push_back(render_nft_element(el));
        }
      }
    }
  }
  if (s.section("iptables_legacy")) {
    const Json& legacy = s.doc["iptables_legacy"];
    for (const char* fam : {"ipv4", "ipv6"}) {
      if (!legacy.contains(fam)) continue;
      for (const auto& t : array_member(legacy[fam], "tables"))
        for (const auto& c : array_member(t, "chains")) {
          std::string key = fmt::format("iptables-legacy {} {} chain {}", fam, t.value("name", ""), c.value("name", ""));
          Baseline::RuleList& e = out[key];
          if (c.contains("policy") && c["policy"].is_string()) e.header = "policy " + c["policy"].get<std::string>();
          for (const auto& r : array_member(c, "rules")) {
            std::string text = r.value("text", "");
            std::string id = stable_hash(text);
            e.rules.push_back({std::move(text), std::move(id)});
          }
        }
    }
  }
  for (auto& [k, e] : out) e.digest = digest_of(e);
  return out;
}

// The sysctls that change reachability; per-interface entries of veth
// devices come and go with containers and are left out.
std::map<std::string, std::optional<std::string>> sysctls_of(const Snapshot& s) {
  std::map<std::string, std::optional<std::string>> out;
  const Json* host = s.section("host");
  if (!host || !host->contains("sysctls")) return out;
  for (const auto& [k, v] : (*host)["sysctls"].items()) {
    if (k.find("/veth") != std::string::npos) continue;
    if (v.is_string()) out[k] = v.get<std::string>();
    else if (v.is_null()) out[k] = std::nullopt;
    else out[k] = v.dump();
  }
  return out;
}

std::map<std::string, Baseline::Container> containers_of(const Snapshot& s) {
  std::map<std::string, Baseline::Container> out;
  const Json* api = s.section("docker_api");
  if (!api) return out;
  for (const auto& c : api->at("containers")) {
    Baseline::Container k;
    k.image = c.value("image", "");
    k.running = c.value("running", false);
    for (const auto& b : array_member(c, "ports")) {
      std::string hip = b.value("host_ip", "");
      k.ports.push_back(fmt::format("{}:{}->{}/{}", bracketed(hip),
                                    b.value("host_port", 0), b.value("container_port", 0), b.value("protocol", "")));
    }
    for (const auto& n : array_member(c, "networks")) {
      for (const char* key : {"ipv4", "ipv6"})
        if (!n.value(key, "").empty()) k.addresses.push_back(n.value("network", "") + " " + n.value(key, ""));
    }
    out[c.value("name", "")] = std::move(k);
  }
  return out;
}

// The distinct sets of sources of a Baseline's cells, each kept once.
class SourceSetIndex {
 public:
  explicit SourceSetIndex(Baseline& b) : b_(b) {}
  // v's index in b.source_sets, added there if new.
  std::uint32_t of(std::vector<std::uint32_t> v) {
    auto [it, fresh] = index_.try_emplace(v, static_cast<std::uint32_t>(b_.source_sets.size()));
    if (fresh) b_.source_sets.push_back(std::move(v));
    return it->second;
  }

 private:
  Baseline& b_;
  std::map<std::vector<std::uint32_t>, std::uint32_t> index_;
};

void docker_of(const Snapshot& s, Baseline& b) {
  if (s.doc.contains("docker_config") && s.doc["docker_config"].is_object()) {
    const Json& dc = s.doc["docker_config"];
    if (dc.contains("daemon_json") && dc["daemon_json"].is_object()) {
      const Json& dj = dc["daemon_json"];
      Baseline::DaemonJson d;
      d.path = dj.value("path", "");
      d.present = dj.value("present", false);
      if (dj.contains("content")) d.content = dj["content"];
      if (auto kl = dj.find("key_lines"); kl != dj.end() && kl->is_object())
        for (const auto& [k, v] : kl->items())
          if (v.is_number_integer()) d.key_lines[k] = v.get<long long>();
      d.error = dj.value("error", "");
      b.daemon_json = std::move(d);
    }
  }
  if (s.daemon && s.daemon->dockerd) b.dockerd_argv = s.daemon->dockerd->argv;
}

}  // namespace

Baseline make_baseline(const Engine& engine, const ScanResult& scan) {
  const Snapshot& s = engine.snapshot();
  Baseline b;
  b.snapshot_collected_at = s.doc.value("collected_at", "");
  for (auto name : kCollectors) b.collectors[std::string(name)] = std::string(to_string(s.collector(name).status));
  for (int fam : {4, 6}) {
    auto& ps = b.source_prefixes[fam];
    for (const auto& p : scan.exposure.partitions.at(fam).prefixes) ps.push_back(p.str());
  }
  std::unordered_map<std::string, std::size_t> class_index;
  for (const auto& c : scan.exposure.classes) {
    if (!class_index.emplace(c.label, b.source_classes.size()).second) continue;  // "the host itself" of each family
    Baseline::Class k{c.label, c.representative, std::nullopt};
    if (c.source.kind == Source::Kind::remote) k.iif = c.source.iif;
    b.source_classes.push_back(std::move(k));
  }
  // Cells grouped by destination, outcome and deciding rule, each group's
  // sources a set of indexes into source_classes kept once in source_sets:
  // the baseline grows with entries and distinct behaviours, not with
  // classes times cells.
  std::map<int, std::vector<std::uint32_t>> index_of;  // family -> class -> baseline index
  for (const auto& [fam, base] : scan.exposure.class_base) {
    auto& v = index_of[fam];
    const auto& part = scan.exposure.partitions.at(fam);
    for (std::size_t ci = 0; ci < part.classes.size(); ++ci)
      v.push_back(static_cast<std::uint32_t>(class_index.at(scan.exposure.classes[base + ci].label)));
  }
  SourceSetIndex sets(b);
  b.exposure.reserve(scan.exposure.entries.size());
  for (const auto& en : scan.exposure.entries) {
    // Groups in order of their first cell (classes outer, destinations
    // inner), sources in class order: group_cells' groups, joined where only
    // the target or what is uncertain tells them apart.
    Baseline::Entry e{std::string(to_string(en.kind)), en.what, en.family, {}};
    std::unordered_map<std::string, std::size_t> group_of;
    std::vector<std::vector<std::uint32_t>> sources;  // per group, class indexes of the entry
    for (const auto& g : group_cells(en)) {
      std::string outcome(to_string(g.outcome->result));
      const std::string& dst = en.destinations[g.destination];
      std::string key = dst + '\x1f' + outcome + '\x1f' + g.outcome->decided_by;
      auto [it, fresh] = group_of.try_emplace(std::move(key), e.cells.size());
      if (fresh) {
        e.cells.push_back({dst, std::move(outcome), g.outcome->decided_by, 0});
        sources.push_back(g.sources);
      } else {
        std::vector<std::uint32_t> merged;
        std::merge(sources[it->second].begin(), sources[it->second].end(), g.sources.begin(), g.sources.end(),
                   std::back_inserter(merged));
        sources[it->second] = std::move(merged);
      }
    }
    const auto& to_index = index_of.at(en.family);
    for (std::size_t i = 0; i < e.cells.size(); ++i) {
      std::vector<std::uint32_t> v;
      v.reserve(sources[i].size());
      for (auto ci : sources[i]) v.push_back(to_index[ci]);
      e.cells[i].source_set = sets.of(std::move(v));
    }
    b.exposure.push_back(std::move(e));
  }
  b.findings.reserve(scan.findings.size());
  for (const auto& f : scan.findings) b.findings.push_back({f.rule_id, fingerprint(f), f.identity, f.message});
  b.rules = rules_of(s);
  docker_of(s, b);
  b.sysctls = sysctls_of(s);
  b.containers = containers_of(s);
  return b;
}

namespace {
void write_strings(JsonWriter& w, const std::vector<std::string>& v) {
  w.begin_array();
  for (const auto& x : v) w.string(x);
  w.end_array();
}
void write_bool(JsonWriter& w, bool v) { w.raw(v ? "true" : "false"); }
// A string member.
void put(JsonWriter& w, std::string_view key, std::string_view v) {
  w.key(key);
  w.string(v);
}
// A container as the file and drift's evidence have it (a few hundred on a
// large host: a small tree each is no cost).
Evidence container_evidence(const Baseline::Container& c) {
  return {{"image", c.image}, {"running", c.running}, {"ports", c.ports}, {"addresses", c.addresses}};
}
}  // namespace

std::string baseline_text(const Baseline& b) {
  std::string out;
  JsonWriter w(out, false);
  w.begin_object();
  put(w, "kind", "dockfw-audit-baseline");
  w.key("schema_version");
  w.number(kBaselineSchemaVersion);
  w.key("tool");
  w.value(tool_json());
  put(w, "snapshot_collected_at", b.snapshot_collected_at);
  w.key("collectors");
  w.begin_object();
  for (const auto& [k, v] : b.collectors) put(w, k, v);
  w.end_object();
  w.key("source_prefixes");
  w.begin_object();
  for (const auto& [fam, ps] : b.source_prefixes) {
    w.key(std::to_string(fam));
    write_strings(w, ps);
  }
  w.end_object();
  w.key("source_classes");
  w.begin_array();
  for (const auto& c : b.source_classes) {
    w.begin_object();
    put(w, "label", c.label);
    put(w, "representative", c.representative);
    if (c.iif) put(w, "iif", *c.iif);
    w.end_object();
  }
  w.end_array();
  w.key("exposure");
  w.begin_array();
  for (const auto& e : b.exposure) {
    w.begin_object();
    put(w, "kind", e.kind);
    put(w, "what", e.what);
    w.key("family");
    w.number(e.family);
    w.key("cells");
    w.begin_array();
    for (const auto& c : e.cells) {
      w.begin_object();
      put(w, "destination", c.destination);
      put(w, "outcome", c.outcome);
      put(w, "decided_by", c.decided_by);
      w.key("source_set");
      w.number(c.source_set);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("source_sets");
  w.begin_array();
  for (const auto& set : b.source_sets) {
    w.begin_array();
    for (auto i : set) w.number(i);
    w.end_array();
  }
  w.end_array();
  w.key("findings");
  w.begin_array();
  for (const auto& f : b.findings) {
    w.begin_object();
    put(w, "rule_id", f.rule_id);
    put(w, "fingerprint", f.fingerprint);
    put(w, "identity", f.identity);
    put(w, "message", f.message);
    w.end_object();
  }
  w.end_array();
  w.key("rules");
  w.begin_object();
  for (const auto& [k, l] : b.rules) {
    w.key(k);
    w.begin_object();
    put(w, "header", l.header);
    if (l.is_set) {
      w.key("elements");
      write_strings(w, l.elements);
    } else {
      w.key("rules");
      w.begin_array();
      for (const auto& r : l.rules) {
        w.begin_object();
        put(w, "text", r.text);
        put(w, "id", r.id);
        w.end_object();
      }
      w.end_array();
    }
    put(w, "digest", l.digest);
    w.end_object();
  }
  w.end_object();
  w.key("docker");
  w.begin_object();
  w.key("daemon_json");
  if (const auto& d = b.daemon_json) {
    w.begin_object();
    put(w, "path", d->path);
    w.key("present");
    write_bool(w, d->present);
    w.key("content");
    w.value(d->content);
    w.key("key_lines");
    w.begin_object();
    for (const auto& [k, line] : d->key_lines) {
      w.key(k);
      w.number(line);
    }
    w.end_object();
    put(w, "error", d->error);
    w.end_object();
  } else {
    w.raw("null");
  }
  w.key("dockerd");
  if (b.dockerd_argv) {
    w.begin_object();
    w.key("argv");
    write_strings(w, *b.dockerd_argv);
    w.end_object();
  } else {
    w.raw("null");
  }
  w.end_object();
  w.key("sysctls");
  w.begin_object();
  for (const auto& [k, v] : b.sysctls) {
    w.key(k);
    if (v) w.string(*v);
    else w.raw("null");
  }
  w.end_object();
  w.key("containers");
  w.begin_object();
  for (const auto& [k, c] : b.containers) {
    w.key(k);
    write_evidence(w, container_evidence(c));
  }
  w.end_object();
  w.end_object();
  out += '\n';
  return out;
}

namespace {

// The document, its every member the conversion reads checked with its type.
Result<Json> checked_document(std::string_view text, const std::string& path) {
  auto j = parse_json_text(text, path);
  if (!j) return j.error();
  auto fail = [&](const std::string& ptr, const std::string& what) {
    return input_error(fmt::format("{}: {}: {}", path, ptr, what));
  };
  if (!j->is_object()) return fail("", "expected an object (a baseline from dockfw-audit baseline save)");
  if (string_member(*j, "kind") != "dockfw-audit-baseline")
    return fail("/kind", "not a dockfw-audit baseline (expected \"dockfw-audit-baseline\")");
  auto v = j->find("schema_version");
  if (v == j->end() || !v->is_number_integer()) return fail("/schema_version", "expected an integer");
  if (v->get<int>() > kBaselineSchemaVersion)
    return fail("/schema_version", fmt::format("baseline schema {} is newer than this dockfw-audit supports ({}); "
                                               "upgrade dockfw-audit or save the baseline again",
                                               v->get<int>(), kBaselineSchemaVersion));
  if (v->get<int>() < 1) return fail("/schema_version", fmt::format("invalid version {}", v->get<int>()));
  const std::pair<const char*, Json::value_t> members[] = {
      {"source_prefixes", Json::value_t::object}, {"source_classes", Json::value_t::array},
      {"exposure", Json::value_t::array},         {"findings", Json::value_t::array},
      {"rules", Json::value_t::object},           {"docker", Json::value_t::object},
      {"sysctls", Json::value_t::object},         {"containers", Json::value_t::object},
      {"collectors", Json::value_t::object}};
  for (const auto& [name, type] : members) {
    auto it = j->find(name);
    if (it == j->end()) return fail(std::string("/") + name, "missing");
    if (it->type() != type)
      return fail(std::string("/") + name, fmt::format("expected {}, found {}", type == Json::value_t::array ? "an array" : "an object",
                                                       it->type_name()));
  }
  for (const auto& [fam, ps] : (*j)["source_prefixes"].items())
    if (fam != "4" && fam != "6") return fail("/source_prefixes/" + fam, "expected a family, \"4\" or \"6\"");
  const Json& cls = (*j)["source_classes"];
  for (std::size_t i = 0; i < cls.size(); ++i)
    if (!cls[i].is_object() || !cls[i].contains("label") || !cls[i]["label"].is_string())
      return fail(fmt::format("/source_classes/{}", i), "expected an object with a string \"label\"");
  const std::size_t n_classes = cls.size();
  // Schema 2: the sets of sources cells name.
  auto indexes = [&](const Json& v, const std::string& p) -> std::optional<Result<Json>> {
    if (!v.is_array()) return fail(p, "expected an array of indexes of /source_classes");
    for (const auto& x : v)
      if (!x.is_number_unsigned() || x.get<std::size_t>() >= n_classes)
        return fail(p, fmt::format("expected indexes of /source_classes (0-{})", n_classes - 1));
    return std::nullopt;
  };
  std::size_t n_sets = 0;
  if (auto ss = j->find("source_sets"); ss != j->end()) {
    if (!ss->is_array()) return fail("/source_sets", "expected an array");
    for (std::size_t i = 0; i < ss->size(); ++i)
      if (auto e = indexes((*ss)[i], fmt::format("/source_sets/{}", i))) return std::move(*e);
    n_sets = ss->size();
  }
  const Json& ex = (*j)["exposure"];
  for (std::size_t i = 0; i < ex.size(); ++i) {
    std::string p = fmt::format("/exposure/{}", i);
    if (!ex[i].is_object() || !ex[i].contains("what") || !ex[i]["what"].is_string() || !ex[i].contains("cells") ||
        !ex[i]["cells"].is_array())
      return fail(p, "expected an object with \"what\" and \"cells\"");
    for (std::size_t k = 0; k < ex[i]["cells"].size(); ++k) {
      const Json& c = ex[i]["cells"][k];
      std::string cp = fmt::format("{}/cells/{}", p, k);
      for (const char* m : {"destination", "outcome"})
        if (!c.is_object() || !c.contains(m) || !c[m].is_string())
          return fail(cp, fmt::format("expected a string \"{}\"", m));
      if (auto st = c.find("source_set"); st != c.end()) {
        if (!st->is_number_unsigned() || st->get<std::size_t>() >= n_sets)
          return fail(cp + "/source_set", n_sets ? fmt::format("expected an index of /source_sets (0-{})", n_sets - 1)
                                                 : std::string("expected an index of /source_sets, which is missing or empty"));
      } else {
        if (!c.contains("sources")) return fail(cp, "expected \"source_set\" (or, schema 1, an array \"sources\")");
        if (auto e = indexes(c["sources"], cp + "/sources")) return std::move(*e);
      }
    }
  }
  const Json& fs = (*j)["findings"];
  for (std::size_t i = 0; i < fs.size(); ++i)
    for (const char* m : {"rule_id", "fingerprint", "message"})
      if (!fs[i].is_object() || !fs[i].contains(m) || !fs[i][m].is_string())
        return fail(fmt::format("/findings/{}", i), fmt::format("expected a string \"{}\"", m));
  for (const auto& [k, r] : (*j)["rules"].items())
    if (!r.is_object() || !r.contains("digest") ||
        !((r.contains("rules") && r["rules"].is_array()) || (r.contains("elements") && r["elements"].is_array())))
      return fail("/rules/" + k, "expected {header, rules[] or elements[], digest}");
  // Every member the comparison reads, with its type (model/shape.hpp).
  using namespace shape;
  static const Shape whole = object({
      req("collectors", map(str())),
      req("source_prefixes", map(array(str()))),
      req("source_classes", array(object({req("label", str()), opt("representative", str()), opt("iif", str())}))),
      req("exposure", array(object({opt("kind", str()), req("what", str()), opt("family", uint(6)),
                                    req("cells", array(object({req("destination", str()), req("outcome", str()),
                                                               opt("decided_by", str()), opt("source_set", uint()),
                                                               opt("sources", array(uint()))})))}))),
      opt("source_sets", array(array(uint()))),
      req("findings", array(object({req("rule_id", str()), req("fingerprint", str()), opt("identity", str()),
                                    req("message", str())}))),
      req("rules", map(object({opt("header", str()), opt("rules", array(object({opt("text", str()), opt("id", str())}))),
                               opt("elements", array(str())), req("digest", any())}))),
      req("docker", object({req("daemon_json", nullable(object({opt("path", str()), opt("present", boolean()),
                                                                 opt("content", any()), opt("key_lines", map(uint())),
                                                                 opt("error", str())}))),
                            req("dockerd", nullable(object({opt("argv", array(str()))})))})),
      req("sysctls", map(nullable(str()))),
      req("containers", map(object({req("image", str()), req("running", boolean()), req("ports", array(str())),
                                    req("addresses", array(str()))}))),
  });
  if (auto e = check_shape(whole, *j, "")) return input_error(fmt::format("{}: {}", path, *e));
  return std::move(*j);
}

// A set's elements as schema 3 has them from schemas 1 and 2, which kept
// them as rules[{text, id}], the text the element's JSON (with its expires,
// which changes on its own): so that an upgrade does not make every set drift.
std::vector<std::string> upgraded_elements(const Json& rules) {
  std::vector<std::string> texts;
  for (const auto& x : rules) {
    std::string t = x.value("text", "");
    auto el = parse_json_text(t, "element");  // nesting and size bounded as any input
    texts.push_back(el ? render_nft_element(*el) : t);
  }
  return texts;
}

// "nft FAMILY TABLE set NAME" or map (names have no spaces).
bool names_set(const std::string& key) {
  std::istringstream words(key);
  std::string w[4];
  words >> w[0] >> w[1] >> w[2] >> w[3];
  return w[0] == "nft" && (w[3] == "set" || w[3] == "map");
}

// The strings are moved out of the document (a baseline's 100,000 set
// elements are neither copied nor freed twice).
std::vector<std::string> strings_of(Json& a) {
  std::vector<std::string> v;
  v.reserve(a.size());
  for (auto& x : a) v.push_back(std::move(x.get_ref<std::string&>()));
  return v;
}

// The checked document as a Baseline (each member read here has had its
// type checked); its strings may be moved out.
Baseline from_document(Json& j) {
  Baseline b;
  b.schema_version = j["schema_version"].get<int>();
  b.snapshot_collected_at = string_member(j, "snapshot_collected_at");
  for (const auto& [k, v] : j["collectors"].items()) b.collectors[k] = v.get<std::string>();
  for (auto& [fam, ps] : j["source_prefixes"].items()) b.source_prefixes[fam == "6" ? 6 : 4] = strings_of(ps);
  for (const auto& c : j["source_classes"]) {
    Baseline::Class k{c["label"].get<std::string>(), string_member(c, "representative"), std::nullopt};
    if (c.contains("iif")) k.iif = c["iif"].get<std::string>();
    b.source_classes.push_back(std::move(k));
  }
  if (auto ss = j.find("source_sets"); ss != j.end())
    for (const auto& set : *ss) {
      std::vector<std::uint32_t> v;
      for (const auto& i : set) v.push_back(i.get<std::uint32_t>());
      b.source_sets.push_back(std::move(v));
    }
  SourceSetIndex schema_1_sets(b);
  for (const auto& en : j["exposure"]) {
    Baseline::Entry e{string_member(en, "kind"), en["what"].get<std::string>(), en.value("family", 0), {}};
    for (const auto& c : en["cells"]) {
      Baseline::Cell cell{c["destination"].get<std::string>(), c["outcome"].get<std::string>(),
                          string_member(c, "decided_by"), 0};
      if (auto st = c.find("source_set"); st != c.end()) {
        cell.source_set = st->get<std::uint32_t>();
      } else {
        std::vector<std::uint32_t> v;
        for (const auto& i : c["sources"]) v.push_back(i.get<std::uint32_t>());
        cell.source_set = schema_1_sets.of(std::move(v));  // each cell's own list
      }
      e.cells.push_back(std::move(cell));
    }
    b.exposure.push_back(std::move(e));
  }
  for (const auto& f : j["findings"])
    b.findings.push_back({f["rule_id"].get<std::string>(), f["fingerprint"].get<std::string>(), string_member(f, "identity"),
                          f["message"].get<std::string>()});
  for (auto& [k, r] : j["rules"].items()) {
    Baseline::RuleList l;
    l.header = string_member(r, "header");
    if (auto el = r.find("elements"); el != r.end()) {
      l.is_set = true;
      l.elements = strings_of(*el);
    } else if (b.schema_version <= 2 && names_set(k)) {
      l.is_set = true;
      l.elements = upgraded_elements(r["rules"]);
    } else {
      for (const auto& x : r["rules"]) l.rules.push_back({string_member(x, "text"), string_member(x, "id")});
    }
    // As written, or (a schema before a list's form changed, a digest not a
    // string) as this version makes it from the list.
    const Json& d = r["digest"];
    l.digest = d.is_string() && !(b.schema_version <= 2 && l.is_set) ? d.get<std::string>() : digest_of(l);
    b.rules[k] = std::move(l);
  }
  Json& docker = j["docker"];
  if (const Json& dj = docker["daemon_json"]; dj.is_object()) {
    Baseline::DaemonJson d;
    d.path = string_member(dj, "path");
    d.present = dj.value("present", false);
    if (dj.contains("content")) d.content = dj["content"];
    if (auto kl = dj.find("key_lines"); kl != dj.end())
      for (const auto& [k, v] : kl->items()) d.key_lines[k] = v.get<long long>();
    d.error = string_member(dj, "error");
    b.daemon_json = std::move(d);
  }
  if (Json& dd = docker["dockerd"]; dd.is_object() && dd.contains("argv")) b.dockerd_argv = strings_of(dd["argv"]);
  for (const auto& [k, v] : j["sysctls"].items())
    b.sysctls[k] = v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
  for (auto& [k, c] : j["containers"].items())
    b.containers[k] = {c["image"].get<std::string>(), c["running"].get<bool>(), strings_of(c["ports"]),
                       strings_of(c["addresses"])};
  return b;
}

}  // namespace

Result<Baseline> parse_baseline(std::string_view text, const std::string& path) {
  auto j = checked_document(text, path);
  if (!j) return j.error();
  return from_document(*j);
}

Result<Baseline> load_baseline(const std::string& path) {
  auto text = read_input_file(path, max_document_bytes());
  if (!text) return text.error();
  return parse_baseline(*text, path);
}

}  // namespace dfa

// ---- comparison -------------------------------------------------------------

namespace dfa {
namespace {

// One side of a comparison: its exposure cells, and how to name the class a
// source of the other side belongs to. Views into the Baseline it reads.
struct Side {
  struct Cell {
    std::string_view outcome, decided_by;
  };
  using Group = std::unordered_map<std::string_view, Cell>;  // source class label -> its cell
  // "what \x1f destination" -> its cells as the baseline has them, made into
  // a Group (by label) only when compared: a drift where little changed
  // compares most groups as they are (same_as).
  struct Written {
    std::vector<const Baseline::Cell*> cells;
    mutable std::optional<Group> group;
  };
  const Baseline& b;
  std::map<std::string, Written, std::less<>> cells;
  std::vector<std::string_view> label_of;  // source class index -> label
  std::map<std::string_view, std::pair<std::string_view, std::string_view>> reps;  // label -> (address, iif), remote classes
  std::map<int, SourcePartition> parts;

  const std::vector<std::uint32_t>& sources_of(const Baseline::Cell& c) const { return b.source_sets.at(c.source_set); }

  explicit Side(const Baseline& base) : b(base) {
    for (const auto& c : b.source_classes) {
      label_of.push_back(c.label);
      if (c.iif) reps[c.label] = {c.representative, *c.iif};
    }
    for (const auto& en : b.exposure)
      for (const auto& c : en.cells) cells[en.what + '\x1f' + c.destination].cells.push_back(&c);
    for (const auto& [fam, ps] : b.source_prefixes)
      for (const auto& p : ps)
        if (auto pr = Prefix::parse(p)) parts[fam].prefixes.push_back(*pr);
  }
  const Group& group(const Written& w) const {
    if (!w.group) {
      Group g;
      for (const Baseline::Cell* c : w.cells) {
        Cell cell{c->outcome, c->decided_by};
        for (auto i : sources_of(*c)) g[label_of.at(i)] = cell;
      }
      w.group = std::move(g);
    }
    return *w.group;
  }
  const Group* group(std::string_view what_dst) const {
    auto it = cells.find(what_dst);
    return it == cells.end() ? nullptr : &group(it->second);
  }
  // Whether the other side's group of this key says, source by source, what
  // `w` says: the same cells, where both sides have the same classes by
  // label (same_classes, found once by the caller); then neither side has a
  // change there.
  bool same_as(const Written& w, const Side& other, std::string_view what_dst, bool same_classes) const {
    if (!same_classes) return false;
    auto it = other.cells.find(what_dst);
    if (it == other.cells.end() || it->second.cells.size() != w.cells.size()) return false;
    for (std::size_t i = 0; i < w.cells.size(); ++i) {
      const Baseline::Cell &a = *w.cells[i], &o = *it->second.cells[i];
      if (a.outcome != o.outcome || a.decided_by != o.decided_by || sources_of(a) != other.sources_of(o)) return false;
    }
    return true;
  }
  // The cell of this side's group g for a source class of `other`: the same
  // class by label, or the class of this side's partition that the other's
  // representative falls in.
  const Cell* find(const Group* g, std::string_view src, const Side& other) const {
    if (!g) return nullptr;
    if (auto it = g->find(src); it != g->end()) return &it->second;
    auto r = other.reps.find(src);
    if (r == other.reps.end()) return nullptr;
    auto addr = IpAddr::parse(r->second.first);
    if (!addr) return nullptr;
    auto part = parts.find(addr->family);
    SourcePartition none;
    std::string label = (part == parts.end() ? none : part->second).label_of(*addr, std::string(r->second.second));
    auto it = g->find(label);
    return it == g->end() ? nullptr : &it->second;
  }
  // Read completely, or absent (nothing there): its part can be compared.
  // Denied or failed: unknown, so it is not (DFA103 says so instead).
  bool ok(const std::string& collector) const {
    auto it = b.collectors.find(collector);
    return it != b.collectors.end() && (it->second == "ok" || it->second == "absent");
  }
};
std::string state_word(const std::string& outcome) {
  if (outcome == "delivered") return "open";
  if (outcome == "dropped") return "closed";
  if (outcome.empty()) return "not there";
  return outcome;
}

// One change of one entry: every destination it happened at, with the
// sources at each (a port on four host addresses is one finding, not four).
struct Group {
  std::map<std::string, std::vector<std::string>> sources;  // destination -> sources
  std::set<std::string> before, decided_by;
};

// "203.0.113.1:8080/tcp, 198.51.100.1:8080/tcp from A; B" when every
// destination has the same sources, else "D1 from A; D2 from B".
std::string where_from(Group& g) {
  // Sorted, anyone first: the same sources read the same at every destination.
  for (auto& [dst, srcs] : g.sources)
    std::sort(srcs.begin(), srcs.end(), [](const std::string& a, const std::string& b) {
      bool ia = a.rfind("any other", 0) == 0, ib = b.rfind("any other", 0) == 0;
      return ia != ib ? ia : a < b;
    });
  const auto& first = g.sources.begin()->second;
  bool same = std::all_of(g.sources.begin(), g.sources.end(), [&](const auto& kv) { return kv.second == first; });
  std::vector<std::string> dsts, parts;
  for (const auto& [dst, srcs] : g.sources) {
    dsts.push_back(dst);
    parts.push_back(fmt::format("{} from {}", dst, fmt::join(srcs, "; ")));
  }
  if (same) return fmt::format("{} from {}", fmt::join(dsts, ", "), fmt::join(first, "; "));
  return fmt::format("{}", fmt::join(parts, "; "));
}

void exposure_changes(const Side& b, const Side& n, std::vector<Finding>& out) {
  // (rule, what) -> group
  std::map<std::pair<std::string, std::string>, Group> groups;
  auto split = [](std::string_view wd) {
    auto a = wd.find('\x1f');
    return std::pair{std::string(wd.substr(0, a)), std::string(wd.substr(a + 1))};
  };
  const bool same_classes = b.label_of == n.label_of;
  for (const auto& [wd, written] : n.cells) {
    if (n.same_as(written, b, wd, same_classes)) continue;
    const Side::Group* there = b.group(wd);
    for (const auto& [src, cell] : n.group(written)) {
      const Side::Cell* was = b.find(there, src, n);
      std::string_view before = was ? was->outcome : "";
      const char* rule = nullptr;
      if (cell.outcome == "delivered" && before != "delivered") rule = "DFA101";
      else if (cell.outcome == "uncertain" && before != "uncertain") rule = "DFA103";
      if (!rule) continue;
      auto [what, dst] = split(wd);
      Group& g = groups[{rule, what}];
      g.sources[dst].emplace_back(src);
      g.before.insert(state_word(std::string(before)));
      if (!cell.decided_by.empty()) g.decided_by.emplace(cell.decided_by);
    }
  }
  for (const auto& [wd, written] : b.cells) {
    if (b.same_as(written, n, wd, same_classes)) continue;
    const Side::Group* here = n.group(wd);
    for (const auto& [src, cell] : b.group(written)) {
      if (cell.outcome != "delivered") continue;
      const Side::Cell* is = n.find(here, src, b);
      std::string_view after = is ? is->outcome : "";
      if (after == "delivered" || after == "uncertain") continue;  // uncertain: DFA103 above
      auto [what, dst] = split(wd);
      Group& g = groups[{"DFA102", what}];
      g.sources[dst].emplace_back(src);
      g.before.insert(state_word(std::string(after)));  // for closed ones: what it is now
      if (is && !is->decided_by.empty()) g.decided_by.emplace(is->decided_by);
    }
  }
  for (auto& [key, g] : groups) {
    auto& [rule, what] = key;
    Finding f;
    f.rule_id = rule;
    std::string at = where_from(g);
    std::string states = fmt::format("{}", fmt::join(g.before, ", "));
    if (rule == "DFA101")
      f.message = fmt::format("{} is now open at {} (at the baseline: {})", what, at, states);
    else if (rule == "DFA103")
      f.message = fmt::format("{} is now uncertain at {} (at the baseline: {})", what, at, states);
    else
      f.message = fmt::format("{} was open at {} at the baseline and is now {}", what, at, states);
    if (!g.decided_by.empty()) f.message += fmt::format("; decided by {}", fmt::join(g.decided_by, "; "));
    f.identity = what;
    f.location.logical = "exposure:" + what;
    Evidence::Objects dsts;
    for (const auto& [dst, srcs] : g.sources) dsts.push_back({{"destination", dst}, {"sources", srcs}});
    f.evidence = {{"what", what}, {"destinations", std::move(dsts)}};
    out.push_back(std::move(f));
  }
}

void rule_changes(const Side& b, const Side& n, std::vector<Finding>& out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : b.b.rules) keys.insert(k);
  for (const auto& [k, v] : n.b.rules) keys.insert(k);
  for (const auto& k : keys) {
    std::string collector = k.rfind("nft ", 0) == 0 ? "nftables" : "iptables_legacy";
    if (!b.ok(collector) || !n.ok(collector)) continue;  // DFA103 says the collector changed
    auto wi = b.b.rules.find(k), ii = n.b.rules.find(k);
    const Baseline::RuleList* was = wi == b.b.rules.end() ? nullptr : &wi->second;
    const Baseline::RuleList* is = ii == n.b.rules.end() ? nullptr : &ii->second;
    if (was && is && was->digest == is->digest) continue;
    // An empty chain that accepts everything does nothing: its coming or
    // going (a legacy table instantiated with its builtin chains) is noise.
    const Baseline::RuleList* only = was ? (is ? nullptr : was) : is;
    if (only && items_of(*only) == 0) {
      const std::string& h = only->header;
      if (h.empty() || h == "policy ACCEPT" || h.ends_with("policy accept")) continue;
    }
    std::map<std::string, std::pair<int, std::string>> count;  // id -> (now - base, text)
    auto tally = [&](const Baseline::RuleList& l, int by) {
      for_each_item(l, [&](const std::string& id, const std::string& text) {
        auto& c = count[id];
        c.first += by;
        c.second = text;
      });
    };
    if (was) tally(*was, -1);
    if (is) tally(*is, 1);
    const char* item = (was ? was : is)->is_set ? "element" : "rule";
    std::vector<std::string> added, removed;
    for (const auto& [id, c] : count) {
      for (int i = 0; i < c.first; ++i) added.push_back(c.second);
      for (int i = 0; i < -c.first; ++i) removed.push_back(c.second);
    }
    Finding f;
    f.rule_id = "DFA104";
    f.identity = k;
    f.location.logical = k;
    std::string head = was ? was->header : "", head_now = is ? is->header : "";
    std::vector<std::string> parts;
    if (!was) parts.push_back(fmt::format("appeared{}", head_now.empty() ? "" : " (" + head_now + ")"));
    else if (!is) parts.push_back("is gone");
    else if (head != head_now) parts.push_back(fmt::format("{} -> {}", head.empty() ? "(no hook)" : head, head_now.empty() ? "(no hook)" : head_now));
    if (!added.empty()) parts.push_back(fmt::format("{} {}{} added", added.size(), item, added.size() == 1 ? "" : "s"));
    if (!removed.empty()) parts.push_back(fmt::format("{} {}{} removed", removed.size(), item, removed.size() == 1 ? "" : "s"));
    if (was && is && added.empty() && removed.empty() && head == head_now) parts.push_back(fmt::format("{}s reordered", item));
    f.message = fmt::format("{}: {}", k, fmt::join(parts, ", "));
    auto show = [&](const std::vector<std::string>& list, char sign) {
      std::size_t i = 0;
      for (const auto& t : list) {
        if (i++ == 3) {
          f.message += fmt::format("; (and {} more)", list.size() - 3);
          break;
        }
        f.message += fmt::format("; {} {}", sign, t);
      }
    };
    show(added, '+');
    show(removed, '-');
    f.evidence = {{"table_chain", k}, {"added", added}, {"removed", removed}, {"header_before", head}, {"header_now", head_now}};
    out.push_back(std::move(f));
  }
}

std::string short_json(const Json& j) { return j.is_null() ? "(unset)" : j.dump(); }
Json json_of(const std::optional<std::string>& v) { return v ? Json(*v) : Json(); }
Evidence::Value value_of(const std::optional<std::string>& v) { return v ? Evidence::Value(*v) : Evidence::Value(); }
Evidence::Value value_of(const std::optional<std::vector<std::string>>& v) {
  return v ? Evidence::Value(*v) : Evidence::Value();
}
// A value of daemon.json as the evidence holds it: null when unset.
Evidence::Value value_of(const Json& j) {
  return j.is_null() ? Evidence::Value() : Evidence::Value(Evidence::Document{j.dump()});
}

void docker_changes(const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("docker_config") || !n.ok("docker_config")) return;
  auto add = [&](const std::string& identity, const std::string& msg, const std::string& file, long long line, Evidence ev) {
    Finding f;
    f.rule_id = "DFA105";
    f.identity = identity;
    f.message = msg;
    f.location.file = file;
    f.location.line = static_cast<int>(line);
    if (file.empty()) f.location.logical = "dockerd";
    f.evidence = std::move(ev);
    out.push_back(std::move(f));
  };
  if (b.b.daemon_json && n.b.daemon_json) {
    const Baseline::DaemonJson &was = *b.b.daemon_json, &is = *n.b.daemon_json;
    const std::string& path = is.path;
    if (was.error != is.error)
      add("daemon.json error", is.error.empty() ? fmt::format("{} parses again (it failed: {})", path, was.error)
                                                : fmt::format("{} no longer parses: {}", path, is.error),
          path, 0, {{"before", was.error}, {"now", is.error}});
    if (was.present != is.present)
      add("daemon.json present", fmt::format("{} {}", path, is.present ? "appeared" : "is gone"), path, 0, {});
    const Json& cw = was.content.is_object() ? was.content : Json::object();
    const Json& ci = is.content.is_object() ? is.content : Json::object();
    std::set<std::string> keys;
    for (const auto& [k, v] : cw.items()) keys.insert(k);
    for (const auto& [k, v] : ci.items()) keys.insert(k);
    for (const auto& k : keys) {
      Json a = cw.contains(k) ? cw[k] : Json(), c = ci.contains(k) ? ci[k] : Json();
      if (a == c) continue;
      // key_lines is optional in a baseline (its shape): a missing one is line 0.
      auto line_of = [&k](const Baseline::DaemonJson& side) {
        auto it = side.key_lines.find(k);
        return it == side.key_lines.end() ? 0LL : it->second;
      };
      long long line = ci.contains(k) ? line_of(is) : line_of(was);
      add("daemon.json " + k,
          fmt::format("{} \"{}\": {} -> {} (dockerd applies it when it next starts)", path, k, short_json(a), short_json(c)),
          path, line, {{"key", k}, {"before", value_of(a)}, {"now", value_of(c)}});
    }
  }
  const auto &aw = b.b.dockerd_argv, &ai = n.b.dockerd_argv;
  if (aw != ai) {
    auto words = [](const std::optional<std::vector<std::string>>& a) {
      return a ? fmt::format("{}", fmt::join(*a, " ")) : std::string("(not running)");
    };
    add("dockerd argv", fmt::format("dockerd: {} -> {}", words(aw), words(ai)), "", 0,
        {{"before", value_of(aw)}, {"now", value_of(ai)}});
  }
}

void sysctl_changes(const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("host") || !n.ok("host")) return;
  for (const auto& [k, v] : n.b.sysctls) {
    auto w = b.b.sysctls.find(k);
    if (w == b.b.sysctls.end()) continue;  // interfaces come and go
    if (w->second == v) continue;
    Finding f;
    f.rule_id = "DFA106";
    f.identity = k;
    std::string dotted = k;
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    f.location.logical = "sysctl:" + dotted;
    Json was = json_of(w->second), now = json_of(v);
    f.message = fmt::format("{}: {} -> {}", dotted, short_json(was), short_json(now));
    f.evidence = {{"sysctl", dotted}, {"before", value_of(w->second)}, {"now", value_of(v)}};
    out.push_back(std::move(f));
  }
}

void container_changes(const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("docker_api") || !n.ok("docker_api")) return;
  std::set<std::string> names;
  for (const auto& [k, v] : b.b.containers) names.insert(k);
  for (const auto& [k, v] : n.b.containers) names.insert(k);
  auto list = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
  };
  for (const auto& name : names) {
    auto wi = b.b.containers.find(name), ii = n.b.containers.find(name);
    const Baseline::Container* was = wi == b.b.containers.end() ? nullptr : &wi->second;
    const Baseline::Container* is = ii == n.b.containers.end() ? nullptr : &ii->second;
    std::vector<std::string> parts;
    if (!was)
      parts.push_back(fmt::format("appeared ({}, image {}, publishes {})", is->running ? "running" : "stopped", is->image,
                                  list(is->ports)));
    else if (!is)
      parts.push_back("is gone");
    else {
      if (was->running != is->running) parts.push_back(is->running ? "started" : "stopped");
      if (was->image != is->image) parts.push_back(fmt::format("image {} -> {}", was->image, is->image));
      if (was->ports != is->ports) parts.push_back(fmt::format("published {} -> {}", list(was->ports), list(is->ports)));
      if (was->addresses != is->addresses)
        parts.push_back(fmt::format("addresses {} -> {}", list(was->addresses), list(is->addresses)));
    }
    if (parts.empty()) continue;
    Finding f;
    f.rule_id = "DFA107";
    f.identity = name;
    f.location.logical = "container:" + name;
    f.message = fmt::format("container {} {}", name, fmt::join(parts, "; "));
    f.evidence = {{"container", name},
                  {"before", was ? Evidence::Value(container_evidence(*was)) : Evidence::Value()},
                  {"now", is ? Evidence::Value(container_evidence(*is)) : Evidence::Value()}};
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<Finding> compare_baselines(const Baseline& base, const Baseline& now, const std::vector<Finding>& now_findings) {
  std::vector<Finding> out;
  Side b(base), n(now);
  for (const auto& [name, st] : now.collectors) {
    auto it = base.collectors.find(name);
    std::string was = it == base.collectors.end() ? "" : it->second;
    if (was == st || (st != "denied" && st != "error" && was != "denied" && was != "error")) continue;
    Finding f;
    f.rule_id = "DFA103";
    f.identity = "collector|" + name;
    f.location.logical = "collector:" + name;
    f.message = fmt::format("collector {} was {} at the baseline and is {} now; what it reads is {} compared", name,
                            was.empty() ? "missing" : was, st, st == "ok" ? "again" : "not");
    out.push_back(std::move(f));
  }
  exposure_changes(b, n, out);
  rule_changes(b, n, out);
  docker_changes(b, n, out);
  sysctl_changes(b, n, out);
  container_changes(b, n, out);
  std::set<std::string> had, has;
  for (const auto& f : base.findings) had.insert(f.fingerprint);
  for (const auto& f : now_findings) {
    has.insert(fingerprint(f));
    if (had.count(fingerprint(f))) continue;
    Finding g = f;
    g.message = "new since the baseline: " + f.message;
    out.push_back(std::move(g));
  }
  for (const auto& f : base.findings) {
    if (has.count(f.fingerprint)) continue;
    Finding g;
    g.rule_id = "DFA108";
    g.identity = f.fingerprint;
    g.location.logical = "finding:" + f.rule_id;
    g.message = fmt::format("no longer found: {} {}", f.rule_id, f.message);
    g.evidence = {{"rule_id", f.rule_id}, {"fingerprint", f.fingerprint}};
    out.push_back(std::move(g));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& c) {
    return std::tie(a.rule_id, a.identity) < std::tie(c.rule_id, c.identity);
  });
  return out;
}

}  // namespace dfa
