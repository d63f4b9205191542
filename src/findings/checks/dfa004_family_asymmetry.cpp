// DFA004: the same published port, open from anywhere over one family and
// closed over the other, for arrivals on the same interface (a DOCKER-USER
// or forward rule written for IPv4 only, IPv6 reaching docker-proxy).
#include <fmt/ranges.h>

#include "findings/check.hpp"

namespace dfa::checks {

void dfa004(const CheckContext& cx, std::vector<Finding>& out) {
  const Exposure& x = cx.exposure;
  auto key_of = [](const ExposureEntry& en) {
    return std::pair{en.owner, fmt::format(":{}->{}/{}", en.port, en.target_port, en.proto)};
  };
  enum class State { closed, uncertain, open };
  // (web, :8080->80/tcp) -> arrival interface -> family -> what an unnamed source gets
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::map<int, State>>> any;
  // Same keys: every open cell was let through by a forward rule of the
  // admin's own (Outcome::admin_accept): that family was opened on purpose.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::map<int, bool>>> meant;
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    const auto key = key_of(en);
    auto& by_iface = any[key];
    auto& meant_by_iface = meant[key];
    auto unnamed = [](const SourceClass& c) { return c.unnamed; };
    auto not_loopback = [](const ExposureCell& c) { return !c.destination_addr.is_loopback(); };
    for_cells(en, unnamed, not_loopback, [&](const ExposureCell& c, std::size_t, std::size_t) {
      State st = c.outcome->result == Outcome::Result::delivered   ? State::open
                 : c.outcome->result == Outcome::Result::uncertain ? State::uncertain
                                                                   : State::closed;
      auto [it, fresh] = by_iface[c.source_class.source.iif].try_emplace(en.family, st);
      if (!fresh) it->second = std::max(it->second, st);
      if (st == State::open) {
        auto [m, first] = meant_by_iface[c.source_class.source.iif].try_emplace(en.family, true);
        m->second = m->second && !c.outcome->admin_accept.empty();
      }
    });
  }
  for (const auto& [key, by_iface] : any) {
    std::vector<std::string> ifaces;
    int open_family = 0;
    bool mixed = false;
    for (const auto& [iface, fams] : by_iface) {
      if (fams.size() != 2) continue;
      State v4 = fams.at(4), v6 = fams.at(6);
      if (v4 == State::uncertain || v6 == State::uncertain || v4 == v6) continue;
      int fam = v4 == State::open ? 4 : 6;
      // Opened in that family by the admin's own forward rule (`ufw route
      // allow`) and not in the other: what the admin wrote, not a hole.
      if (meant.at(key).at(iface).at(fam)) continue;
      if (open_family && open_family != fam) mixed = true;
      open_family = fam;
      ifaces.push_back(iface);
    }
    if (ifaces.empty()) continue;
    std::string what = key.first + " " + key.second;
    std::string where = fmt::format("{}", fmt::join(ifaces, ", "));
    add(out, "DFA004",
        mixed ? fmt::format("{} is open from any address over one family and closed over the other, on {}", what,
                            where)
              : fmt::format("{} is open from any address over IPv{} and closed over IPv{}, on {}", what,
                            open_family, open_family == 4 ? 6 : 4, where),
        {"", 0, "docker:" + key.first}, what,
        Evidence{{"interfaces", ifaces}, {"open_family", mixed ? Evidence::Value(nullptr) : Evidence::Value(open_family)}});
  }
}

}  // namespace dfa::checks
