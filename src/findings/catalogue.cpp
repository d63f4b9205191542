// The finding catalogue: rules/DFA*.json, compiled in (generated/catalogue_data.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

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

}  // namespace dfa
