// DFA011: undecidable cells.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa011(const CheckContext& cx, std::vector<Finding>& out) {
  const Exposure& x = cx.exposure;
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    std::set<std::string> reasons;
    auto uncertain = [](const ExposureCell& c) { return c.outcome->result == Outcome::Result::uncertain; };
    for_cells(en, any_class, uncertain, [&](const ExposureCell& c, std::size_t, std::size_t) {
      bool named = false;
      for (const auto& u : c.outcome->uncertain)
        if (u.rfind("(does not change", 0) != 0) {
          reasons.insert(u);
          named = true;
        }
      // A walk that met something not modeled says what in decided_by.
      if (!named && !c.outcome->decided_by.empty()) reasons.insert(c.outcome->decided_by);
    });
    if (!reasons.empty())
      add(out, "DFA011", fmt::format("reachability of {} is uncertain: {}", en.what, *reasons.begin()),
          {"", 0, "docker:" + en.owner}, en.what,
          Evidence{{"reasons", Evidence::Strings(reasons.begin(), reasons.end())}});
  }
}

}  // namespace dfa::checks
