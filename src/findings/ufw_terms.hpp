// Findings in ufw's terms (see ufw_terms.cpp). Internal to the findings layer.
#pragma once
#include <string>
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

}  // namespace dfa
