// DFA008: iptables false, docker-proxy still listening.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa008(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const std::optional<bool>& iptables = cx.iptables;
  const Location& iptables_where = cx.iptables_where;
  if (!s.host) return;
  const HostFacts* host = &*s.host;
  if (iptables && !*iptables) {
    std::vector<std::string> proxied;
    for (const ListeningSocket& so : host->listening_sockets)
      if (so.process == "docker-proxy") proxied.push_back(fmt::format("{}/{}", so.port, so.protocol));
    if (!proxied.empty())
      add(out, "DFA008",
          fmt::format("Docker runs with iptables disabled and docker-proxy listens on {} port(s), e.g. {}",
                      proxied.size(), proxied.front()),
          iptables_where, "iptables-false", Evidence{{"docker_proxy_ports", proxied}});
  }
}

}  // namespace dfa::checks
