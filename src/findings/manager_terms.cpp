// Findings in the firewall manager's terms, beside the kernel rule a finding
// already names. ufw: a rule of ufw's user chains or a policy ufw sets is
// named by the command behind it ("ufw deny 8080", "ufw default deny
// incoming"), a rule its before.rules or after.rules wrote by the file's
// line, from the ufw configuration collect read (host.ufw). firewalld:
// a rule of its nftables table is named by the zone or policy and the part
// of it that its chain holds, or by what firewalld's own rule does.
#include "findings/manager_terms.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

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
    if (p->chain == prefix + only_user) return lines == c->second.rules && hit ? hit->command : "";
  if (hit) return hit->command;
  // Another chain filled from ufw's files (its own before and after chains,
  // the ufw-docker recipe's DOCKER-USER): its rules are the files' lines for
  // it, before.rules' then after.rules', when it holds as many as they have
  // and none was inserted; otherwise something else wrote it too, or the
  // files changed since they were loaded, and nothing is named.
  std::vector<std::pair<const UfwConfig::File*, const UfwConfig::FileLine*>> from_files;
  for (const bool after : {false, true})
    for (const auto& f : ufw_->files) {
      if (f.family != fam || (f.name.rfind("after", 0) == 0) != after) continue;
      for (const auto& l : f.lines) {
        if (l.chain != p->chain) continue;
        if (l.insert) return "";
        from_files.emplace_back(&f, &l);
      }
    }
  // ufw ends each of its before chains with a jump to the user chain of the
  // same direction (ufw-before-input -> ufw-user-input), added after the
  // files are loaded.
  std::size_t added = 0;
  for (const char* dir : {"input", "output", "forward"})
    if (p->chain == prefix + "before-" + dir &&
        std::count(c->second.targets.begin(), c->second.targets.end(), prefix + "user-" + dir))
      added = 1;
  if (from_files.empty() || from_files.size() + added != c->second.rules || p->position > from_files.size())
    return "";
  const auto [file, line] = from_files[p->position - 1];
  return fmt::format("{}/{} line {}: {}", ufw_->dir, file->name, line->line, line->text);
}

namespace {

// Appends name(origin) after each kernel rule a finding names (message,
// location, evidence, flow), and evidence[key]: [{rule, key: name}].
template <class Name>
void name_origins(std::vector<Finding>& findings, const Name& name, const char* key) {
  for (Finding& f : findings) {
    std::vector<std::string> origins;
    if (!f.location.rule.empty()) origins.push_back(f.location.rule);
    for (const char* k : {"blocking_rule", "blocking_rules", "decided_by"})
      for (auto& o : f.evidence.strings(k)) origins.push_back(std::move(o));
    for (const Step& st : f.flow)
      if (!st.origin.empty()) origins.push_back(st.origin);
      else if (st.rule.empty() && st.verdict.rfind("policy ", 0) == 0)
        origins.push_back(st.verdict.substr(0, st.verdict.find(' ', 7)) + " of " + st.where);
    Evidence::Objects named;
    std::set<std::string> seen;
    for (const auto& o : origins) {
      const std::string stable = checks::stable_origin(o);
      if (!seen.insert(stable).second) continue;
      const std::string what = name(o);
      if (what.empty()) continue;
      named.push_back({{"rule", stable}, {key, what}});
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
      f.message.insert(end, " (" + what + ")");
    }
    if (!named.empty()) f.evidence[key] = std::move(named);
  }
}

}  // namespace

void name_in_ufw_terms(const Snapshot& s, std::vector<Finding>& findings) {
  const UfwNames names(s);
  if (!names.active()) return;
  name_origins(findings, [&](const std::string& o) { return names.name(o); }, "ufw");
}

FirewalldNames::FirewalldNames(const Snapshot& s) {
  if (s.host && s.host->firewalld.present) config_ = &s.host->firewalld;
  const Json* nft = s.section("nftables");
  if (!nft) return;
  for (const auto& o : nft->at("ruleset")) {
    auto r = o.find("rule");
    if (r == o.end() || !r->is_object() || r->value("table", "") != "firewalld") continue;
    chains_[fmt::format("nft:{}/firewalld", r->value("family", ""))][r->value("chain", "")].push_back(&*r);
  }
}

