#include "findings/report.hpp"

#include "analyze/parallel.hpp"
#include "findings/artifact.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <map>

#include "dfa/version.hpp"

namespace dfa {

std::string stable_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::string fingerprint(const Finding& f) { return stable_hash(f.rule_id + "|" + f.identity); }

ScanResult run_scan(const Engine& engine, bool keep_bare_walks) {
  ScanResult r;
  r.exposure = compute_exposure(engine);
  r.exposure.keep_bare_walks = keep_bare_walks;
  r.findings = run_checks(engine, r.exposure);
  const Snapshot& s = engine.snapshot();
  if (s.host) r.hostname = s.host->hostname;
  r.collected_at = string_member(s.doc, "collected_at");
  return r;
}

Severity severity_of(const Finding& f) {
  if (f.severity) return *f.severity;
  const RuleDef* r = find_rule(f.rule_id);
  return r ? r->severity : Severity::none;
}

Severity highest(const std::vector<Finding>& fs) {
  Severity s = Severity::none;
  for (const auto& f : fs)
    if (!f.is_suppressed() && severity_of(f) > s) s = severity_of(f);
  return s;
}

namespace {

std::string where(const Location& l) {
  if (!l.file.empty()) return l.line ? fmt::format("{}:{}", l.file, l.line) : l.file;
  return l.logical;
}

const char* sarif_level(Severity s) {
  return s >= Severity::high ? "error" : s == Severity::medium ? "warning" : "note";
}

const char* security_severity(Severity s) {
  switch (s) {
    case Severity::critical: return "9.5";
    case Severity::high: return "8.0";
    case Severity::medium: return "5.5";
    case Severity::low: return "3.0";
    default: return "1.0";
  }
}

}  // namespace

std::string render_findings_text(const std::string& what, const std::vector<Finding>& fs, bool colour,
                                 const std::string& noun) {
  std::map<Severity, int> counts;
  std::size_t active = 0, suppressed = 0;
  for (const auto& f : fs) {
    if (f.is_suppressed()) {
      ++suppressed;
      continue;
    }
    ++active;
    counts[severity_of(f)]++;
  }
  std::string s = fmt::format("{}: {} ({} critical, {} high, {} medium, {} low{}){}\n", what,
                              fmt::format("{} {}{}", active, noun, active == 1 ? "" : "s"), counts[Severity::critical],
                              counts[Severity::high], counts[Severity::medium], counts[Severity::low],
                              counts[Severity::info] ? fmt::format(", {} info", counts[Severity::info]) : "",
                              suppressed ? fmt::format("; {} suppressed", suppressed) : "");
  for (Severity sev : {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info}) {
    if (!counts[sev]) continue;
    std::string head(to_string(sev));
    for (auto& ch : head) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const char* col = sev >= Severity::high ? "\033[1;31m" : sev == Severity::medium ? "\033[1;33m" : "\033[1;36m";
    s += colour ? fmt::format("\n{}{}\033[0m\n", col, head) : fmt::format("\n{}\n", head);
    // Per rule, its title once, every finding of it, then its fix once
    // (a fix repeated for each published port is read once, not ten times).
    std::vector<const Finding*> shown;
    for (const auto& f : fs)
      if (!f.is_suppressed() && severity_of(f) == sev) shown.push_back(&f);
    std::stable_sort(shown.begin(), shown.end(),
                     [](const Finding* a, const Finding* b) { return a->rule_id < b->rule_id; });
    for (std::size_t i = 0; i < shown.size(); ++i) {
      const Finding& f = *shown[i];
      const RuleDef* rule = find_rule(f.rule_id);
      if (i == 0 || shown[i - 1]->rule_id != f.rule_id) s += fmt::format("  {} {}\n", rule->id, rule->title);
      s += fmt::format("    {}\n      at: {}\n", f.message, where(f.location));
      if (f.suppression_expired)
        s += fmt::format("      suppression expired on {}: {}\n", f.suppression_expires, f.suppressed);
      bool last_of_rule = i + 1 == shown.size() || shown[i + 1]->rule_id != f.rule_id;
      if (last_of_rule && sev > Severity::info) s += fmt::format("    fix: {}\n", rule->fix);
    }
  }
  if (suppressed) {
    s += "\nSUPPRESSED\n";
    for (const auto& f : fs)
      if (f.is_suppressed())
        s += fmt::format("  {} {}\n    accepted{}: {}\n", f.rule_id, f.message,
                         f.suppression_expires.empty() ? "" : " until " + f.suppression_expires, f.suppressed);
  }
  return s;
}

std::string render_text(const ScanResult& r, bool colour) {
  // Who reaches what first (the answer), then the findings (what is wrong).
  std::string findings = render_findings_text("dockfw-audit scan", r.findings, colour);
  auto head = findings.find('\n') + 1;
  return findings.substr(0, head) + "\nExposure (dockfw-audit exposure: every destination and deciding rule):\n" +
         render_open_table(r.exposure) + findings.substr(head);
}

Json severity_summary(const std::vector<Finding>& fs, const std::string& noun) {
  std::map<std::string, int> counts;
  int active = 0, suppressed = 0;
  for (const auto& f : fs) {
    if (f.is_suppressed()) {
      ++suppressed;
      continue;
    }
    ++active;
    counts[std::string(to_string(severity_of(f)))]++;
  }
  return {{noun, active}, {"critical", counts["critical"]}, {"high", counts["high"]},
          {"medium", counts["medium"]}, {"low", counts["low"]}, {"info", counts["info"]}, {"suppressed", suppressed}};
}

namespace {
Json step_json(const Step& st) {
  return {{"hook", st.hook}, {"where", st.where}, {"rule", st.rule}, {"origin", st.origin}, {"verdict", st.verdict}};
}
}  // namespace

void write_evidence(JsonWriter& w, const Evidence& ev) {
  w.begin_object();
  for (const auto& [key, value] : ev) {
    w.key(key);
    value.visit([&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, std::nullptr_t>) {
        w.null();
      } else if constexpr (std::is_same_v<T, bool>) {
        w.boolean(x);
      } else if constexpr (std::is_same_v<T, long long>) {
        w.number(x);
      } else if constexpr (std::is_same_v<T, std::string>) {
        w.string(x);
      } else if constexpr (std::is_same_v<T, Evidence::Strings>) {
        w.begin_array();
        for (const auto& s : x) w.string(s);
        w.end_array();
      } else if constexpr (std::is_same_v<T, Evidence::Objects>) {
        w.begin_array();
        for (const auto& o : x) write_evidence(w, o);
        w.end_array();
      } else if constexpr (std::is_same_v<T, Evidence::Document>) {
        w.value(Json::parse(x.json));  // written by drift from a document it read
      } else {
        write_evidence(w, x);
      }
    });
  }
  w.end_object();
}

