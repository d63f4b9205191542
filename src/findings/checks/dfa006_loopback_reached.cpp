// DFA006: a published port or a host service bound to loopback, reached
#include "findings/check.hpp"

namespace dfa::checks {

void dfa006(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Exposure& x = cx.exposure;
  // by another host.
  for (const auto& en : x.entries) {
    if (!en.bound || !en.bound->is_loopback()) continue;
    std::vector<Example> examples;
    for (const auto& c : en.cells())
      if (c.source_class.remote() && c.outcome->result == Outcome::Result::delivered)
        examples.push_back({&c.source_class, c.destination});
    std::vector<std::string> reached = texts(ordered(std::move(examples), s));
    if (reached.empty()) continue;
    bool published = en.kind == EntryKind::published;
    add(out, "DFA006",
        fmt::format("{}{} is bound to the loopback address but reachable from {}", published ? "" : "host service ",
                    en.what, reached.front()),
        {"", 0, published ? "docker:" + en.owner : "socket:" + en.what}, en.what, [&] {
          Evidence ev;
          put_examples(ev, "reached_by", reached);
          return ev;
        }());
  }
}

}  // namespace dfa::checks
