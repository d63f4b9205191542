// DFA007: route_localnet on an interface that faces other hosts.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa007(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  if (!s.host) return;
  const HostFacts* host = &*s.host;
  std::set<std::string> bridges;
  if (s.docker)
    for (const DockerNetwork& n : s.docker->networks) bridges.insert(n.bridge);
  for (const auto& [k, v] : host->sysctls) {
    if (v != "1") continue;
    if (k.rfind("net/ipv4/conf/", 0) != 0 || k.size() < 15 || k.find("/route_localnet") == std::string::npos) continue;
    std::string iface = k.substr(14, k.find('/', 14) - 14);
    if (iface == "lo" || iface == "default" || bridges.count(iface)) continue;
    std::string key = k;
    std::replace(key.begin(), key.end(), '/', '.');
    add(out, "DFA007", fmt::format("{} = 1", key), {"", 0, "sysctl:" + key}, key);
  }
}

}  // namespace dfa::checks
