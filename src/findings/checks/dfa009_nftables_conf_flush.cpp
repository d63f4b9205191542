// DFA009: nftables.conf flushes the ruleset while Docker writes rules.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa009(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const std::optional<bool>& iptables = cx.iptables;
  if (!s.host) return;
  const HostFacts* host = &*s.host;
  const NftablesConfig& cfg = host->nftables_config;
  if (cfg.flush_ruleset && iptables.value_or(true)) {
    int line = cfg.flush_ruleset_lines.empty() ? 0 : static_cast<int>(cfg.flush_ruleset_lines.front());
    add(out, "DFA009", fmt::format("{} runs `flush ruleset`, which deletes Docker's tables on every reload", cfg.path),
        {cfg.path, line, ""}, cfg.path);
  }
}

}  // namespace dfa::checks
