// DFA016: Docker writes its iptables rules through one backend (iptables-nft
// or iptables-legacy) and another firewall, ufw most often, through the
// other. Both tables see every packet and both must accept it, so the other
// firewall's forward policy drops the published ports Docker opens (and its
// containers' traffic), though Docker's own rules accept them.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa016(const CheckContext& cx, std::vector<Finding>& out) {
  if (cx.backend.nftables || !cx.iptables.value_or(true)) return;
  const XtFilterTables tables = xt_filter_tables(cx.snapshot);
  struct Side {
    const char* key;     // xt_filter_tables' name
    const char* origin;  // how a rule origin of it begins
    const char* tool;
  };
  for (int fam : {4, 6}) {
    const Side nft{fam == 4 ? "nft:ip/filter" : "nft:ip6/filter", fam == 4 ? "nft ip filter " : "nft ip6 filter ",
                   fam == 4 ? "iptables-nft" : "ip6tables-nft"};
    const Side legacy{fam == 4 ? "iptables-legacy:ipv4/filter" : "iptables-legacy:ipv6/filter",
                      fam == 4 ? "iptables-legacy ipv4 filter " : "iptables-legacy ipv6 filter ",
                      fam == 4 ? "iptables-legacy" : "ip6tables-legacy"};
    auto has_docker = [&](const Side& sd) {
      auto t = tables.find(sd.key);
      return t != tables.end() && (t->second.count("DOCKER") || t->second.count("DOCKER-FORWARD"));
    };
    const bool in_nft = has_docker(nft), in_legacy = has_docker(legacy);
    if (in_nft == in_legacy) continue;  // no Docker rules in this family, or in both
    const Side& docker = in_nft ? nft : legacy;
    const Side& other = in_nft ? legacy : nft;
    // Without a filter table of the other backend nothing of it decides.
    if (!tables.count(other.key)) continue;
    // Published ports that outside sources cannot reach, dropped by a rule
    // or policy of the other backend.
    std::map<std::string, std::vector<Example>> closed;  // entry -> sources
    std::set<std::string> deciders;
    for (const auto& en : cx.exposure.entries) {
      if (en.kind != EntryKind::published || en.family != fam) continue;
      auto remote = [](const SourceClass& c) { return c.remote(); };
      auto dropped_by_other = [&](const ExposureCell& c) {
        return c.outcome->result == Outcome::Result::dropped && !c.destination_addr.is_loopback() &&
               c.outcome->decided_by.find(other.origin) != std::string::npos;
      };
      for_cells(en, remote, dropped_by_other, [&](const ExposureCell& c, std::size_t, std::size_t) {
        closed[en.what].push_back({&c.source_class, c.destination});
        deciders.insert(stable_origin(c.outcome->decided_by));
      });
    }
    if (closed.empty()) continue;
    auto t = tables.find(other.key);
    bool ufw = false;
    if (t != tables.end())
      for (const auto& [name, chain] : t->second) ufw |= name.rfind("ufw", 0) == 0;
    std::vector<std::string> ports, examples;
    for (auto& [what, ex] : closed) {
      ports.push_back(what);
      for (const auto& e : ordered(ex, cx.snapshot, 3)) examples.push_back(fmt::format("{}: {}", what, e.text()));
    }
    Evidence ev = {{"docker_backend", docker.tool}, {"other_backend", other.tool}, {"other_is_ufw", ufw}};
    put_examples(ev, "published_closed", ports);
    put_examples(ev, "decided_by", std::vector<std::string>(deciders.begin(), deciders.end()));
    put_examples(ev, "examples", examples);
    add(out, "DFA016",
        fmt::format("Docker writes its IPv{} rules through {} and {} writes through {}: {} is dropped for "
                    "outside sources by {}, though Docker's rules accept it",
                    fam, docker.tool, ufw ? "ufw" : "another firewall", other.tool,
                    ports.size() == 1 ? ports.front() : fmt::format("{} published ports", ports.size()),
                    *deciders.begin()),
        {"", 0, logical_of(*deciders.begin()), *deciders.begin()}, fmt::format("ipv{}", fam), std::move(ev));
  }
}

}  // namespace dfa::checks
