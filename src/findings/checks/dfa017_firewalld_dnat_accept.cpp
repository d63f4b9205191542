// DFA017: a published port that firewalld's forward chain accepts as DNATed
// traffic ("ct status dnat accept", firewalld 1.0 and later), so no zone,
// policy or rich rule of firewalld ever sees it.
#include "findings/check.hpp"
#include "findings/manager_terms.hpp"

#include <set>

namespace dfa::checks {

void dfa017(const CheckContext& cx, std::vector<Finding>& out) {
  const FirewalldNames names(cx.snapshot);
  if (!names.active()) return;
  static const std::string kDnatAccept = "firewalld accepts every DNATed connection before its zones and policies";
  for (const auto& en : cx.exposure.entries) {
    if (en.kind != EntryKind::published) continue;
    std::vector<std::string> reached;
    std::set<const SourceClass*> remote, reaching;
    std::string rule;
    for (const auto& c : en.cells()) {
      if (c.source_class.source.kind != Source::Kind::remote) continue;
      remote.insert(&c.source_class);
      const Outcome& o = *c.outcome;
      if (o.result != Outcome::Result::delivered || names.name(o.decided_by) != kDnatAccept) continue;
      if (rule.empty()) rule = o.decided_by;
      reaching.insert(&c.source_class);
      // Examples to the host's own addresses (a loopback one is another path to the same port).
      if (!c.destination_addr.is_loopback()) reached.push_back(c.source + " to " + c.destination);
    }
    if (reached.empty() && !reaching.empty()) reached.push_back((*reaching.begin())->label);
    if (reached.empty()) continue;
    add(out, "DFA017",
        fmt::format("{} is reachable from {} of {} outside sources (e.g. {}) whatever firewalld's zones, policies and "
                    "rich rules say: {} accepts it",
                    en.what, reaching.size(), remote.size(), reached.front(), rule),
        {"", 0, logical_of(rule), stable_origin(rule)}, en.what, [&] {
          Json ev;
          ev["published"] = en.what;
          ev["decided_by"] = rule;
          put_examples(ev, "reached_by", reached);
          return ev;
        }());
  }
}

}  // namespace dfa::checks
