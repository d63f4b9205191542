#include "analyze/audience.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <span>
#include <string_view>
#include <unordered_map>

namespace dfa {

std::string_view to_string(Audience a) {
  switch (a) {
    case Audience::any: return "any address";
    case Audience::networks: return "networks";
    case Audience::host: return "the host";
    case Audience::containers: return "containers";
  }
  return "?";
}

std::string_view to_string(Reach r) {
  switch (r) {
    case Reach::open: return "open";
    case Reach::uncertain: return "uncertain";
    case Reach::closed: return "closed";
  }
  return "?";
}

Audience audience_of(const SourceClass& c) {
  switch (c.source.kind) {
    case Source::Kind::host: return Audience::host;
    case Source::Kind::container: return Audience::containers;
    case Source::Kind::remote: break;
  }
  return c.unnamed ? Audience::any : Audience::networks;
}

Reach AudienceRow::state() const {
  if (!of(Reach::open).empty()) return Reach::open;
  if (!of(Reach::uncertain).empty()) return Reach::uncertain;
  return Reach::closed;
}

std::string EntrySummary::headline() const {
  if (open)
    return uncertain ? fmt::format("open to {} of {} sources, uncertain for {}", open, sources, uncertain)
                     : fmt::format("open to {} of {} sources", open, sources);
  if (uncertain) return fmt::format("not proven closed: uncertain for {} of {} sources", uncertain, sources);
  return sources ? fmt::format("closed to all {} sources", sources) : "no sources";
}

EntrySummary summarize(const ExposureEntry& en) {
  EntrySummary s;
  std::array<AudienceRow, 4> rows;
  std::array<bool, 4> present{};
  const std::size_t nd = en.destinations.size();
  // Per walk (classes sharing one are alike): its reach over the destinations.
  std::vector<Reach> of_walk;
  for (std::size_t w = 0; nd && w * nd < en.outcomes.size(); ++w) {
    Reach r = Reach::closed;
    for (std::size_t k = 0; k < nd; ++k) {
      auto res = en.outcomes[w * nd + k]->result;
      if (res == Outcome::Result::delivered) r = Reach::open;
      else if (res == Outcome::Result::uncertain && r == Reach::closed) r = Reach::uncertain;
    }
    of_walk.push_back(r);
  }
  for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
    const SourceClass& c = (*en.classes)[ci];
    auto a = static_cast<std::size_t>(audience_of(c));
    Reach r = en.walk[ci] < of_walk.size() ? of_walk[en.walk[ci]] : Reach::closed;
    rows[a].who = static_cast<Audience>(a);
    present[a] = true;
    rows[a].by_reach[static_cast<std::size_t>(r)].push_back(ci);
    ++s.sources;
    if (r == Reach::open) ++s.open;
    if (r == Reach::uncertain) ++s.uncertain;
  }
  for (std::size_t a = 0; a < rows.size(); ++a)
    if (present[a]) s.rows.push_back(std::move(rows[a]));
  return s;
}

namespace {
// A remote class's label without its " on IFACE".
std::string_view what_of(const SourceClass& c) {
  std::string_view l = c.label;
  const std::string& iif = c.source.iif;
  if (l.size() > iif.size() + 4 && l.substr(l.size() - iif.size()) == iif &&
      l.substr(l.size() - iif.size() - 4, 4) == " on ")
    l.remove_suffix(iif.size() + 4);
  return l;
}
}  // namespace

void number_networks(std::vector<SourceClass>& classes) {
  std::unordered_map<std::string_view, std::uint32_t> id;
  for (SourceClass& c : classes)
    c.network = id.try_emplace(what_of(c), static_cast<std::uint32_t>(id.size())).first->second;
}