namespace {

// What one of firewalld's own rules (in its base chains) is for.
FirewalldOwn firewalld_own_rule(const Json& rule, bool last) {
  bool accept = false, drop = false, reject = false, dnat = false, fib = false, established = false, invalid = false,
       lo = false;
  for (const auto& e : array_member(rule, "expr")) {
    accept |= e.contains("accept");
    drop |= e.contains("drop");
    reject |= e.contains("reject");
    auto m = e.find("match");
    if (m == e.end() || !m->is_object()) continue;
    const Json& l = m->value("left", Json::object());
    const std::string right = m->value("right", Json()).dump();
    if (auto ct = l.find("ct"); l.is_object() && ct != l.end() && ct->is_object()) {
      const std::string k = ct->value("key", "");
      dnat |= k == "status" && right.find("dnat") != std::string::npos;
      established |= k == "state" && right.find("established") != std::string::npos;
      invalid |= k == "state" && right.find("invalid") != std::string::npos;
    }
    fib |= l.is_object() && l.contains("fib");
    if (auto meta = l.find("meta"); l.is_object() && meta != l.end() && meta->is_object())
      lo |= meta->value("key", "") == "iifname" && right == "\"lo\"";
  }
  if (dnat && accept) return FirewalldOwn::dnat_accept;
  if (fib && drop) return FirewalldOwn::rpfilter6;
  if (established && accept) return FirewalldOwn::established;
  if (invalid && drop) return FirewalldOwn::invalid;
  if (lo && accept) return FirewalldOwn::loopback;
  if (last && reject) return FirewalldOwn::final_reject;
  return FirewalldOwn::other;
}

}  // namespace

std::string_view describe(FirewalldOwn own) {
  switch (own) {
    case FirewalldOwn::dnat_accept: return "firewalld accepts every DNATed connection before its zones and policies";
    case FirewalldOwn::rpfilter6: return "firewalld's IPv6 reverse path filter, IPv6_rpfilter";
    case FirewalldOwn::established: return "firewalld accepts established and related connections";
    case FirewalldOwn::invalid: return "firewalld drops invalid packets";
    case FirewalldOwn::loopback: return "firewalld accepts loopback";
    case FirewalldOwn::final_reject: return "firewalld rejects what no zone or policy accepted";
    case FirewalldOwn::other: break;
  }
  return "firewalld's own rule";
}

namespace {
// firewalld's chain directions, and how a name says each.
const std::map<std::string_view, std::string_view> kFirewalldDirections = {
    {"IN", ""}, {"FWD", "forwarded, "}, {"OUT", "output, "}, {"PRE", "prerouting, "}, {"POST", "postrouting, "}};
}  // namespace

std::optional<FirewalldRule> FirewalldNames::rule(const std::string& origin) const {
  // A rule of firewalld's table (no policy of a chain: its base chains accept).
  const auto p = place_of(origin);
  if (!p || !p->policy.empty()) return std::nullopt;
  const auto t = chains_.find(p->table);
  if (t == chains_.end()) return std::nullopt;
  const std::string& chain = p->chain;
  const auto c = t->second.find(chain);
  const std::uint64_t position = p->position;
  if (c == t->second.end() || position > c->second.size()) return std::nullopt;
  FirewalldRule r;
  r.chain_rules = c->second.size();
  r.last = position == r.chain_rules;
  // firewalld's names: TABLE_HOOK for its base chains (filter_INPUT),
  // TABLE_HOOK_ZONES and _POLICIES_pre/_post for the dispatch, TABLE_DIR_ZONE[_PART]
  // and TABLE_DIR_policy_POLICY[_PART] for zones and policies.
  const auto us = chain.find('_');
  if (us == std::string::npos) return std::nullopt;
  std::string rest = chain.substr(us + 1);
  static const std::set<std::string> base = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
  if (base.count(rest)) {
    r.kind = FirewalldRule::Kind::own;
    r.own = firewalld_own_rule(*c->second[position - 1], r.last);
    return r;
  }
  if (rest.find("_ZONES") != std::string::npos) {
    r.kind = FirewalldRule::Kind::zone_dispatch;
    return r;
  }
  if (rest.find("_POLICIES_") != std::string::npos) {
    r.kind = FirewalldRule::Kind::policy_dispatch;
    return r;
  }
  const auto us2 = rest.find('_');
  if (us2 == std::string::npos) return std::nullopt;
  const auto d = kFirewalldDirections.find(std::string_view(rest).substr(0, us2));
  if (d == kFirewalldDirections.end()) return std::nullopt;
  r.direction = d->first;
  std::string owner = rest.substr(us2 + 1);
  r.kind = FirewalldRule::Kind::zone;
  if (owner.rfind("policy_", 0) == 0) {
    owner = owner.substr(7);
    r.kind = FirewalldRule::Kind::policy;
  }
  const std::string head = chain.substr(0, chain.size() - owner.size());
  auto split = firewalld_owner(owner, [&](const std::string& n) { return t->second.count(head + n) > 0; });
  if (split.owner.empty()) return std::nullopt;
  r.owner = std::move(split.owner);
  r.part = split.part;
  return r;
}

