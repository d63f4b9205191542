// DFA012: Docker's filter chains without DOCKER-USER in the path.
#include "findings/check.hpp"

namespace dfa::checks {

void dfa012(const CheckContext& cx, std::vector<Finding>& out) {
  const Snapshot& s = cx.snapshot;
  const std::optional<bool>& iptables = cx.iptables;
  if (iptables.value_or(true)) {
    auto check_table = [&](const std::string& where, const std::map<std::string, std::vector<std::string>>& chains) {
      if (!chains.count("DOCKER") || !chains.count("FORWARD")) return;
      bool has_user = chains.count("DOCKER-USER") > 0;
      const auto& fwd = chains.at("FORWARD");
      bool jumped = std::find(fwd.begin(), fwd.end(), "DOCKER-USER") != fwd.end();
      if (has_user && jumped) return;
      add(out, "DFA012",
          has_user ? fmt::format("{} FORWARD does not jump to DOCKER-USER", where)
                   : fmt::format("{} has Docker's chains but no DOCKER-USER chain", where),
          {"", 0, where + "/FORWARD"}, where);
    };
    if (const Json* nft = s.section("nftables")) {
      std::map<std::string, std::map<std::string, std::vector<std::string>>> tables;  // table -> chain -> jump targets
      for (const auto& o : nft->at("ruleset")) {
        if (auto c = o.find("chain"); c != o.end() && c->value("table", "") == "filter" &&
                                      (c->value("family", "") == "ip" || c->value("family", "") == "ip6"))
          tables[fmt::format("nft:{}/filter", c->value("family", ""))][c->value("name", "")];
        if (auto r = o.find("rule"); r != o.end() && r->value("table", "") == "filter")
          for (const auto& e : array_member(*r, "expr"))
            if (auto j = e.find("jump"); j != e.end())
              tables[fmt::format("nft:{}/filter", r->value("family", ""))][r->value("chain", "")].push_back(
                  j->value("target", ""));
      }
      for (const auto& [where, chains] : tables) check_table(where, chains);
    }
    if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object())
      for (const char* fam : {"ipv4", "ipv6"})
        for (const auto& t : array_member(s.doc["iptables_legacy"][fam], "tables")) {
          if (t.value("name", "") != "filter") continue;
          std::map<std::string, std::vector<std::string>> chains;
          for (const auto& c : array_member(t, "chains")) {
            auto& targets = chains[c.value("name", "")];
            for (const auto& r : array_member(c, "rules"))
              if (r["target"].value("kind", "") == "jump") targets.push_back(r["target"].value("name", ""));
          }
          check_table(fmt::format("iptables-legacy:{}/filter", fam), chains);
        }
  }
}

}  // namespace dfa::checks
