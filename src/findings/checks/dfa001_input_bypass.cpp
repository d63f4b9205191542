// DFA001: delivered through DNAT although the input hook would drop it.
#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "findings/check.hpp"
#include "findings/checks/dfa017_firewalld_dnat_accept.hpp"
#include "findings/manager_terms.hpp"

namespace dfa::checks {

namespace {

// One blocking input rule of a published entry: the classes that bypass it,
// as examples (a port met by thousands of classes on many destinations
// keeps a few), and the first cell (class, destination) that did.
struct Bypassed {
  std::uint32_t rule;
  ExampleSample sample;
  std::pair<std::size_t, std::size_t> example;
};

// What the cells of one published entry gave, kept for the family's next
// entries. An entry gives the same when its protocol and destination
// addresses are these, its classes are on the same walks with the same
// cells delivered through DNAT, and its port is one every walk without NAT
// asked here stands for (ExposureEntry::bare_walk's holds): the same walks
// then decide the same cells. A host publishing 1,000 ports that its rules
// treat alike walks their cells once, not 1,000 times.
struct Walked {
  const ExposureEntry* en = nullptr;
  ExposureEntry::PortRange holds{0, 65535};
  std::vector<char> delivered;  // per walk and destination (ExposureEntry::outcomes)
  std::vector<Bypassed> bypassed;  // in the order of their rules' names
  std::size_t reaching = 0;  // classes
  bool gives_the_same(const ExposureEntry& next, const std::vector<char>& next_delivered) const {
    return en && holds.first <= next.port && next.port <= holds.second && next.proto == en->proto &&
           next.destination_addrs == en->destination_addrs && next.walk == en->walk && next_delivered == delivered;
  }
  // An example found on en's cells, as the same class on next's.
  Example on(const ExposureEntry& next, Example e) const {
    for (std::size_t k = 0; k < en->destinations.size(); ++k)
      if (e.destination.data() == en->destinations[k].data()) e.destination = next.destinations[k];
    return e;
  }
};

// Delivered to a container through DNAT, not let through by a forward rule
// of the admin's own (`ufw route allow`, an accept in DOCKER-USER): such a
// cell is meant to pass, not a bypass.
bool dnat_delivered(const Outcome& o, const IpAddr& destination) {
  return o.result == Outcome::Result::delivered && !via_proxy(o) && !o.container.empty() && o.admin_accept.empty() &&
         !destination.is_loopback();
}

}  // namespace

void dfa001(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  // DFA017 comes from the same walks: a bypass firewalld's DNAT acceptance
  // decides. It reads each cell's own outcome, so on firewalld's hosts
  // every entry's cells are looked at.
  const FirewalldNames firewalld(s);
  const bool reuse = !firewalld.active();
  // Each class's rank as an example, found once per family's classes.
  const ExampleRank rank(s);
  std::unordered_map<const std::vector<SourceClass>*, std::vector<signed char>> ranks;
  std::unordered_map<const std::vector<SourceClass>*, Walked> walked;  // per family: the last entry walked
  // Blocking rules named once for the whole check: a decider (interned) ->
  // the number of its rule without the handle; rule_text[number].
  std::unordered_map<const std::string*, std::uint32_t> rule_of_decider;
  std::unordered_map<std::string, std::uint32_t> rule_number;
  std::vector<const std::string*> rule_text;
  std::vector<std::uint32_t> slot_of_rule;  // rule -> its slot in this port's list, or UINT32_MAX
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    const std::vector<SourceClass>& classes = *en.classes;
    std::vector<signed char>& rank_of = ranks[&classes];
    if (rank_of.empty())
      for (const SourceClass& c : classes) rank_of.push_back(static_cast<signed char>(rank(c)));
    const std::size_t nd = en.destinations.size();
    std::vector<char> delivered(en.outcomes.size());
    for (std::size_t slot = 0; slot < delivered.size(); ++slot)
      delivered[slot] = dnat_delivered(*en.outcomes[slot], en.destination_addrs[slot % nd]);
    Walked& w = walked[&classes];
    if (!reuse || !w.gives_the_same(en, delivered)) {
      w = Walked{&en, {0, 65535}, std::move(delivered), {}, 0};
      FirewalldBypass fw;
      const std::string* last_decider = nullptr;  // consecutive cells mostly share it
      ExampleSample* last_sample = nullptr;
      // The input rule that would drop it: the walk without NAT, shared
      // between classes that take one path (ExposureEntry::bare_walk).
      // Asked of remote classes' cells delivered through DNAT.
      for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
        if (!classes[ci].remote()) continue;
        const std::size_t base = en.walk[ci] * nd;
        bool reaches = false;
        for (std::size_t k = 0; k < nd; ++k) {
          if (!w.delivered[base + k]) continue;
          ExposureEntry::PortRange holds;
          const ExposureEntry::Bare without = en.bare_walk(engine, ci, k, &holds);
          w.holds = {std::max(w.holds.first, holds.first), std::min(w.holds.second, holds.second)};
          if (without.result != Outcome::Result::dropped || !without.dropped_at_input) continue;
          if (without.decided_by != last_decider) {
            auto [d, fresh_decider] = rule_of_decider.try_emplace(without.decided_by, 0);
            if (fresh_decider) {
              auto [r, fresh_rule] = rule_number.try_emplace(stable_origin(*without.decided_by),
                                                             static_cast<std::uint32_t>(rule_text.size()));
              if (fresh_rule) {
                rule_text.push_back(&r->first);
                slot_of_rule.push_back(UINT32_MAX);
              }
              d->second = r->second;
            }
            std::uint32_t& slot = slot_of_rule[d->second];
            if (slot == UINT32_MAX) {
              slot = static_cast<std::uint32_t>(w.bypassed.size());
              w.bypassed.push_back({d->second, {}, {ci, k}});
            }
            last_decider = without.decided_by;
            last_sample = &w.bypassed[slot].sample;
          }
          last_sample->add(rank_of[ci], {&classes[ci], en.destinations[k]});
          reaches = true;
          if (firewalld.active()) fw.note(firewalld, en.cell(ci, k));
        }
        w.reaching += reaches;
      }
      for (const Bypassed& b : w.bypassed) slot_of_rule[b.rule] = UINT32_MAX;
      if (!x.keep_bare_walks) en.forget_bare_walks();
      fw.report(en, out);
      std::sort(w.bypassed.begin(), w.bypassed.end(),
                [&](const Bypassed& a, const Bypassed& b) { return *rule_text[a.rule] < *rule_text[b.rule]; });
    }
    if (w.bypassed.empty()) continue;
    // One finding per published port, located at the first input rule it
    // bypasses (in the order of their names) and naming every other one: a
    // host with 200 tenant chains has one finding per port, not 200.
    const std::string& by = *rule_text[w.bypassed.front().rule];
    std::vector<std::string> rules;
    std::vector<const ExampleSample*> samples;
    std::size_t all_count = 0;
    for (const Bypassed& b : w.bypassed) {
      if (rules.size() < kMaxExamples) rules.push_back(*rule_text[b.rule]);
      samples.push_back(&b.sample);
      all_count += b.sample.total();
    }
    // Counted as every report counts: sources (classes), not cells.
    std::vector<Example> first = ExampleSample::first(samples);  // texts for these only
    for (Example& e : first) e = w.on(en, e);
    const std::size_t nrules = w.bypassed.size();
    const auto [eci, ek] = w.bypassed.front().example;
    const ExposureCell c = en.cell(eci, ek);
    Evidence ev;
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
                    en.what, w.reaching, en.walk.size(), first.front().cls->label, first.front().destination, by,
                    others, nrules > 1 ? "" : "s", c.outcome->decided_by),
        {"", 0, logical_of(by), by}, fmt::format("{}|{}", en.what, by), ev,
        engine.run(c.source_class.source, c.destination_addr, en.port, en.proto, true).steps);
  }
}

}  // namespace dfa::checks