Json evidence_json(const Evidence& ev) {
  std::string text;
  JsonWriter w(text, false);
  write_evidence(w, ev);
  return Json::parse(text);
}

std::uint32_t StepTable::index(const Step& st) {
  auto [it, fresh] = index_.try_emplace(fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", st.hook, st.where, st.rule, st.origin, st.verdict),
                                        static_cast<std::uint32_t>(steps_.size()));
  if (fresh) steps_.push_back(step_json(st));
  return it->second;
}

void write_finding(JsonWriter& w, const Finding& f, StepTable* steps) {
  const RuleDef* rule = find_rule(f.rule_id);
  w.key("rule_id");
  w.string(f.rule_id);
  w.key("severity");
  w.string(to_string(severity_of(f)));
  w.key("title");
  w.string(rule->title);
  w.key("message");
  w.string(f.message);
  w.key("location");
  w.begin_object();
  w.key("file");
  w.string(f.location.file);
  w.key("line");
  w.number(f.location.line);
  w.key("logical");
  w.string(f.location.logical);
  w.end_object();
  w.key("fingerprint");
  w.string(fingerprint(f));
  w.key("evidence");
  write_evidence(w, f.evidence);
  w.key("path");
  w.begin_array();
  for (const auto& st : f.flow) {
    if (steps) w.number(steps->index(st));
    else w.value(step_json(st));
  }
  w.end_array();
  if (!f.suppressed.empty()) {
    w.key("suppression");
    w.begin_object();
    w.key("justification");
    w.string(f.suppressed);
    w.key("expires");
    if (f.suppression_expires.empty()) w.null();
    else w.string(f.suppression_expires);
    w.key("in_force");
    w.boolean(!f.suppression_expired);
    w.end_object();
  }
}

