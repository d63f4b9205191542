// DFA004: the same published port, open from anywhere over one family only.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa004(const CheckContext& cx, std::vector<Finding>& out) {
  const Exposure& x = cx.exposure;
  std::map<std::pair<std::string, std::string>, std::map<int, bool>>
      open_any;  // (web, :8080->80/tcp) -> family -> open
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    bool open = false;
    for (const auto& c : en.cells())
      if (c.source_class.unnamed && c.outcome->result == Outcome::Result::delivered &&
          !c.destination_addr.is_loopback())
        open = true;
    open_any[{en.owner, fmt::format(":{}->{}/{}", en.port, en.target_port, en.proto)}][en.family] |= open;
  }
  for (const auto& [key, fams] : open_any)
    if (fams.size() == 2 && fams.at(4) != fams.at(6)) {
      std::string what = key.first + " " + key.second;
      add(out, "DFA004",
          fmt::format("{} is open from any address over IPv{} and closed over IPv{}", what, fams.at(4) ? 4 : 6,
                      fams.at(4) ? 6 : 4),
          {"", 0, "docker:" + key.first}, what, Json{{"ipv4_open", fams.at(4)}, {"ipv6_open", fams.at(6)}});
    }
}

}  // namespace dfa::checks
