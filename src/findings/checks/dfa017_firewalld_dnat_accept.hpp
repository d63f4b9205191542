// DFA017, found on DFA001's walks (checks/dfa001_input_bypass.cpp): the
// walks without NAT that tell an input drop apart are DFA001's cache, which
// one check at a time may read.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "findings/check.hpp"
#include "findings/manager_terms.hpp"

namespace dfa::checks {

// The sources of one published entry that reach it although firewalld's
// zones would drop them as input, because firewalld's forward chain accepts
// the DNATed connection first.
struct FirewalldBypass {
  std::set<const SourceClass*> classes;
  std::vector<std::string> examples;
  std::string rule;
  // A cell DFA001 found bypassing an input drop.
  void note(const FirewalldNames& names, const ExposureCell& c);
  void report(const ExposureEntry& en, std::vector<Finding>& out) const;
};

}  // namespace dfa::checks
