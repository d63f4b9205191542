// DFA012: Docker's filter chains without DOCKER-USER in the path.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa012(const CheckContext& cx, std::vector<Finding>& out) {
  // With the nftables backend Docker has no DOCKER-USER (DFA015 covers one left behind).
  if (!cx.iptables.value_or(true) || cx.backend.nftables) return;
  for (const auto& [where, chains] : xt_filter_tables(cx.snapshot)) {
    if (!chains.count("DOCKER") || !chains.count("FORWARD")) continue;
    bool has_user = chains.count("DOCKER-USER") > 0;
    const auto& fwd = chains.at("FORWARD").targets;
    bool jumped = std::find(fwd.begin(), fwd.end(), "DOCKER-USER") != fwd.end();
    if (has_user && jumped) continue;
    add(out, "DFA012",
        has_user ? fmt::format("{} FORWARD does not jump to DOCKER-USER", where)
                 : fmt::format("{} has Docker's chains but no DOCKER-USER chain", where),
        {"", 0, where + "/FORWARD"}, where);
  }
}

}  // namespace dfa::checks
