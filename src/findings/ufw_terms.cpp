// Findings in ufw's terms: a kernel rule of ufw's user chains or a policy ufw
// sets is named by the command behind it ("ufw deny 8080", "ufw default deny
// incoming"), from the ufw configuration collect read (host.ufw), beside the
// kernel rule the finding already names.
#include "findings/ufw_terms.hpp"

#include <cctype>
#include <charconv>

#include "findings/check.hpp"

namespace dfa {

namespace {

// "nft ip filter ufw-user-input #4 (handle 31)" -> table key, chain, position;
// "policy drop of nft ip filter INPUT" -> table key, chain, 0.
struct Place {
  std::string table, chain, policy;
  std::uint64_t position = 0;
};
std::optional<Place> place_of(const std::string& origin) {
  Place p;
  std::string rule = origin;
  if (rule.rfind("policy ", 0) == 0) {
    auto of = rule.find(" of ");
    if (of == std::string::npos) return std::nullopt;
    p.policy = rule.substr(7, of - 7);
    rule = rule.substr(of + 4);
  }
  const std::string logical = checks::logical_of(rule);  // "nft:ip/filter/INPUT"
  const auto slash = logical.rfind('/');
  if (slash == std::string::npos || logical == rule) return std::nullopt;
  p.table = logical.substr(0, slash);
  p.chain = logical.substr(slash + 1);
  if (p.policy.empty()) {
    const auto hash = rule.find(" #");
    if (hash == std::string::npos) return std::nullopt;
    const char* b = rule.data() + hash + 2;
    if (std::from_chars(b, rule.data() + rule.size(), p.position).ec != std::errc{} || p.position == 0)
      return std::nullopt;
  }
  return p;
}

int family_of(const std::string& table) {
  return table.find("ip6") != std::string::npos || table.find("ipv6") != std::string::npos ? 6 : 4;
}

}  // namespace

UfwNames::UfwNames(const Snapshot& s) {
  if (!s.host || !s.host->ufw.present || s.host->ufw.enabled == false) return;
  ufw_ = &s.host->ufw;
  tables_ = checks::xt_filter_tables(s);
}

std::string UfwNames::name(const std::string& origin) const {
  if (!ufw_) return "";
  const auto p = place_of(origin);
  if (!p) return "";
  const int fam = family_of(p->table);
  if (fam == 6 && ufw_->ipv6 == false) return "";
  const auto t = tables_.find(p->table);
  if (t == tables_.end()) return "";
  // ufw's chains are in this table: its policies and user rules are ufw's.
  const std::string prefix = fam == 6 ? "ufw6-" : "ufw-";
  if (!t->second.count(prefix + "before-input")) return "";
  if (!p->policy.empty()) {
    static const std::map<std::string, std::string> dir = {
        {"INPUT", "incoming"}, {"OUTPUT", "outgoing"}, {"FORWARD", "routed"}};
    const auto d = dir.find(p->chain);
    if (d == dir.end() || p->policy != "drop") return "";
    const auto v = ufw_->defaults.find(d->second);
    if (v == ufw_->defaults.end()) return "";
    if (v->second == "DROP") return "ufw default deny " + d->second;
    if (v->second == "REJECT") return "ufw default reject " + d->second;
    return "";
  }
  const auto c = t->second.find(p->chain);
  if (c == t->second.end() || p->position > c->second.rules) return "";
  // ufw-user-input, -output and -forward hold nothing but the user rules: a
  // count that differs means the files changed and were not loaded.
  std::size_t lines = 0;
  const UfwConfig::Rule* hit = nullptr;
  for (const auto& r : ufw_->rules) {
    if (r.family != fam) continue;
    for (const auto& l : r.lines) {
      if (l.chain != p->chain) continue;
      ++lines;
      if (l.position == p->position) hit = &r;
    }
  }
  for (const char* only_user : {"user-input", "user-output", "user-forward"})
    if (p->chain == prefix + only_user && lines != c->second.rules) return "";
  return hit ? hit->command : "";
}

void name_in_ufw_terms(const Snapshot& s, std::vector<Finding>& findings) {
  const UfwNames names(s);
  if (!names.active()) return;
  for (Finding& f : findings) {
    std::vector<std::string> origins;
    auto take = [&](const Json& v) {
      if (v.is_string()) origins.push_back(v.get<std::string>());
      if (v.is_array())
        for (const auto& x : v)
          if (x.is_string()) origins.push_back(x.get<std::string>());
    };
    if (!f.location.rule.empty()) origins.push_back(f.location.rule);
    for (const char* key : {"blocking_rule", "blocking_rules", "decided_by"})
      if (f.evidence.is_object() && f.evidence.contains(key)) take(f.evidence[key]);
    for (const Step& st : f.flow)
      if (!st.origin.empty()) origins.push_back(st.origin);
      else if (st.rule.empty() && st.verdict.rfind("policy ", 0) == 0)
        origins.push_back(st.verdict.substr(0, st.verdict.find(' ', 7)) + " of " + st.where);
    Json named = Json::array();
    std::set<std::string> seen;
    for (const auto& o : origins) {
      const std::string stable = checks::stable_origin(o);
      if (!seen.insert(stable).second) continue;
      const std::string cmd = names.name(o);
      if (cmd.empty()) continue;
      named.push_back({{"rule", stable}, {"ufw", cmd}});
      // In the message: after the kernel rule (and its handle) where it is named.
      // Not inside a longer origin: "... #1" is not the start of "... #12".
      auto at = f.message.find(stable);
      while (at != std::string::npos && at + stable.size() < f.message.size() &&
             std::isdigit(static_cast<unsigned char>(f.message[at + stable.size()])))
        at = f.message.find(stable, at + 1);
      if (at == std::string::npos) continue;
      std::size_t end = at + stable.size();
      if (f.message.compare(end, 9, " (handle ") == 0)
        if (auto close = f.message.find(')', end); close != std::string::npos) end = close + 1;
      f.message.insert(end, " (" + cmd + ")");
    }
    if (!named.empty()) f.evidence["ufw"] = std::move(named);
  }
}

}  // namespace dfa
