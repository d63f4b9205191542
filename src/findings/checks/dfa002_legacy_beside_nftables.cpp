// DFA002: Docker's rules in iptables-legacy next to an nftables host firewall.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa002(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object()) {
    bool docker_legacy = false;
    for (const char* fam : {"ipv4", "ipv6"})
      for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables"))
        for (const auto& ch : array_member(t, "chains"))
          if (ch.value("name", "") == "DOCKER") docker_legacy = true;
    bool nft_firewall = false;
    if (const Json* nft = s.section("nftables"))
      for (const auto& o : nft->at("ruleset"))
        if (auto t = o.find("table"); t != o.end()) {
          static const std::set<std::string> xt_names = {"filter", "nat", "mangle", "raw", "security"};
          if (t->value("family", "") == "inet" || !xt_names.count(t->value("name", ""))) nft_firewall = true;
        }
    if (docker_legacy && nft_firewall)
      add(out, "DFA002", "Docker's chains are in iptables-legacy while nftables holds the host firewall",
          {"", 0, "iptables-legacy:ipv4/nat/DOCKER"}, "docker-legacy");
  }
}

}  // namespace dfa::checks
