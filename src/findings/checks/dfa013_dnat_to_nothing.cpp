// DFA013: DNAT to an address in a Docker subnet that no running container holds.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa013(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  if (s.docker) {
    std::vector<Prefix> subnets;
    std::set<std::string> held;
    for (const DockerNetwork& n : s.docker->networks)
      for (const auto& sn : n.subnets)
        if (auto p = Prefix::parse(sn.subnet)) subnets.push_back(*p);
    for (const Container* c : s.docker->running())
      for (const ContainerNetwork& n : c->networks)
        for (const std::string* k : {&n.ipv4, &n.ipv6})
          if (!k->empty()) held.insert(*k);
    auto check_dest = [&](const std::string& dest, const std::string& origin) {
      auto ip = IpAddr::parse(split_nat_dest(dest).addr);
      if (!ip || held.count(ip->str())) return;
      if (std::none_of(subnets.begin(), subnets.end(), [&](const Prefix& p) { return p.contains(*ip); })) return;
      add(out, "DFA013", fmt::format("{} translates to {}, which no running container holds", origin, dest),
          {"", 0, logical_of(origin)}, origin + "|" + dest);
    };
    if (const Json* nft = s.section("nftables"))
      for (const auto& o : nft->at("ruleset"))
        if (auto r = o.find("rule"); r != o.end()) {
          std::string origin =
              fmt::format("nft {} {} {}", r->value("family", ""), r->value("table", ""), r->value("chain", ""));
          for (const auto& e : array_member(*r, "expr")) {
            if (auto d = e.find("dnat"); d != e.end() && d->contains("addr") && (*d)["addr"].is_string()) {
              std::string a = bracketed((*d)["addr"].get<std::string>());
              check_dest(d->contains("port") ? a + ":" + (*d)["port"].dump() : a, origin);
            }
            if (auto x = e.find("xt"); x != e.end() && x->value("name", "") == "DNAT" && x->value("decoded", false))
              check_dest(string_member(x->value("params", Json::object()), "to_destination"), origin);
          }
        }
    if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object())
      for (const char* fam : {"ipv4", "ipv6"})
        for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables"))
          for (const auto& c : array_member(t, "chains"))
            for (const auto& r : array_member(c, "rules"))
              if (r["target"].value("name", "") == "DNAT" && r["target"].value("decoded", false))
                check_dest(string_member(r["target"].value("params", Json::object()), "to_destination"),
                           fmt::format("iptables-legacy {} {} {}", fam, t.value("name", ""), c.value("name", "")));
  }
}

}  // namespace dfa::checks
