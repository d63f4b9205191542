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

namespace dfa {
namespace {

// The expressions of an nft rule without what changes on its own (counter
// values), as the identity of the rule.
Json without_counters(const Json& j) {
  if (j.is_object()) {
    if (j.size() == 1 && j.contains("counter")) return Json{{"counter", nullptr}};
    Json o = Json::object();
    for (const auto& [k, v] : j.items())
      if (k != "counters") o[k] = without_counters(v);
    return o;
  }
  if (j.is_array()) {
    Json a = Json::array();
    for (const auto& v : j) a.push_back(without_counters(v));
    return a;
  }
  return j;
}

Json rule_entry(std::string text, std::string_view identity) {
  // Built member by member: an initializer list copies each value twice.
  std::string id = stable_hash(identity);
  Json::object_t e;
  e.reserve(2);
  e.emplace_back("text", std::move(text));
  e.emplace_back("id", std::move(id));
  return e;
}

// A chain's rules (by id) or a set's elements (by text), one after another:
// what they are, not their order, is what rule_changes counts. f(id, text).
template <class F>
void for_each_item(const Json& e, F&& f) {
  if (auto el = e.find("elements"); el != e.end())
    for (const auto& t : *el) f(t.get_ref<const std::string&>(), t.get_ref<const std::string&>());
  else if (auto r = e.find("rules"); r != e.end())
    for (const auto& x : *r) f(x.value("id", ""), x.value("text", ""));
}
std::size_t items_of(const Json& e) {
  if (auto el = e.find("elements"); el != e.end()) return el->size();
  auto r = e.find("rules");
  return r == e.end() ? 0 : r->size();
}

// The digest of a rules entry: its header and its items' identities in order.
std::string digest_of(const Json& e) {
  std::string all = e.value("header", "");
  for_each_item(e, [&](const std::string& id, const std::string&) {
    all += '\n';
    all += id;
  });
  return stable_hash(all);
}

// "nft FAMILY TABLE chain NAME" / "iptables-legacy ipv4 TABLE chain NAME"
// -> {header, rules[{text, id}], digest}; "nft FAMILY TABLE set NAME" (or
// map) -> {header, elements[text], digest}
Json rules_of(const Snapshot& s) {
  std::map<std::string, Json> out;
  auto entry = [&](const std::string& key) -> Json& {
    Json& e = out[key];
    // With its digest's place from the start: a member added later makes
    // the object grow, and its members be copied.
    if (e.is_null()) e = {{"header", ""}, {"rules", Json::array()}, {"digest", ""}};
    return e;
  };
  if (const Json* nft = s.section("nftables")) {
    for (const auto& o : nft->at("ruleset")) {
      if (auto c = o.find("chain"); c != o.end()) {
        std::string key = fmt::format("nft {} {} chain {}", c->value("family", ""), c->value("table", ""), c->value("name", ""));
        Json& e = entry(key);
        if (c->contains("hook"))
          e["header"] = fmt::format("type {} hook {} priority {} policy {}", c->value("type", ""), c->value("hook", ""),
                                    c->value("prio", 0), c->value("policy", "accept"));
      } else if (auto r = o.find("rule"); r != o.end()) {
        std::string key = fmt::format("nft {} {} chain {}", r->value("family", ""), r->value("table", ""), r->value("chain", ""));
        Json id = without_counters(r->value("expr", Json::array()));
        std::string comment = r->value("comment", "");
        std::string text = render_nft_rule(*r) + (comment.empty() ? "" : " comment \"" + comment + "\"");
        entry(key)["rules"].push_back(rule_entry(text, id.dump() + comment));
      } else {
        for (const char* kind : {"set", "map"}) {
          auto st = o.find(kind);
          if (st == o.end()) continue;
          std::string key = fmt::format("nft {} {} {} {}", st->value("family", ""), st->value("table", ""), kind,
                                        st->value("name", ""));
          // Elements as text, each its own identity: a blocklist of 100,000
          // is 100,000 short strings, not objects with a hash each.
          const Json& elems = array_member(*st, "elem");
          Json::array_t texts;
          texts.reserve(elems.size());
          for (const auto& el : elems) texts.emplace_back(render_nft_element(el));
          Json::object_t e;
          e.reserve(3);
          e.emplace_back("header", fmt::format("type {}", st->contains("type") ? (*st)["type"].dump() : ""));
          e.emplace_back("elements", std::move(texts));
          e.emplace_back("digest", "");
          out[key] = std::move(e);
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
          Json& e = entry(key);
          if (c.contains("policy") && c["policy"].is_string()) e["header"] = "policy " + c["policy"].get<std::string>();
          for (const auto& r : array_member(c, "rules")) {
            std::string text = r.value("text", "");
            e["rules"].push_back(rule_entry(text, text));
          }
        }
    }
  }
  // Appended in the map's order, not inserted by key: keys are unique, and
  // an ordered object finds a key by walking all of them (a host with 3,000
  // chains and sets would compare 4.5 million keys).
  Json::object_t j;
  j.reserve(out.size());
  for (auto& [k, e] : out) {
    e["digest"] = digest_of(e);
    j.emplace_back(k, std::move(e));
  }
  return Json(std::move(j));
}

// The sysctls that change reachability; per-interface entries of veth
// devices come and go with containers and are left out.
Json sysctls_of(const Snapshot& s) {
  Json out = Json::object();
  const Json* host = s.section("host");
  if (!host || !host->contains("sysctls")) return out;
  for (const auto& [k, v] : (*host)["sysctls"].items()) {
    if (k.find("/veth") != std::string::npos) continue;
    out[k] = v;
  }
  return out;
}

Json docker_of(const Snapshot& s) {
  Json out = {{"daemon_json", nullptr}, {"dockerd", nullptr}};
  if (!s.doc.contains("docker_config") || !s.doc["docker_config"].is_object()) return out;
  const Json& dc = s.doc["docker_config"];
  if (dc.contains("daemon_json") && dc["daemon_json"].is_object()) {
    const Json& dj = dc["daemon_json"];
    out["daemon_json"] = {{"path", dj.value("path", "")},
                          {"present", dj.value("present", false)},
                          {"content", dj.contains("content") ? dj["content"] : Json()},
                          {"key_lines", dj.contains("key_lines") ? dj["key_lines"] : Json::object()},
                          {"error", dj.value("error", "")}};
  }
  if (s.daemon && s.daemon->dockerd) out["dockerd"] = {{"argv", s.daemon->dockerd->argv}};
  return out;
}

Json containers_of(const Snapshot& s) {
  Json out = Json::object();
  const Json* api = s.section("docker_api");
  if (!api) return out;
  for (const auto& c : api->at("containers")) {
    Json ports = Json::array(), addrs = Json::array();
    for (const auto& b : array_member(c, "ports")) {
      std::string hip = b.value("host_ip", "");
      ports.push_back(fmt::format("{}:{}->{}/{}", hip.find(':') != std::string::npos ? "[" + hip + "]" : hip,
                                  b.value("host_port", 0), b.value("container_port", 0), b.value("protocol", "")));
    }
    for (const auto& n : array_member(c, "networks")) {
      for (const char* k : {"ipv4", "ipv6"})
        if (!n.value(k, "").empty()) addrs.push_back(n.value("network", "") + " " + n.value(k, ""));
    }
    out[c.value("name", "")] = {{"image", c.value("image", "")},
                                {"running", c.value("running", false)},
                                {"ports", std::move(ports)},
                                {"addresses", std::move(addrs)}};
  }
  return out;
}

}  // namespace

Json make_baseline(const Engine& engine, const ScanResult& scan) {
  const Snapshot& s = engine.snapshot();
  Json b;
  b["kind"] = "dockfw-audit-baseline";
  b["schema_version"] = kBaselineSchemaVersion;
  b["tool"] = {{"name", "dockfw-audit"}, {"version", kVersion}};
  b["snapshot_collected_at"] = s.doc.value("collected_at", "");
  Json cols = Json::object();
  for (auto name : kCollectors) cols[std::string(name)] = std::string(to_string(s.collector(name).status));
  b["collectors"] = std::move(cols);
  // The partition, so that a later run whose rules mention other prefixes
  // can still find, for each of its source classes, the class of the baseline
  // its representative belonged to.
  Json prefixes = Json::object(), classes = Json::array();
  for (int fam : {4, 6}) {
    Json ps = Json::array();
    for (const auto& p : scan.exposure.partitions.at(fam).prefixes) ps.push_back(p.str());
    prefixes[std::to_string(fam)] = std::move(ps);
  }
  std::unordered_map<std::string, std::size_t> class_index;
  for (const auto& c : scan.exposure.classes) {
    if (!class_index.emplace(c.label, classes.size()).second) continue;  // "the host itself" of each family
    Json k = {{"label", c.label}, {"representative", c.representative}};
    if (c.source.kind == Source::Kind::remote) k["iif"] = c.source.iif;
    classes.push_back(std::move(k));
  }
  b["source_prefixes"] = std::move(prefixes);
  b["source_classes"] = std::move(classes);
  // Cells grouped by destination, outcome and deciding rule, each group's
  // sources a set of indexes into source_classes written once in
  // source_sets: the baseline grows with entries and distinct behaviours,
  // not with classes times cells.
  std::map<int, std::vector<std::uint32_t>> index_of;  // family -> class -> baseline index
  for (const auto& [fam, base] : scan.exposure.class_base) {
    auto& v = index_of[fam];
    const auto& part = scan.exposure.partitions.at(fam);
    for (std::size_t ci = 0; ci < part.classes.size(); ++ci)
      v.push_back(static_cast<std::uint32_t>(class_index.at(scan.exposure.classes[base + ci].label)));
  }
  std::map<std::vector<std::uint32_t>, std::size_t> set_of;
  Json sets = Json::array();
  Json entries = Json::array();
  for (const auto& en : scan.exposure.entries) {
    // Groups in order of their first cell (classes outer, destinations
    // inner), sources in class order: group_cells' groups, joined where only
    // the target or what is uncertain tells them apart.
    std::unordered_map<std::string, std::size_t> group_of;
    std::vector<std::vector<std::uint32_t>> sources;  // per group, class indexes of the entry
    Json cells = Json::array();
    for (const auto& g : group_cells(en)) {
      std::string outcome = to_string(g.outcome->result);
      const std::string& dst = en.destinations[g.destination];
      std::string key = dst + '\x1f' + outcome + '\x1f' + g.outcome->decided_by;
      auto [it, fresh] = group_of.try_emplace(std::move(key), cells.size());
      if (fresh) {
        cells.push_back({{"destination", dst}, {"outcome", outcome}, {"decided_by", g.outcome->decided_by}});
        sources.push_back(g.sources);
      } else {
        std::vector<std::uint32_t> merged;
        std::merge(sources[it->second].begin(), sources[it->second].end(), g.sources.begin(), g.sources.end(),
                   std::back_inserter(merged));
        sources[it->second] = std::move(merged);
      }
    }
    const auto& to_index = index_of.at(en.family);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::vector<std::uint32_t> v;
      v.reserve(sources[i].size());
      for (auto ci : sources[i]) v.push_back(to_index[ci]);
      auto [it, fresh] = set_of.try_emplace(v, sets.size());
      if (fresh) sets.push_back(std::move(v));
      cells[i]["source_set"] = it->second;
    }
    entries.push_back({{"kind", to_string(en.kind)}, {"what", en.what}, {"family", en.family}, {"cells", std::move(cells)}});
  }
  b["exposure"] = std::move(entries);
  b["source_sets"] = std::move(sets);
  Json fs = Json::array();
  for (const auto& f : scan.findings)
    fs.push_back({{"rule_id", f.rule_id}, {"fingerprint", fingerprint(f)}, {"identity", f.identity}, {"message", f.message}});
  b["findings"] = std::move(fs);
  b["rules"] = rules_of(s);
  b["docker"] = docker_of(s);
  b["sysctls"] = sysctls_of(s);
  b["containers"] = containers_of(s);
  return b;
}

namespace {
// Schemas 1 and 2 kept a set's elements as rules[{text, id}], the text the
// element's JSON (with its expires, which changes on its own): as schema 3
// has them, so that an upgrade does not make every set drift.
void upgrade_elements(Json& b) {
  for (auto& [k, e] : b["rules"].items()) {
    // "nft FAMILY TABLE set NAME" (names have no spaces).
    std::istringstream words(k);
    std::string w[4];
    words >> w[0] >> w[1] >> w[2] >> w[3];
    const bool set = w[0] == "nft" && (w[3] == "set" || w[3] == "map");
    auto r = e.find("rules");
    if (!set || r == e.end() || e.contains("elements")) continue;
    Json::array_t texts;
    for (const auto& x : *r) {
      std::string t = x.value("text", "");
      auto el = parse_json_text(t, "element");  // nesting and size bounded as any input
      texts.emplace_back(el ? render_nft_element(*el) : t);
    }
    Json::object_t up;  // members in the order make_baseline writes them
    if (auto h = e.find("header"); h != e.end()) up.emplace_back("header", *h);
    up.emplace_back("elements", std::move(texts));
    up.emplace_back("digest", "");
    e = std::move(up);
    e["digest"] = digest_of(e);
  }
}
}  // namespace

Result<Json> load_baseline(const std::string& path) {
  auto text = read_input_file(path, max_document_bytes());
  if (!text) return text.error();
  return parse_baseline(*text, path);
}

Result<Json> parse_baseline(std::string_view text, const std::string& path) {
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
  if (v->get<int>() <= 2) upgrade_elements(*j);
  return std::move(*j);
}

}  // namespace dfa

