// DFA005: container addresses reachable directly from outside.
// DFA014: the same where the network's gateway mode opens them on purpose
// (routed: published ports; nat-unprotected: every port).
#include "findings/check.hpp"

namespace dfa::checks {

void dfa005(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  if (s.docker) {
    for (const Container* cp : s.docker->running()) {
      const Container& c = *cp;
      // Published container ports with their protocol (a UDP port is probed
      // as UDP: rules often tell the two apart).
      std::set<std::pair<unsigned, std::string>> published;
      for (const PortBinding& b : c.ports) published.insert({b.container_port, b.protocol});
      for (const ContainerNetwork& n : c.networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6}) {
          auto a = IpAddr::parse(*k);
          if (!a) continue;
          const DockerNetwork* net = s.docker->network(n.network);
          std::string mode = net ? net->gateway_mode(a->family) : "";
          struct Probe {
            unsigned port;
            std::string proto, kind;
          };
          std::vector<Probe> ports;
          for (const auto& [p, proto] : published) ports.push_back({p, proto, "published"});
          ports.push_back({1, "tcp", "unpublished"});
          for (const auto& [port, proto, kind] : ports) {
            std::vector<Example> examples;
            for (const auto& cls : x.classes) {
              if (!cls.remote() || !cls.source.addr || cls.source.addr->family != a->family) continue;
              Outcome o = engine.run(cls.source, *a, port, proto, false);
              if (o.result == Outcome::Result::delivered) examples.push_back({&cls, ""});
            }
            if (examples.empty()) continue;
            std::vector<std::string> reached = texts(ordered(std::move(examples), s));
            std::string where = a->family == 6 ? "[" + a->str() + "]" : a->str();
            // TCP keeps the identity and text it always had; UDP says so.
            std::string udp = proto == "udp" ? "/udp" : "";
            bool designed = mode == "nat-unprotected" || (mode == "routed" && kind == "published");
            add(out, designed ? "DFA014" : "DFA005",
                fmt::format("container {} is reachable directly at {}:{}{} ({} port{}) from {}{}", c.name, where,
                            kind == "published" ? std::to_string(port) : std::string("*"), udp, kind,
                            kind == "published" ? "" : "s", reached.front(),
                            designed ? fmt::format(", as network {}'s gateway mode {} (com.docker.network.bridge.gateway_mode_ipv{}) provides",
                                                   n.network, mode, a->family)
                                     : ""),
                {"", 0, "docker:" + c.name},
                fmt::format("{}|{}|{}{}", c.name, n.network, kind == "published" ? std::to_string(port) : "unpublished", udp),
                Json{{"address", a->str()},
                     {"port", kind == "published" ? Json(port) : Json("unpublished")},
                     {"protocol", proto},
                     {"gateway_mode", mode},
                     {"reached_by", reached}});
          }
        }
    }
  }
}

}  // namespace dfa::checks