Json finding_json(const Finding& f, StepTable* steps) {
  std::string t;
  JsonWriter w(t, false);
  w.begin_object();
  write_finding(w, f, steps);
  w.end_object();
  return Json::parse(t);
}

void write_findings(JsonWriter& w, const char* key, const std::vector<Finding>& fs) {
  StepTable steps;
  w.key(key);
  w.begin_array();
  for (const auto& f : fs) {
    w.begin_object();
    write_finding(w, f, &steps);
    w.end_object();
  }
  w.end_array();
  w.key("steps");
  w.value(steps.take());
}

void add_findings_json(Json& j, const char* key, const std::vector<Finding>& fs) {
  StepTable steps;
  Json all = Json::array();
  for (const auto& f : fs) all.push_back(finding_json(f, &steps));
  j[key] = std::move(all);
  j["steps"] = steps.take();
}

Json host_json(const ScanResult& r) { return {{"hostname", r.hostname}, {"collected_at", r.collected_at}}; }
Json host_json(const Snapshot& s) {
  return {{"hostname", s.host ? s.host->hostname : std::string()}, {"collected_at", string_member(s.doc, "collected_at")}};
}
Json tool_json() { return {{"name", "dockfw-audit"}, {"version", kVersion}}; }

namespace {
// Every member of scan's JSON but the exposure.
Json scan_head(const ScanResult& r) {
  Json j;
  j["schema_version"] = 3;  // 3: each path step once (steps), the exposure's schema 3
  j["tool"] = tool_json();
  j["host"] = host_json(r);
  j["summary"] = severity_summary(r.findings);
  add_findings_json(j, "findings", r.findings);
  return j;
}
}  // namespace

Json to_json(const ScanResult& r) {
  Json j = scan_head(r);
  j["exposure"] = to_json(r.exposure);
  return j;
}

std::string dump_scan_json(const ScanResult& r, bool pretty) {
  // The members before the exposure are small: nlohmann writes them. The
  // exposure (millions of source labels on a large host) is streamed as
  // write_json makes it, one level deeper. The two halves read the result
  // only, so with more than one analysis thread the exposure is written
  // beside the findings.
  auto exposure = [&r, pretty] {
    std::string x;
    write_json(r.exposure, [&](std::string_view b) { x.append(b); }, pretty, Json::object(), 1);
    return x;
  };
  std::future<std::string> beside;
  if (analysis_threads() > 1) beside = std::async(std::launch::async, exposure);
  std::string s;
  JsonWriter w(s, pretty);
  w.begin_object();
  // scan_head's members, the findings written as they are read.
  w.key("schema_version");
  w.number(3);
  w.key("tool");
  w.value(tool_json());
  w.key("host");
  w.value(host_json(r));
  w.key("summary");
  w.value(severity_summary(r.findings));
  write_findings(w, "findings", r.findings);
  w.key("exposure");
  w.raw(beside.valid() ? beside.get() : exposure());
  w.end_object();
  s += '\n';
  return s;
}