// ---- comparison -------------------------------------------------------------

namespace dfa {
namespace {

// One side of a comparison: its exposure cells, and how to name the class a
// source of the other side belongs to.
struct Side {
  struct Cell {
    std::string_view outcome, decided_by;  // interned in `texts`
  };
  using Group = std::unordered_map<std::string_view, Cell>;  // source class label -> its cell
  // "what \x1f destination" -> its cells as the baseline has them, made into
  // a Group (by label) only when compared: a drift where little changed
  // compares most groups as they are written (same_as). Labels and texts are
  // kept once in `texts` (a large host has millions of cells, a few
  // thousand labels).
  struct Written {
    std::vector<const Json*> cells;
    mutable std::optional<Group> group;
  };
  std::map<std::string, Written, std::less<>> cells;
  mutable std::set<std::string, std::less<>> texts;
  std::vector<std::string_view> label_of;  // source class index -> label
  const Json* sets = nullptr;              // schema 2: source_sets
  // A cell's sources: its set (schema 2) or its own list (schema 1).
  const Json& sources_of(const Json& c) const {
    auto st = c.find("source_set");
    return st != c.end() && sets ? sets->at(st->get<std::size_t>()) : c.at("sources");
  }
  std::map<std::string, std::pair<std::string, std::string>, std::less<>> reps;  // label -> (address, iif), remote classes
  std::map<int, SourcePartition> parts;
  std::map<std::string, std::string> collectors;

