// DFA005: container addresses reachable directly from outside.
// DFA014: the same where Docker was told to open them: the network's
// gateway mode (routed: published ports; nat-unprotected: every port), its
// trusted_host_interfaces (published ports, from those interfaces: Docker
// still drops the others, as the lab shows), or the daemon's
// allow-direct-routing (published ports).
#include "findings/check.hpp"

namespace dfa::checks {

namespace {
// Walks of remote classes to one container address and port, shared by
// classes that agree on every prefix the chains a walk entered name
// (SharedWalks, as exposure shares its walks). The probe is no entry of the
// exposure: every prefix counts for its port (none is left out as unable to
// match it), which shares less, never wrongly.
class DirectWalks {
 public:
  DirectWalks(const Exposure& x, int family, unsigned port, const std::string& proto) : x_(x), family_(family) {
    for (const auto& en : x.entries)
      if (en.family == family && en.facts) {
        probe_.family = family;
        probe_.facts = en.facts;
        probe_.classes = en.classes;
        probe_.relevant.assign(en.relevant.size(), 1);
        probe_.port = port;
        probe_.proto = proto;
        shared_.emplace(probe_);
        break;
      }
  }
  Outcome::Result result(const Engine& e, const SourceClass& cls, const IpAddr& to) {
    if (!shared_) return e.run(cls.source, to, probe_.port, probe_.proto, false).result;
    const std::size_t ci = static_cast<std::size_t>(&cls - x_.classes.data()) - x_.class_base.at(family_);
    if (auto w = shared_->find(ci)) return results_[*w];
    VisitedChains visited;
    Outcome::Result r = e.run(cls.source, to, probe_.port, probe_.proto, false, false, &visited).result;
    shared_->add(ci, static_cast<std::uint32_t>(results_.size()), visited);
    results_.push_back(r);
    return r;
  }

 private:
  const Exposure& x_;
  int family_;
  ExposureEntry probe_;
  std::optional<SharedWalks> shared_;
  std::vector<Outcome::Result> results_;
};
}  // namespace

void dfa005(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const Engine& engine = cx.engine;
  const Exposure& x = cx.exposure;
  Location direct_where;
  const bool allow_direct = docker_flag(s, "allow-direct-routing", direct_where).value_or(false);
  const std::string direct_at = direct_where.file.empty()
                                    ? direct_where.logical
                                    : fmt::format("{}:{}", direct_where.file, direct_where.line);
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
            const bool published_port = kind == "published";
            // What opens the address to a class on purpose ("" for nothing):
            // the identity suffix and the text that says so.
            auto designed_by = [&](const SourceClass& cls) -> std::pair<std::string, std::string> {
              if (mode == "nat-unprotected" || (mode == "routed" && published_port))
                return {"", fmt::format("network {}'s gateway mode {} (com.docker.network.bridge.gateway_mode_ipv{})",
                                        n.network, mode, a->family)};
              if (net && net->trusts(cls.source.iif) && published_port)
                return {"|trusted",
                        fmt::format("network {}'s trusted host interface {} "
                                    "(com.docker.network.bridge.trusted_host_interfaces)",
                                    n.network, cls.source.iif)};
              if (allow_direct && published_port && mode != "routed")
                return {"|allow-direct-routing", fmt::format("\"allow-direct-routing\": true ({})", direct_at)};
              return {"-", ""};
            };
            // Per reason ("-": none), the classes that reach the address,
            // walked once per group of classes that take one path. A reason
            // depends on the class's interface only: found once for each.
            std::map<std::pair<std::string, std::string>, std::vector<Example>> by_reason;
            std::map<std::string, std::vector<Example>*, std::less<>> of_iif;
            DirectWalks walks(x, a->family, port, proto);
            for (const auto& cls : x.classes) {
              if (!cls.remote() || !cls.source.addr || cls.source.addr->family != a->family) continue;
              if (walks.result(engine, cls, *a) != Outcome::Result::delivered) continue;
              auto it = of_iif.find(cls.source.iif);
              if (it == of_iif.end()) it = of_iif.emplace(cls.source.iif, &by_reason[designed_by(cls)]).first;
              it->second->push_back({&cls, ""});
            }
            for (auto& [reason, examples] : by_reason) {
              const bool designed = reason.first != "-";
              const std::size_t total = examples.size();
              std::vector<std::string> reached = texts(ordered(std::move(examples), s, kMaxExamples));
              // (Built here: clang cannot capture the structured binding port in a lambda.)
              Evidence ev{{"address", a->str()},
                      {"port", published_port ? Evidence::Value(port) : Evidence::Value("unpublished")},
                      {"protocol", proto},
                      {"gateway_mode", mode}};
              put_examples(ev, "reached_by", reached, total);
              std::string where = bracketed(*a);
              // TCP keeps the identity and text it always had; UDP says so.
              std::string udp = proto == "udp" ? "/udp" : "";
              add(out, designed ? "DFA014" : "DFA005",
                  fmt::format("container {} is reachable directly at {}:{}{} ({} port{}) from {}{}", c.name, where,
                              published_port ? std::to_string(port) : std::string("*"), udp, kind,
                              published_port ? "" : "s", reached.front(),
                              designed ? fmt::format(", as {} provides", reason.second) : ""),
                  {"", 0, "docker:" + c.name},
                  fmt::format("{}|{}|{}{}{}", c.name, n.network, published_port ? std::to_string(port) : "unpublished",
                              udp, designed ? reason.first : ""),
                  ev);
            }
          }
        }
    }
  }
}

}  // namespace dfa::checks