Json to_sarif(const std::vector<Finding>& findings, const SarifPlaces& places) {
  Json rules = Json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& def : catalogue()) {
    index[def.id] = rules.size();
    Json rule = {{"id", def.id},
                 {"name", def.name},
                 {"shortDescription", {{"text", def.title}}},
                 {"fullDescription", {{"text", def.why}}},
                 {"help", {{"text", def.fix}}},
                 {"defaultConfiguration", {{"level", sarif_level(def.severity)}}},
                 {"properties", {{"security-severity", security_severity(def.severity)}, {"tags", {"security", "network"}}}}};
    if (!def.references.empty()) rule["helpUri"] = def.references.front();
    rules.push_back(std::move(rule));
  }
  // A file's URI: relative to the root when under it (what code scanning
  // shows), else absolute. Without a root the artifact's path stays as given.
  std::string root = places.root;
  if (!root.empty() && root.back() != '/') root += '/';
  auto in_root = [&](const std::string& path) { return !root.empty() && path.rfind(root, 0) == 0; };
  auto uri_of = [&](const std::string& path, bool artifact) -> Json {
    if (in_root(path)) return {{"uri", path.substr(root.size())}, {"uriBaseId", "SRCROOT"}};
    if (artifact && root.empty() && !path.empty() && path[0] != '/') return {{"uri", path}, {"uriBaseId", "SRCROOT"}};
    return {{"uri", "file://" + path}};
  };
  auto physical = [&](const Json& artifact_location, int line) {
    Json phys = {{"artifactLocation", artifact_location}};
    if (line > 0) phys["region"] = {{"startLine", line}};
    return phys;
  };
  const Json artifact_uri = places.artifact ? uri_of(places.artifact_path, true) : Json();
  // The artifact's line of a location, 0 when there is none.
  auto artifact_line = [&](const Location& l) { return places.artifact ? places.artifact->line_of(l) : 0; };
  Json results = Json::array();
  for (const auto& f : findings) {
    Json loc;
    // A file under the root is shown itself; otherwise the artifact's line,
    // with the file on the host (if any) kept as a related location.
    const bool has_file = !f.location.file.empty();
    const int line = has_file && in_root(f.location.file) ? 0 : artifact_line(f.location);
    Json related = Json::array();
    if (line > 0) {
      loc["physicalLocation"] = physical(artifact_uri, line);
      if (has_file)
        related.push_back({{"id", 1},
                           {"physicalLocation", physical(uri_of(f.location.file, false), f.location.line)},
                           {"message", {{"text", "the file on the host"}}}});
    } else if (has_file) {
      loc["physicalLocation"] = physical(uri_of(f.location.file, false), f.location.line);
    }
    if (!f.location.logical.empty())
      loc["logicalLocations"] = Json::array({{{"fullyQualifiedName", f.location.logical}, {"kind", "namespace"}}});
    Json res = {{"ruleId", f.rule_id},
                {"ruleIndex", index.at(f.rule_id)},
                {"level", sarif_level(severity_of(f))},
                {"message", {{"text", f.message}}},
                {"locations", Json::array({loc})},
                {"partialFingerprints", {{"dockfwAuditIdentity/v1", fingerprint(f)}}}};
    if (!related.empty()) res["relatedLocations"] = std::move(related);
    if (f.is_suppressed())
      res["suppressions"] = Json::array({{{"kind", "external"}, {"status", "accepted"}, {"justification", f.suppressed}}});
    if (!f.flow.empty()) {
      Json tl = Json::array();
      for (const auto& st : f.flow) {
        std::string text = st.hook + ": " + (st.rule.empty() ? st.where : st.rule) + " -> " + st.verdict;
        Json l = {{"message", {{"text", text}}}};
        std::string fq = st.origin.empty() ? st.where : st.origin;
        if (!fq.empty()) l["logicalLocations"] = Json::array({{{"fullyQualifiedName", fq}, {"kind", "function"}}});
        // The rule's line in the artifact ("nft inet filter input #3 (handle 5)" without its handle).
        if (int line = artifact_line({"", 0, "", st.origin.substr(0, st.origin.find(" (handle"))}); line > 0)
          l["physicalLocation"] = physical(artifact_uri, line);
        tl.push_back({{"location", std::move(l)}});
      }
      res["codeFlows"] = Json::array({{{"threadFlows", Json::array({{{"locations", std::move(tl)}}})}}});
    }
    results.push_back(std::move(res));
  }
  Json run = {{"tool", {{"driver", {{"name", "dockfw-audit"},
                                    {"version", kVersion},
                                    {"semanticVersion", kVersion},
                                    {"rules", std::move(rules)}}}}},
              {"results", std::move(results)},
              {"columnKind", "unicodeCodePoints"}};
  if (!root.empty()) run["originalUriBaseIds"] = {{"SRCROOT", {{"uri", "file://" + root}}}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", Json::array({run})}};
}

Json to_sarif(const ScanResult& r, const SarifPlaces& places) { return to_sarif(r.findings, places); }

}  // namespace dfa