  std::string_view intern(std::string s) const { return *texts.insert(std::move(s)).first; }

  explicit Side(const Json& b) {
    for (const auto& c : b["source_classes"]) label_of.push_back(intern(c["label"].get<std::string>()));
    for (const auto& en : b["exposure"]) {
      const std::string what = en["what"].get<std::string>();
      for (const auto& c : en["cells"]) cells[what + '\x1f' + c["destination"].get<std::string>()].cells.push_back(&c);
    }
    if (auto ss = b.find("source_sets"); ss != b.end()) sets = &*ss;
    for (const auto& c : b["source_classes"])
      if (c.contains("iif")) reps[c.value("label", "")] = {c.value("representative", ""), c.value("iif", "")};
    for (const auto& [fam, ps] : b["source_prefixes"].items())
      for (const auto& p : ps)
        if (auto pr = Prefix::parse(p.get<std::string>())) parts[fam == "6" ? 6 : 4].prefixes.push_back(*pr);
    for (const auto& [k, v] : b["collectors"].items()) collectors[k] = v.is_string() ? v.get<std::string>() : "";
  }
  const Group& group(const Written& w) const {
    if (!w.group) {
      // (A baseline read from a file has had its shape checked; one made in
      // this run is ours. The casts below cannot meet another type.)
      Group g;
      for (const Json* c : w.cells) {
        Cell cell{intern(c->at("outcome").get<std::string>()), intern(c->value("decided_by", ""))};
        for (const auto& i : sources_of(*c)) g[label_of.at(i.get<std::size_t>())] = cell;
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
  // `w` says: the same cells as written, where both sides have the same
  // classes by label (same_classes, found once by the caller); then neither
  // side has a change there.
  bool same_as(const Written& w, const Side& other, std::string_view what_dst, bool same_classes) const {
    if (!same_classes) return false;
    auto it = other.cells.find(what_dst);
    if (it == other.cells.end() || it->second.cells.size() != w.cells.size()) return false;
    for (std::size_t i = 0; i < w.cells.size(); ++i) {
      const Json &a = *w.cells[i], &o = *it->second.cells[i];
      if (a.at("outcome") != o.at("outcome") || a.value("decided_by", "") != o.value("decided_by", "") ||
          sources_of(a) != other.sources_of(o))
        return false;
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
    std::string label = (part == parts.end() ? none : part->second).label_of(*addr, r->second.second);
    auto it = g->find(label);
    return it == g->end() ? nullptr : &it->second;
  }
  // Read completely, or absent (nothing there): its part can be compared.
  // Denied or failed: unknown, so it is not (DFA103 says so instead).
  bool ok(const std::string& collector) const {
    auto it = collectors.find(collector);
    return it != collectors.end() && (it->second == "ok" || it->second == "absent");
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
    Json dsts = Json::array();
    for (const auto& [dst, srcs] : g.sources) dsts.push_back({{"destination", dst}, {"sources", srcs}});
    f.evidence = {{"what", what}, {"destinations", std::move(dsts)}};
    out.push_back(std::move(f));
  }
}

void rule_changes(const Json& base, const Json& now, const Side& b, const Side& n, std::vector<Finding>& out) {
  std::set<std::string> keys;
  for (const auto& [k, v] : base["rules"].items()) keys.insert(k);
  for (const auto& [k, v] : now["rules"].items()) keys.insert(k);
  for (const auto& k : keys) {
    std::string collector = k.rfind("nft ", 0) == 0 ? "nftables" : "iptables_legacy";
    if (!b.ok(collector) || !n.ok(collector)) continue;  // DFA103 says the collector changed
    const Json* was = base["rules"].contains(k) ? &base["rules"][k] : nullptr;
    const Json* is = now["rules"].contains(k) ? &now["rules"][k] : nullptr;
    if (was && is && (*was)["digest"] == (*is)["digest"]) continue;
    // An empty chain that accepts everything does nothing: its coming or
    // going (a legacy table instantiated with its builtin chains) is noise.
    const Json* only = was ? (is ? nullptr : was) : is;
    if (only && items_of(*only) == 0) {
      std::string h = only->value("header", "");
      if (h.empty() || h == "policy ACCEPT" || h.ends_with("policy accept")) continue;
    }
    std::map<std::string, std::pair<int, std::string>> count;  // id -> (now - base, text)
    auto tally = [&](const Json& e, int by) {
      for_each_item(e, [&](const std::string& id, const std::string& text) {
        auto& c = count[id];
        c.first += by;
        c.second = text;
      });
    };
    if (was) tally(*was, -1);
    if (is) tally(*is, 1);
    const char* item = (was ? *was : *is).contains("elements") ? "element" : "rule";
    Json added = Json::array(), removed = Json::array();
    for (const auto& [id, c] : count) {
      for (int i = 0; i < c.first; ++i) added.push_back(c.second);
      for (int i = 0; i < -c.first; ++i) removed.push_back(c.second);
    }
    Finding f;
    f.rule_id = "DFA104";
    f.identity = k;
    f.location.logical = k;
    std::string head = was ? (*was).value("header", "") : "", head_now = is ? (*is).value("header", "") : "";
    std::vector<std::string> parts;
    if (!was) parts.push_back(fmt::format("appeared{}", head_now.empty() ? "" : " (" + head_now + ")"));
    else if (!is) parts.push_back("is gone");
    else if (head != head_now) parts.push_back(fmt::format("{} -> {}", head.empty() ? "(no hook)" : head, head_now.empty() ? "(no hook)" : head_now));
    if (!added.empty()) parts.push_back(fmt::format("{} {}{} added", added.size(), item, added.size() == 1 ? "" : "s"));
    if (!removed.empty()) parts.push_back(fmt::format("{} {}{} removed", removed.size(), item, removed.size() == 1 ? "" : "s"));
    if (was && is && added.empty() && removed.empty() && head == head_now) parts.push_back(fmt::format("{}s reordered", item));
    f.message = fmt::format("{}: {}", k, fmt::join(parts, ", "));
    auto show = [&](const Json& list, char sign) {
      std::size_t i = 0;
      for (const auto& t : list) {
        if (i++ == 3) {
          f.message += fmt::format("; (and {} more)", list.size() - 3);
          break;
        }
        f.message += fmt::format("; {} {}", sign, t.get<std::string>());
      }
    };
    show(added, '+');
    show(removed, '-');
    f.evidence = {{"table_chain", k}, {"added", added}, {"removed", removed}, {"header_before", head}, {"header_now", head_now}};
    out.push_back(std::move(f));
  }
}

std::string short_json(const Json& j) { return j.is_null() ? "(unset)" : j.dump(); }

void docker_changes(const Json& base, const Json& now, const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("docker_config") || !n.ok("docker_config")) return;
  const Json& was = base["docker"]["daemon_json"];
  const Json& is = now["docker"]["daemon_json"];
  auto add = [&](const std::string& identity, const std::string& msg, const std::string& file, int line, Json ev) {
    Finding f;
    f.rule_id = "DFA105";
    f.identity = identity;
    f.message = msg;
    f.location.file = file;
    f.location.line = line;
    if (file.empty()) f.location.logical = "dockerd";
    f.evidence = std::move(ev);
    out.push_back(std::move(f));
  };
  if (was.is_object() && is.is_object()) {
    std::string path = is.value("path", "");
    std::string err_was = was.value("error", ""), err_is = is.value("error", "");
    if (err_was != err_is)
      add("daemon.json error", err_is.empty() ? fmt::format("{} parses again (it failed: {})", path, err_was)
                                              : fmt::format("{} no longer parses: {}", path, err_is),
          path, 0, {{"before", err_was}, {"now", err_is}});
    if (was.value("present", false) != is.value("present", false))
      add("daemon.json present", fmt::format("{} {}", path, is.value("present", false) ? "appeared" : "is gone"), path, 0,
          Json::object());
    const Json& cw = was.contains("content") && was["content"].is_object() ? was["content"] : Json::object();
    const Json& ci = is.contains("content") && is["content"].is_object() ? is["content"] : Json::object();
    std::set<std::string> keys;
    for (const auto& [k, v] : cw.items()) keys.insert(k);
    for (const auto& [k, v] : ci.items()) keys.insert(k);
    for (const auto& k : keys) {
      Json a = cw.contains(k) ? cw[k] : Json(), c = ci.contains(k) ? ci[k] : Json();
      if (a == c) continue;
      // key_lines is optional in a baseline (its shape): a missing one is line 0.
      auto line_of = [&k](const Json& side) {
        auto kl = side.find("key_lines");
        return kl != side.end() && kl->is_object() ? kl->value(k, 0) : 0;
      };
      int line = ci.contains(k) ? line_of(is) : line_of(was);
      add("daemon.json " + k,
          fmt::format("{} \"{}\": {} -> {} (dockerd applies it when it next starts)", path, k, short_json(a), short_json(c)),
          path, line, {{"key", k}, {"before", a}, {"now", c}});
    }
  }
  const Json& dw = base["docker"]["dockerd"];
  const Json& di = now["docker"]["dockerd"];
  // argv is optional in a baseline's dockerd (its shape): without it, not running as far as it says.
  auto argv_of = [](const Json& d) {
    if (!d.is_object()) return Json();
    auto it = d.find("argv");
    return it == d.end() ? Json() : *it;
  };
  Json aw = argv_of(dw), ai = argv_of(di);
  if (aw != ai) {
    auto words = [](const Json& a) {
      if (!a.is_array()) return std::string("(not running)");
      std::string s;
      for (const auto& w : a) s += (s.empty() ? "" : " ") + w.get<std::string>();
      return s;
    };
    add("dockerd argv", fmt::format("dockerd: {} -> {}", words(aw), words(ai)), "", 0, {{"before", aw}, {"now", ai}});
  }
}

void sysctl_changes(const Json& base, const Json& now, const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("host") || !n.ok("host")) return;
  for (const auto& [k, v] : now["sysctls"].items()) {
    if (!base["sysctls"].contains(k)) continue;  // interfaces come and go
    const Json& was = base["sysctls"][k];
    if (was == v) continue;
    Finding f;
    f.rule_id = "DFA106";
    f.identity = k;
    std::string dotted = k;
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    f.location.logical = "sysctl:" + dotted;
    f.message = fmt::format("{}: {} -> {}", dotted, short_json(was), short_json(v));
    f.evidence = {{"sysctl", dotted}, {"before", was}, {"now", v}};
    out.push_back(std::move(f));
  }
}

void container_changes(const Json& base, const Json& now, const Side& b, const Side& n, std::vector<Finding>& out) {
  if (!b.ok("docker_api") || !n.ok("docker_api")) return;
  std::set<std::string> names;
  for (const auto& [k, v] : base["containers"].items()) names.insert(k);
  for (const auto& [k, v] : now["containers"].items()) names.insert(k);
  auto list = [](const Json& a) {
    std::vector<std::string> v;
    for (const auto& x : a) v.push_back(x.get<std::string>());
    return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
  };
  for (const auto& name : names) {
    const Json* was = base["containers"].contains(name) ? &base["containers"][name] : nullptr;
    const Json* is = now["containers"].contains(name) ? &now["containers"][name] : nullptr;
    std::vector<std::string> parts;
    if (!was)
      parts.push_back(fmt::format("appeared ({}, image {}, publishes {})", (*is)["running"].get<bool>() ? "running" : "stopped",
                                  (*is).value("image", ""), list((*is)["ports"])));
    else if (!is)
      parts.push_back("is gone");
    else {
      if ((*was)["running"] != (*is)["running"]) parts.push_back((*is)["running"].get<bool>() ? "started" : "stopped");
      if ((*was)["image"] != (*is)["image"])
        parts.push_back(fmt::format("image {} -> {}", (*was).value("image", ""), (*is).value("image", "")));
      if ((*was)["ports"] != (*is)["ports"])
        parts.push_back(fmt::format("published {} -> {}", list((*was)["ports"]), list((*is)["ports"])));
      if ((*was)["addresses"] != (*is)["addresses"])
        parts.push_back(fmt::format("addresses {} -> {}", list((*was)["addresses"]), list((*is)["addresses"])));
    }
    if (parts.empty()) continue;
    Finding f;
    f.rule_id = "DFA107";
    f.identity = name;
    f.location.logical = "container:" + name;
    f.message = fmt::format("container {} {}", name, fmt::join(parts, "; "));
    f.evidence = {{"container", name}, {"before", was ? *was : Json()}, {"now", is ? *is : Json()}};
    out.push_back(std::move(f));
  }
}

}  // namespace

std::vector<Finding> compare_baselines(const Json& base, const Json& now, const std::vector<Finding>& now_findings) {
  std::vector<Finding> out;
  Side b(base), n(now);
  for (const auto& [name, st] : n.collectors) {
    auto it = b.collectors.find(name);
    std::string was = it == b.collectors.end() ? "" : it->second;
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
  rule_changes(base, now, b, n, out);
  docker_changes(base, now, b, n, out);
  sysctl_changes(base, now, b, n, out);
  container_changes(base, now, b, n, out);
  std::set<std::string> had, has;
  for (const auto& f : base["findings"]) had.insert(f.value("fingerprint", ""));
  for (const auto& f : now_findings) {
    has.insert(fingerprint(f));
    if (had.count(fingerprint(f))) continue;
    Finding g = f;
    g.message = "new since the baseline: " + f.message;
    out.push_back(std::move(g));
  }
  for (const auto& f : base["findings"]) {
    if (has.count(f.value("fingerprint", ""))) continue;
    Finding g;
    g.rule_id = "DFA108";
    g.identity = f.value("fingerprint", "");
    g.location.logical = "finding:" + f.value("rule_id", "");
    g.message = fmt::format("no longer found: {} {}", f.value("rule_id", ""), f.value("message", ""));
    g.evidence = {{"rule_id", f.value("rule_id", "")}, {"fingerprint", f.value("fingerprint", "")}};
    out.push_back(std::move(g));
  }
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& c) {
    return std::tie(a.rule_id, a.identity) < std::tie(c.rule_id, c.identity);
  });
  return out;
}

}  // namespace dfa
