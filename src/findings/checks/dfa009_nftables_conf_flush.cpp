// DFA009: nftables.conf flushes the ruleset while Docker writes rules, and
// something loads it: nftables.service starts at boot (or the snapshot
// cannot say). A disabled, masked or absent service loads nothing.
#include <fmt/ranges.h>

#include "findings/check.hpp"

namespace dfa::checks {

void dfa009(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const std::optional<bool>& iptables = cx.iptables;
  if (!s.host) return;
  const HostFacts* host = &*s.host;
  const NftablesConfig& cfg = host->nftables_config;
  if (!cfg.flush_ruleset || !iptables.value_or(true)) return;
  const auto svc = host->services.find("nftables.service");
  std::string state = svc == host->services.end() ? "" : svc->second.state;
  if (state == "disabled" || state == "masked" || state == "absent") return;
  int line = cfg.flush_ruleset_lines.empty() ? 0 : static_cast<int>(cfg.flush_ruleset_lines.front());
  std::string message = fmt::format("{} runs `flush ruleset`, which deletes Docker's tables on every reload", cfg.path);
  Evidence ev;
  if (state == "enabled") {
    message = fmt::format(
        "{} runs `flush ruleset` and nftables.service is enabled (wanted by {}): every `systemctl reload` or restart "
        "of nftables deletes Docker's tables",
        cfg.path, fmt::join(svc->second.wanted_by, ", "));
    ev = Evidence{{"nftables_service", state}, {"wanted_by", svc->second.wanted_by}};
  } else if (!state.empty()) {
    message += " (whether nftables.service loads it could not be read: systemd is not the init here)";
    ev = Evidence{{"nftables_service", state}};
  }
  add(out, "DFA009", std::move(message), {cfg.path, line, ""}, cfg.path, std::move(ev));
}

}  // namespace dfa::checks
