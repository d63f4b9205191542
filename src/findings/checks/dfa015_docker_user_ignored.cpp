// DFA015: rules in DOCKER-USER that no packet meets, because Docker writes
// its rules with nftables (Docker 29's firewall-backend) and nothing jumps
// to the chain any more.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa015(const CheckContext& cx, std::vector<Finding>& out) {
  if (!cx.backend.nftables || !cx.iptables.value_or(true)) return;
  for (const auto& [where, chains] : xt_filter_tables(cx.snapshot)) {
    auto user = chains.find("DOCKER-USER");
    if (user == chains.end() || user->second.rules == 0) continue;
    bool jumped = false;
    for (const auto& [name, chain] : chains)
      if (name != "DOCKER-USER")
        jumped |= std::find(chain.targets.begin(), chain.targets.end(), "DOCKER-USER") != chain.targets.end();
    if (jumped) continue;
    const Location& at = cx.backend.where;
    std::string said_at = at.file.empty() ? at.logical : fmt::format("{}:{}", at.file, at.line);
    Evidence evidence = {{"rules", user->second.rules},
                     {"firewall_backend", cx.backend.said},
                     {"firewall_backend_set_at", said_at}};
    add(out, "DFA015",
        fmt::format("{}/DOCKER-USER holds {} rule{} that no packet meets: Docker writes its rules with "
                    "{} ({}) and nothing jumps to the chain",
                    where, user->second.rules, user->second.rules == 1 ? "" : "s", cx.backend.said, said_at),
        {"", 0, where + "/DOCKER-USER"}, where, std::move(evidence));
  }
}

}  // namespace dfa::checks
