// DFA003: open to "any other address" on an external interface.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa003(const CheckContext& cx, std::vector<Finding>& out) {
  const Exposure& x = cx.exposure;
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    std::vector<std::string> any_open;
    for_cells(
        en, [](const SourceClass& c) { return c.unnamed; },
        [](const ExposureCell& c) {
          return c.outcome->result == Outcome::Result::delivered && !c.destination_addr.is_loopback();
        },
        [&](const ExposureCell& c, std::size_t, std::size_t) { any_open.push_back(c.source + " to " + c.destination); });
    if (!any_open.empty())
      add(out, "DFA003", fmt::format("{} is reachable from any address ({})", en.what, any_open.front()),
          {"", 0, "docker:" + en.owner}, en.what, [&] {
            Evidence ev;
            put_examples(ev, "reached_by", any_open);
            return ev;
          }());
  }
}

}  // namespace dfa::checks
