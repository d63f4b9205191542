// Findings in the terms of the firewall manager that wrote the rule, ufw or
// firewalld (see manager_terms.cpp). Internal to the findings layer.
#pragma once
#include <functional>
#include <string>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "findings/check.hpp"

namespace dfa {

// Which ufw command or default is behind a kernel rule origin.
class UfwNames {
 public:
  explicit UfwNames(const Snapshot& s);
  bool active() const { return ufw_ != nullptr; }
  // "ufw deny 8080" for "nft ip filter ufw-user-input #4 (handle 31)",
  // "ufw default deny incoming" for "policy drop of nft ip filter INPUT";
  // "" when the origin is not ufw's or the files do not match the kernel.
  std::string name(const std::string& origin) const;

 private:
  const UfwConfig* ufw_ = nullptr;
  checks::XtFilterTables tables_;
};

// Adds the ufw command after each ufw rule a finding's message names, and
// evidence.ufw: [{rule, ufw}].
void name_in_ufw_terms(const Snapshot& s, std::vector<Finding>& findings);

// The zone or policy a firewalld chain belongs to, and which of its part
// chains it is. firewalld makes each zone and policy a chain
// (filter_IN_public, filter_FWD_policy_lan) and five part chains after it
// (_pre, _log, _deny, _allow, _post), so "lan_allow" is the allow part of
// "lan", unless the table also holds "lan_allow_allow": then it is the chain
// of a zone or policy named lan_allow, whose parts end in the suffix again.
// `name` is what follows the direction (and "policy_"); `has_chain` answers
// for that chain name with a suffix added.
struct FirewalldOwner {
  std::string owner;
  std::string_view part;  // "_allow", ..., or "" for the owner's own chain
};
FirewalldOwner firewalld_owner(std::string_view name, const std::function<bool(const std::string&)>& has_chain);

// What a rule of firewalld's own base chains does (read from the rule).
enum class FirewalldOwn { dnat_accept, rpfilter6, established, invalid, loopback, final_reject, other };
// "firewalld accepts every DNATed connection before its zones and policies", ...
std::string_view describe(FirewalldOwn own);

// Where a rule of firewalld's table sits: one of firewalld's own base chains
// (`own` says what the rule does), the dispatch to zones or policies, or a
// zone's or policy's chain in a direction (IN, FWD, OUT, PRE, POST), in one of
// its parts or in its own chain, where the last rule is its target.
struct FirewalldRule {
  enum class Kind { own, zone_dispatch, policy_dispatch, zone, policy };
  Kind kind = Kind::own;
  FirewalldOwn own = FirewalldOwn::other;  // for Kind::own
  std::string owner;
  std::string_view direction;
  std::string_view part;  // as FirewalldOwner::part
  bool last = false;      // the last rule of its chain
  std::size_t chain_rules = 0;  // how many rules its chain holds
  bool zone_target() const { return kind == Kind::zone && part.empty() && last; }
};

// What firewalld made a rule of its nftables table for, from the chain's
// name (firewalld names each chain by zone or policy and part) and, in its
// own base chains, from the rule: "firewalld zone public: a rich rule that
// rejects or drops", "firewalld accepts every DNATed connection before its
// zones and policies". Works on the runtime state, whatever is permanent.
class FirewalldNames {
 public:
  explicit FirewalldNames(const Snapshot& s);
  bool active() const { return !chains_.empty(); }
  std::optional<FirewalldRule> rule(const std::string& origin) const;
  std::string name(const std::string& origin) const;

 private:
  // "nft:inet/firewalld" -> chain -> its rules, in order.
  std::map<std::string, std::map<std::string, std::vector<const Json*>>> chains_;
  const FirewalldConfig* config_ = nullptr;  // its files, when collect read them
  // The rich rules of the zone's or policy's file that reject or drop,
  // beside the kernel's deny part: which one, or that it is not in the file.
  std::string deny_rich_rules(const FirewalldRule& r) const;
};

// Adds what firewalld made each of its rules a finding names for, and
// evidence.firewalld: [{rule, firewalld}].
void name_in_firewalld_terms(const Snapshot& s, std::vector<Finding>& findings);

}  // namespace dfa