namespace {
// A rich rule as firewall-cmd writes it rejects or drops: its action (a word
// outside quotes) is reject or drop, and no priority moves it out of the
// deny part (firewalld's _pre and _post).
bool rich_rule_denies(std::string_view text) {
  std::vector<std::string> words(1);
  bool quoted = false;
  for (char ch : text) {
    if (ch == '"') quoted = !quoted;
    if (quoted || ch == '"') continue;
    if (ch == ' ') words.emplace_back();
    else words.back() += ch;
  }
  bool denies = false;
  for (const auto& w : words) {
    if (w.rfind("priority=", 0) == 0) return false;
    denies |= w == "reject" || w == "drop";
  }
  return denies;
}
}  // namespace

std::string FirewalldNames::deny_rich_rules(const FirewalldRule& r) const {
  // How many of the kernel's rules the file's must match: its deny chain's.
  const std::size_t in_kernel = r.chain_rules;
  if (!config_) return "";
  const auto& parts = r.kind == FirewalldRule::Kind::zone ? config_->zones : config_->policies;
  const auto p = std::find_if(parts.begin(), parts.end(), [&](const auto& x) { return x.name == r.owner; });
  if (p == parts.end() || !p->error.empty()) return "";
  std::vector<std::string_view> deny;
  for (const auto& rr : p->rich_rules)
    if (rich_rule_denies(rr)) deny.push_back(rr);
  if (deny.empty()) return fmt::format(", added at runtime: {} holds none", p->file);
  if (deny.size() != in_kernel)
    return fmt::format("; {} holds {} such rule(s) and the kernel {}: some were added or removed at runtime", p->file,
                       deny.size(), in_kernel);
  if (deny.size() == 1) return fmt::format(", `{}` in {}", deny[0], p->file);
  return fmt::format(", one of `{}` in {}", fmt::join(deny, "`, `"), p->file);
}

std::string FirewalldNames::name(const std::string& origin) const {
  const auto r = rule(origin);
  if (!r) return "";
  switch (r->kind) {
    case FirewalldRule::Kind::own: return std::string(describe(r->own));
    case FirewalldRule::Kind::zone_dispatch: return "firewalld's choice of zone by interface or source";
    case FirewalldRule::Kind::policy_dispatch: return "firewalld's choice of policy";
    case FirewalldRule::Kind::zone:
    case FirewalldRule::Kind::policy: break;
  }
  static const std::map<std::string_view, std::string_view> parts = {
      {"_allow", "a service, port, protocol or rich rule that allows"},
      {"_deny", "a rich rule that rejects or drops"},
      {"_log", "a rich rule that logs"},
      {"_pre", "a rich rule of negative priority"},
      {"_post", "a rich rule of positive priority"}};
  std::string_view part = r->last ? "its target" : "its ICMP handling or target";
  if (!r->part.empty()) part = parts.at(r->part);
  const std::string which = r->part == "_deny" ? deny_rich_rules(*r) : "";
  return fmt::format("firewalld {} {}: {}{}{}", r->kind == FirewalldRule::Kind::zone ? "zone" : "policy", r->owner,
                     kFirewalldDirections.at(r->direction), part, which);
}

FirewalldOwner firewalld_owner(std::string_view name, const std::function<bool(const std::string&)>& has_chain) {
  static constexpr std::string_view kParts[] = {"_pre", "_log", "_deny", "_allow", "_post"};
  if (has_chain(std::string(name) + "_allow")) return {std::string(name), ""};
  for (std::string_view part : kParts)
    if (name.size() > part.size() && name.ends_with(part))
      return {std::string(name.substr(0, name.size() - part.size())), part};
  return {std::string(name), ""};
}

void name_in_firewalld_terms(const Snapshot& s, std::vector<Finding>& findings) {
  const FirewalldNames names(s);
  if (!names.active()) return;
  name_origins(findings, [&](const std::string& o) { return names.name(o); }, "firewalld");
}

}  // namespace dfa
