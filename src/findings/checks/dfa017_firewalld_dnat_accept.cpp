// DFA017: a published port that firewalld's forward chain accepts as DNATed
// traffic ("ct status dnat accept", firewalld 1.0 and later) from sources its
// zones would drop: no zone, policy or rich rule of firewalld ever sees it.
#include "findings/checks/dfa017_firewalld_dnat_accept.hpp"

namespace dfa::checks {

void FirewalldBypass::note(const FirewalldNames& names, const ExposureCell& c) {
  const auto r = names.rule(c.outcome->decided_by);
  if (!r || r->kind != FirewalldRule::Kind::own || r->own != FirewalldOwn::dnat_accept) return;
  if (rule.empty()) rule = c.outcome->decided_by;
  if (classes.insert(&c.source_class).second) examples.push_back(c.source + " to " + c.destination);
}

void FirewalldBypass::report(const ExposureEntry& en, std::vector<Finding>& out) const {
  if (classes.empty()) return;
  std::size_t remote = 0;
  for (const auto& c : *en.classes) remote += c.remote();
  add(out, "DFA017",
      fmt::format("{} is reachable from {} of {} outside sources (e.g. {}) that firewalld's zones drop as input: {} "
                  "accepts it before any zone, policy or rich rule",
                  en.what, classes.size(), remote, examples.front(), rule),
      {"", 0, logical_of(rule), stable_origin(rule)}, en.what, [&] {
        Evidence ev;
        ev["published"] = en.what;
        ev["decided_by"] = rule;
        put_examples(ev, "reached_by", examples);
        return ev;
      }());
}

}  // namespace dfa::checks
