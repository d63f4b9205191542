// DFA001: delivered through DNAT although the input hook would drop it.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa001(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    std::map<std::string, std::vector<Example>> bypassed;  // blocking rule -> source classes
    std::map<std::string, ExposureCell> example;
    std::map<std::string, std::vector<Step>> example_flow;  // the DNAT path, for SARIF codeFlows
    for (const auto& c : en.cells()) {
      if (!c.source_class.remote() || c.outcome->result != Outcome::Result::delivered || via_proxy(*c.outcome) ||
          c.outcome->container.empty())
        continue;
      const SourceClass* cls = &c.source_class;
      const IpAddr* dst = &c.destination_addr;
      if (dst->is_loopback()) continue;
      Outcome without = engine.run(cls->source, *dst, en.port, en.proto, true, true);
      if (without.result != Outcome::Result::dropped) continue;
      bool at_input = std::any_of(without.steps.begin(), without.steps.end(),
                                  [&](const Step& st) { return st.hook == "input" && st.drops; });
      if (!at_input) continue;
      std::string by = stable_origin(without.decided_by);
      bypassed[by].push_back({cls, c.destination});
      if (example.emplace(by, c).second)
        example_flow[by] = engine.run(cls->source, *dst, en.port, en.proto, true).steps;
    }
    for (auto& [by, examples] : bypassed) {
      std::vector<Example> first = ordered(std::move(examples), s);
      std::vector<std::string> sources = texts(first);
      const ExposureCell& c = example.at(by);
      Json ev;
      ev["published"] = en.what;
      ev["blocking_rule"] = by;
      ev["reached_by"] = sources;
      ev["target"] = c.outcome->target;
      ev["decided_by"] = c.outcome->decided_by;
      add(out, "DFA001",
          fmt::format("{} is reachable from {} source class(es) (e.g. {} to {}) although {} drops it: Docker's DNAT "
                      "forwards the packet before the input hook; {} decides",
                      en.what, sources.size(), first.front().cls->label, first.front().destination, by,
                      c.outcome->decided_by),
          {"", 0, logical_of(by)}, fmt::format("{}|{}", en.what, by), ev, example_flow[by]);
    }
  }
}

}  // namespace dfa::checks
