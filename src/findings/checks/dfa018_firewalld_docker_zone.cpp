// DFA018: firewalld's docker zone (target ACCEPT, docker0 bound to it by
// Docker 20.10 and later) lets containers reach host sockets that firewalld
// closes to every outside source.
#include "findings/check.hpp"
#include "findings/manager_terms.hpp"

namespace dfa::checks {

void dfa018(const CheckContext& cx, std::vector<Finding>& out) {
  const FirewalldNames names(cx.snapshot);
  if (!names.active()) return;
  std::vector<std::string> sockets;
  std::string rule, example;
  for (const auto& en : cx.exposure.entries) {
    if (en.kind != EntryKind::socket) continue;
    bool outside_open = false;
    std::string hit, by;
    for (const auto& c : en.cells()) {
      const Outcome& o = *c.outcome;
      if (c.source_class.source.kind == Source::Kind::remote && o.result != Outcome::Result::dropped) outside_open = true;
      if (c.source_class.source.kind != Source::Kind::container || o.result != Outcome::Result::delivered) continue;
      if (!hit.empty()) continue;
      if (const auto r = names.rule(o.decided_by); r && r->zone_target() && r->direction == "IN") {
        hit = c.source + " to " + c.destination;
        by = o.decided_by;
      }
    }
    if (outside_open || hit.empty()) continue;
    sockets.push_back(en.what);
    if (rule.empty()) {
      rule = by;
      example = hit;
    }
  }
  if (sockets.empty()) return;
  add(out, "DFA018",
      fmt::format("containers reach {} host socket{} that firewalld closes to every outside source ({}; e.g. {}): {} "
                  "accepts everything from their bridge",
                  sockets.size(), sockets.size() == 1 ? "" : "s", sockets.front(), example, rule),
      {"", 0, logical_of(rule), stable_origin(rule)}, stable_origin(rule), [&] {
        Evidence ev;
        ev["decided_by"] = rule;
        put_examples(ev, "sockets", sockets);
        return ev;
      }());
}

}  // namespace dfa::checks
