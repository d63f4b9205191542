#include "findings/report.hpp"

#include <fmt/format.h>

#include <map>

#include "dfa/version.hpp"

namespace dfa {

std::string fingerprint(const Finding& f) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : f.rule_id + "|" + f.identity) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

Severity highest(const std::vector<Finding>& fs) {
  Severity s = Severity::none;
  for (const auto& f : fs)
    if (const RuleDef* r = find_rule(f.rule_id); r && r->severity > s) s = r->severity;
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
    default: return "3.0";
  }
}

}  // namespace

std::string render_text(const ScanResult& r, bool colour) {
  std::map<Severity, int> counts;
  for (const auto& f : r.findings) counts[find_rule(f.rule_id)->severity]++;
  std::string s = fmt::format("dockfw-audit scan: {} finding{} ({} critical, {} high, {} medium, {} low)\n",
                              r.findings.size(), r.findings.size() == 1 ? "" : "s", counts[Severity::critical],
                              counts[Severity::high], counts[Severity::medium], counts[Severity::low]);
  for (Severity sev : {Severity::critical, Severity::high, Severity::medium, Severity::low}) {
    if (!counts[sev]) continue;
    std::string head(to_string(sev));
    for (auto& ch : head) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const char* col = sev >= Severity::high ? "\033[1;31m" : sev == Severity::medium ? "\033[1;33m" : "\033[1;36m";
    s += colour ? fmt::format("\n{}{}\033[0m\n", col, head) : fmt::format("\n{}\n", head);
    for (const auto& f : r.findings) {
      const RuleDef* rule = find_rule(f.rule_id);
      if (rule->severity != sev) continue;
      s += fmt::format("  {} {}\n    {}\n    at: {}\n    fix: {}\n", rule->id, rule->title, f.message, where(f.location),
                       rule->fix);
    }
  }
  s += "\nExposure (dockfw-audit exposure for every cell):\n" + render_open_table(r.exposure);
  return s;
}

Json to_json(const ScanResult& r) {
  Json j;
  j["schema_version"] = 1;
  j["tool"] = {{"name", "dockfw-audit"}, {"version", kVersion}};
  std::map<std::string, int> counts;
  for (const auto& f : r.findings) counts[std::string(to_string(find_rule(f.rule_id)->severity))]++;
  j["summary"] = {{"findings", r.findings.size()}, {"critical", counts["critical"]}, {"high", counts["high"]},
                  {"medium", counts["medium"]}, {"low", counts["low"]}};
  Json fs = Json::array();
  for (const auto& f : r.findings) {
    const RuleDef* rule = find_rule(f.rule_id);
    Json flow = Json::array();
    for (const auto& st : f.flow)
      flow.push_back({{"hook", st.hook}, {"where", st.where}, {"rule", st.rule}, {"origin", st.origin}, {"verdict", st.verdict}});
    fs.push_back({{"rule_id", f.rule_id},
                  {"severity", to_string(rule->severity)},
                  {"title", rule->title},
                  {"message", f.message},
                  {"location", {{"file", f.location.file}, {"line", f.location.line}, {"logical", f.location.logical}}},
                  {"fingerprint", fingerprint(f)},
                  {"evidence", f.evidence},
                  {"path", std::move(flow)}});
  }
  j["findings"] = std::move(fs);
  j["exposure"] = to_json(r.exposure);
  return j;
}

Json to_sarif(const ScanResult& r) {
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
  Json results = Json::array();
  for (const auto& f : r.findings) {
    const RuleDef* def = find_rule(f.rule_id);
    Json loc;
    if (!f.location.file.empty()) {
      Json phys = {{"artifactLocation", {{"uri", "file://" + f.location.file}}}};
      if (f.location.line > 0) phys["region"] = {{"startLine", f.location.line}};
      loc["physicalLocation"] = std::move(phys);
    } else {
      loc["logicalLocations"] = Json::array({{{"fullyQualifiedName", f.location.logical}, {"kind", "namespace"}}});
    }
    Json res = {{"ruleId", f.rule_id},
                {"ruleIndex", index.at(f.rule_id)},
                {"level", sarif_level(def->severity)},
                {"message", {{"text", f.message}}},
                {"locations", Json::array({loc})},
                {"partialFingerprints", {{"dockfwAuditIdentity/v1", fingerprint(f)}}}};
    if (!f.flow.empty()) {
      Json tl = Json::array();
      for (const auto& st : f.flow) {
        std::string text = st.hook + ": " + (st.rule.empty() ? st.where : st.rule) + " -> " + st.verdict;
        Json l = {{"message", {{"text", text}}}};
        std::string fq = st.origin.empty() ? st.where : st.origin;
        if (!fq.empty()) l["logicalLocations"] = Json::array({{{"fullyQualifiedName", fq}, {"kind", "function"}}});
        tl.push_back({{"location", std::move(l)}});
      }
      res["codeFlows"] = Json::array({{{"threadFlows", Json::array({{{"locations", std::move(tl)}}})}}});
    }
    results.push_back(std::move(res));
  }
  Json run = {{"tool", {{"driver", {{"name", "dockfw-audit"},
                                    {"version", kVersion},
                                    {"rules", std::move(rules)}}}}},
              {"results", std::move(results)},
              {"columnKind", "unicodeCodePoints"}};
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", Json::array({run})}};
}

}  // namespace dfa
