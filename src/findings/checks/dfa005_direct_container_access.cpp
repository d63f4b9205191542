// DFA005: container addresses reachable directly from outside.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa005(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  if (s.docker) {
    for (const Container* cp : s.docker->running()) {
      const Container& c = *cp;
      std::set<unsigned> published;
      for (const PortBinding& b : c.ports) published.insert(b.container_port);
      for (const ContainerNetwork& n : c.networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6}) {
          auto a = IpAddr::parse(*k);
          if (!a) continue;
          std::vector<std::pair<unsigned, std::string>> ports;
          for (unsigned p : published) ports.emplace_back(p, "published");
          ports.emplace_back(1, "unpublished");
          for (const auto& [port, kind] : ports) {
            std::vector<Example> examples;
            for (const auto& cls : x.classes) {
              if (!cls.remote() || !cls.source.addr || cls.source.addr->family != a->family) continue;
              Outcome o = engine.run(cls.source, *a, port, "tcp", false);
              if (o.result == Outcome::Result::delivered) examples.push_back({&cls, ""});
            }
            if (examples.empty()) continue;
            std::vector<std::string> reached = texts(ordered(std::move(examples), s));
            std::string where = a->family == 6 ? "[" + a->str() + "]" : a->str();
            add(out, "DFA005",
                fmt::format("container {} is reachable directly at {}:{} ({} port{}) from {}", c.name, where,
                            kind == "published" ? std::to_string(port) : std::string("*"), kind,
                            kind == "published" ? "" : "s", reached.front()),
                {"", 0, "docker:" + c.name},
                fmt::format("{}|{}|{}", c.name, n.network, kind == "published" ? std::to_string(port) : "unpublished"),
                Json{{"address", a->str()},
                     {"port", kind == "published" ? Json(port) : Json("unpublished")},
                     {"reached_by", reached}});
          }
        }
    }
  }
}

}  // namespace dfa::checks
