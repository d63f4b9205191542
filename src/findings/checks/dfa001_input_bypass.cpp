// DFA001: delivered through DNAT although the input hook would drop it.
#include <algorithm>
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
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    FirewalldBypass fw;
    std::map<std::string, std::vector<Example>> bypassed;  // blocking rule -> source classes
    std::map<std::string, ExposureCell> example;
    std::unordered_map<const std::string*, std::vector<Example>*> by_decider;
    // The input rule that would drop it: the walk without NAT, shared
    // between classes that take one path (ExposureEntry::bare_walk).
    const std::size_t nd = en.destinations.size();
    for (std::size_t ci = 0; ci < en.walk.size(); ++ci)
      for (std::size_t k = 0; k < nd; ++k) {
        const ExposureCell c = en.cell(ci, k);
        if (!c.source_class.remote() || c.outcome->result != Outcome::Result::delivered || via_proxy(*c.outcome) ||
            c.outcome->container.empty())
          continue;
        // Let through by a forward rule of the admin's own (`ufw route
        // allow`, an accept in DOCKER-USER): meant to pass, not a bypass.
        if (!c.outcome->admin_accept.empty()) continue;
        const SourceClass* cls = &c.source_class;
        if (c.destination_addr.is_loopback()) continue;
        const ExposureEntry::Bare without = en.bare_walk(engine, ci, k);
        if (without.result != Outcome::Result::dropped || !without.dropped_at_input) continue;
        // decided_by is interned: its blocking rule is named once.
        auto [it, fresh] = by_decider.try_emplace(without.decided_by, nullptr);
        if (fresh) {
          std::string by = stable_origin(*without.decided_by);
          it->second = &bypassed[by];
          example.emplace(by, c);
        }
        it->second->push_back({cls, c.destination});
        if (firewalld.active()) fw.note(firewalld, c);
      }
    if (!x.keep_bare_walks) en.forget_bare_walks();
    fw.report(en, out);
    if (bypassed.empty()) continue;
    // One finding per published port, located at the first input rule it
    // bypasses and naming every other one: a host with 200 tenant chains has
    // one finding per port, not 200.
    const std::string& by = bypassed.begin()->first;
    std::vector<Example> all;
    std::vector<std::string> rules;
    std::size_t n = 0;
    for (const auto& kv : bypassed) n += kv.second.size();
    all.reserve(n);
    for (auto& [r, examples] : bypassed) {
      rules.push_back(r);
      all.insert(all.end(), examples.begin(), examples.end());
    }
    // Counted as every report counts: sources (classes), not cells.
    std::vector<char> reaches(en.walk.size());
    for (const auto& e : all) reaches[static_cast<std::size_t>(e.cls - en.classes->data())] = 1;
    const auto reaching = std::count(reaches.begin(), reaches.end(), 1);
    const std::size_t all_count = all.size();
    std::vector<Example> first = ordered(std::move(all), s, kMaxExamples);  // texts for these only
    const std::size_t nrules = rules.size();
    const ExposureCell& c = example.at(by);
    Json ev;
    ev["published"] = en.what;
    ev["blocking_rule"] = by;
    if (nrules > 1) put_examples(ev, "blocking_rules", std::move(rules));
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