std::string describe(const ExposureEntry& en, const AudienceRow& row, Reach r) {
  const auto& idx = row.of(r);
  if (idx.empty()) return "";
  const auto& classes = *en.classes;
  switch (row.who) {
    case Audience::host: return "";
    case Audience::containers: {
      std::vector<std::string> nets;
      for (auto ci : idx) {
        std::string_view l = classes[ci].label;
        if (l.rfind("containers on ", 0) == 0) l.remove_prefix(14);
        nets.emplace_back(l);
      }
      return fmt::format("on {}", fmt::join(nets, ", "));
    }
    case Audience::any: {
      std::vector<std::string> ifs;
      for (auto ci : idx) ifs.push_back(classes[ci].source.iif);
      return fmt::format("on {}", fmt::join(ifs, ", "));
    }
    case Audience::networks: break;
  }
  // Networks: each named once with the interfaces it arrives on; when every
  // one arrives on the same interfaces, they are said once at the end.
  // Flat: a slot per network in the order first met, then each network's
  // interfaces in order, found by a counting sort of (slot, interface).
  std::vector<std::string_view> order;
  std::vector<std::uint32_t> slot_of(idx.size());
  std::uint32_t networks = 0;  // numbered (number_networks): a slot by number
  for (auto ci : idx) networks = classes[ci].network == UINT32_MAX ? UINT32_MAX : std::max(networks, classes[ci].network + 1);
  if (networks != UINT32_MAX) {
    std::vector<std::uint32_t> slot(networks, UINT32_MAX);
    for (std::size_t i = 0; i < idx.size(); ++i) {
      std::uint32_t& sl = slot[classes[idx[i]].network];
      if (sl == UINT32_MAX) {
        sl = static_cast<std::uint32_t>(order.size());
        order.push_back(what_of(classes[idx[i]]));
      }
      slot_of[i] = sl;
    }
  } else {
    std::unordered_map<std::string_view, std::uint32_t> slot;
    slot.reserve(idx.size());
    for (std::size_t i = 0; i < idx.size(); ++i) {
      std::string_view w = what_of(classes[idx[i]]);
      auto [it, fresh] = slot.try_emplace(w, static_cast<std::uint32_t>(order.size()));
      if (fresh) order.push_back(w);
      slot_of[i] = it->second;
    }
  }
  std::vector<std::uint32_t> start(order.size() + 1);
  for (auto sl : slot_of) ++start[sl + 1];
  for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
  std::vector<std::string_view> iifs(idx.size());
  {
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < idx.size(); ++i) iifs[fill[slot_of[i]]++] = classes[idx[i]].source.iif;
  }
  auto ifs = [&](std::size_t sl) {
    return std::span<const std::string_view>(iifs.data() + start[sl], start[sl + 1] - start[sl]);
  };
  // A line for people: the first few networks, then how many more (the
  // JSON's cells have every one).
  constexpr std::size_t kNamed = 12;
  const std::size_t more = order.size() > kNamed ? order.size() - kNamed : 0;
  bool same = true;
  for (std::size_t sl = 1; same && sl < order.size(); ++sl) same = std::ranges::equal(ifs(sl), ifs(0));
  order.resize(order.size() - more);
  if (same)
    return fmt::format("{}{} on {}", fmt::join(order, ", "), more ? fmt::format(" and {} more", more) : "",
                       fmt::join(ifs(0), ", "));
  std::vector<std::string> parts;
  for (std::size_t sl = 0; sl < order.size(); ++sl) parts.push_back(fmt::format("{} on {}", order[sl], fmt::join(ifs(sl), ", ")));
  if (more) parts.push_back(fmt::format("and {} more", more));
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string describe(const ExposureEntry& en, const AudienceRow& row) {
  std::vector<std::string> parts;
  for (Reach r : {Reach::open, Reach::uncertain, Reach::closed}) {
    if (row.of(r).empty()) continue;
    std::string word = r == Reach::open ? "OPEN" : r == Reach::uncertain ? "UNCERTAIN" : "closed";
    std::string d = describe(en, row, r);
    parts.push_back(d.empty() ? word : word + " " + d);
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace dfa
