// DFA010: icc=false networks with bridged traffic outside the ip hooks.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa010(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  if (!s.host) return;
  const HostFacts* host = &*s.host;
  if (s.docker) {
    for (const DockerNetwork& n : s.docker->networks) {
      if (n.driver != "bridge" || n.enable_icc.value_or(true)) continue;
      for (const char* knob : {"net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"}) {
        if (std::string(knob).find("ip6") != std::string::npos && !n.enable_ipv6) continue;
        if (host->sysctl(knob) == "1") continue;
        std::string key = knob;
        std::replace(key.begin(), key.end(), '/', '.');
        add(out, "DFA010",
            fmt::format(
                "network {} disables inter-container traffic, but {} is not 1: containers on {} still reach each other",
                n.name, key, n.bridge),
            {"", 0, "sysctl:" + key}, n.name + "|" + key);
      }
    }
  }
}

}  // namespace dfa::checks
