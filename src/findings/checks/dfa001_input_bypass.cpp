// DFA001: delivered through DNAT although the input hook would drop it.
#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "findings/check.hpp"
#include "findings/checks/dfa017_firewalld_dnat_accept.hpp"
#include "findings/manager_terms.hpp"

namespace dfa::checks {

void dfa001(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  // DFA017 comes from the same walks: a bypass firewalld's DNAT acceptance decides.
  const FirewalldNames firewalld(s);
  // Each class's rank as an example, found once per family's classes.
  const ExampleRank rank(s);
  std::unordered_map<const std::vector<SourceClass>*, std::vector<signed char>> ranks;
  // Blocking rules named once for the whole check: a decider (interned) ->
  // the number of its rule without the handle; rule_text[number].
  std::unordered_map<const std::string*, std::uint32_t> rule_of_decider;
  std::unordered_map<std::string, std::uint32_t> rule_number;
  std::vector<const std::string*> rule_text;
  // One port's blocking rules: the classes that bypass each, as examples (a
  // port met by thousands of classes on many destinations keeps a few), and
  // the first cell that did.
  struct Bypassed {
    std::uint32_t rule;
    ExampleSample sample;
    ExposureCell example;
  };
  std::vector<std::uint32_t> slot_of_rule;  // rule -> its slot in this port's list, or UINT32_MAX
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    std::vector<signed char>& rank_of = ranks[en.classes.get()];
    if (rank_of.empty())
      for (const SourceClass& c : *en.classes) rank_of.push_back(static_cast<signed char>(rank(c)));
    FirewalldBypass fw;
    std::vector<Bypassed> bypassed;
    const std::string* last_decider = nullptr;  // consecutive cells mostly share it
    ExampleSample* last_sample = nullptr;
    std::vector<char> reaches(en.walk.size());  // per class
    // The input rule that would drop it: the walk without NAT, shared
    // between classes that take one path (ExposureEntry::bare_walk). Asked
    // of remote classes' cells delivered to a container through DNAT, not
    // let through by a forward rule of the admin's own (`ufw route allow`,
    // an accept in DOCKER-USER): meant to pass, not a bypass.
    auto remote = [](const SourceClass& c) { return c.remote(); };
    auto dnat_delivered = [](const ExposureCell& c) {
      const Outcome& o = *c.outcome;
      return o.result == Outcome::Result::delivered && !via_proxy(o) && !o.container.empty() &&
             o.admin_accept.empty() && !c.destination_addr.is_loopback();
    };
    for_cells(en, remote, dnat_delivered, [&](const ExposureCell& c, std::size_t ci, std::size_t k) {
      const ExposureEntry::Bare without = en.bare_walk(engine, ci, k);
      if (without.result != Outcome::Result::dropped || !without.dropped_at_input) return;
      if (without.decided_by != last_decider) {
        auto [d, fresh_decider] = rule_of_decider.try_emplace(without.decided_by, 0);
        if (fresh_decider) {
          auto [r, fresh_rule] =
              rule_number.try_emplace(stable_origin(*without.decided_by), static_cast<std::uint32_t>(rule_text.size()));
          if (fresh_rule) {
            rule_text.push_back(&r->first);
            slot_of_rule.push_back(UINT32_MAX);
          }
          d->second = r->second;
        }
        std::uint32_t& slot = slot_of_rule[d->second];
        if (slot == UINT32_MAX) {
          slot = static_cast<std::uint32_t>(bypassed.size());
          bypassed.push_back({d->second, {}, c});
        }
        last_decider = without.decided_by;
        last_sample = &bypassed[slot].sample;
      }
      last_sample->add(rank_of[ci], {&c.source_class, c.destination});
      reaches[ci] = 1;
      if (firewalld.active()) fw.note(firewalld, c);
    });
    for (const Bypassed& b : bypassed) slot_of_rule[b.rule] = UINT32_MAX;
    if (!x.keep_bare_walks) en.forget_bare_walks();
    fw.report(en, out);
    if (bypassed.empty()) continue;
    // One finding per published port, located at the first input rule it
    // bypasses (in the order of their names) and naming every other one: a
    // host with 200 tenant chains has one finding per port, not 200.
    std::vector<const Bypassed*> in_order;
    for (const Bypassed& b : bypassed) in_order.push_back(&b);
    std::sort(in_order.begin(), in_order.end(),
              [&](const Bypassed* a, const Bypassed* b) { return *rule_text[a->rule] < *rule_text[b->rule]; });
    const std::string& by = *rule_text[in_order.front()->rule];
    std::vector<std::string> rules;
    std::vector<const ExampleSample*> samples;
    std::size_t all_count = 0;
    for (const Bypassed* b : in_order) {
      if (rules.size() < kMaxExamples) rules.push_back(*rule_text[b->rule]);
      samples.push_back(&b->sample);
      all_count += b->sample.total();
    }
    // Counted as every report counts: sources (classes), not cells.
    const auto reaching = std::count(reaches.begin(), reaches.end(), 1);
    const std::vector<Example> first = ExampleSample::first(samples);  // texts for these only
    const std::size_t nrules = in_order.size();
    const ExposureCell& c = in_order.front()->example;
    Json ev;
    ev["published"] = en.what;
    ev["blocking_rule"] = by;
    if (nrules > 1) put_examples(ev, "blocking_rules", std::move(rules), nrules);
    put_examples(ev, "reached_by", texts(first), all_count);
    ev["target"] = c.outcome->target;
    ev["decided_by"] = c.outcome->decided_by;
    std::string others = nrules > 1 ? fmt::format(" and {} other input rule(s)", nrules - 1) : "";
    add(out, "DFA001",
        fmt::format("{} is reachable from {} of {} sources (e.g. {} to {}) although {}{} drop{} it: Docker's DNAT "
                    "forwards the packet before the input hook; {} decides",
                    en.what, reaching, en.walk.size(), first.front().cls->label, first.front().destination, by, others,
                    nrules > 1 ? "" : "s", c.outcome->decided_by),
        {"", 0, logical_of(by), by}, fmt::format("{}|{}", en.what, by), ev,
        engine.run(c.source_class.source, c.destination_addr, en.port, en.proto, true).steps);
  }
}

}  // namespace dfa::checks
