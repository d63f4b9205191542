// Findings in the terms of the firewall manager that wrote the rule, ufw or
// firewalld (see manager_terms.cpp). Internal to the findings layer.
#pragma once
#include <string>
#include <map>
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

// What firewalld made a rule of its nftables table for, from the chain's
// name (firewalld names each chain by zone or policy and part) and, in its
// own base chains, from the rule: "firewalld zone public: a rich rule that
// rejects or drops", "firewalld accepts every DNATed connection before its
// zones and policies". Works on the runtime state, whatever is permanent.
class FirewalldNames {
 public:
  explicit FirewalldNames(const Snapshot& s);
  bool active() const { return !chains_.empty(); }
  std::string name(const std::string& origin) const;

 private:
  // "nft:inet/firewalld" -> chain -> its rules, in order.
  std::map<std::string, std::map<std::string, std::vector<const Json*>>> chains_;
};

// Adds what firewalld made each of its rules a finding names for, and
// evidence.firewalld: [{rule, firewalld}].
void name_in_firewalld_terms(const Snapshot& s, std::vector<Finding>& findings);

}  // namespace dfa
