// DFA012: Docker's filter chains without DOCKER-USER in the path.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa012(const CheckContext& cx, std::vector<Finding>& out) {
  // With the nftables backend Docker has no DOCKER-USER (DFA015 covers one left behind).
  if (!cx.iptables.value_or(true) || cx.backend.nftables) return;
  const XtFilterTables all = xt_filter_tables(cx.snapshot);
  for (const auto& [where, chains] : all) {
    if (!chains.count("DOCKER") || !chains.count("FORWARD")) continue;
    bool has_user = chains.count("DOCKER-USER") > 0;
    const auto& fwd = chains.at("FORWARD").targets;
    bool jumped = std::find(fwd.begin(), fwd.end(), "DOCKER-USER") != fwd.end();
    if (has_user && jumped) continue;
    std::string message;
    std::size_t restrictions = 0;
    if (has_user) {
      message = fmt::format("{} FORWARD does not jump to DOCKER-USER: add the jump back first in FORWARD or restart Docker", where);
    } else {
      // The IPv6 table without the chain its IPv4 twin has: Docker 20.10
      // with ip6tables never makes it, and the IPv4 chain's rules do not
      // apply to IPv6.
      static const std::map<std::string, std::string> ipv4_twin = {{"nft:ip6/filter", "nft:ip/filter"},
                                                                   {"iptables-legacy:ipv6/filter", "iptables-legacy:ipv4/filter"}};
      const XtChain* user4 = nullptr;
      std::string twin;
      if (auto tw = ipv4_twin.find(where); tw != ipv4_twin.end()) {
        twin = tw->second;
        if (auto t = all.find(twin); t != all.end())
          if (auto u = t->second.find("DOCKER-USER"); u != t->second.end()) user4 = &u->second;
      }
      if (user4) {
        // Rules of the admin's there (more than Docker's own RETURN) are
        // restrictions the IPv6 traffic escapes: more than a tidy-up.
        restrictions = user4->rules - std::min(user4->rules, user4->bare_returns);
        message = fmt::format("{} has Docker's chains but no DOCKER-USER chain (Docker 20.10 makes none for IPv6): "
                              "what {}/DOCKER-USER holds ({} rule{} now{}) does not apply to containers' IPv6 traffic; "
                              "make the chain and jump to it (ip6tables -N DOCKER-USER; ip6tables -I FORWARD -j "
                              "DOCKER-USER) with the IPv6 counterparts, or filter both families in an nftables inet "
                              "forward chain",
                              where, twin, user4->rules, user4->rules == 1 ? "" : "s",
                              restrictions ? fmt::format(", {} besides a bare RETURN", restrictions) : "");
      } else {
        message = fmt::format("{} has Docker's chains but no DOCKER-USER chain", where);
      }
    }
    add(out, "DFA012", std::move(message), {"", 0, where + "/FORWARD"}, where);
    if (restrictions) out.back().severity = Severity::medium;
  }
}

}  // namespace dfa::checks
