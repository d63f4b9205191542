// Private to the rule compiler's files: what ruleset.cpp (the compiler and
// build_ruleset), host_view.cpp, rule_text.cpp, rule_facts.cpp and
// rule_index.cpp share beyond ruleset.hpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "analyze/ruleset.hpp"

namespace dfa::rule_detail {

// Readers besides the compiler (exposure, baseline) call the rule helpers
// on rules as they are in the snapshot; a rule one cannot read (a shape no
// collector writes) gets the answer that claims nothing.
template <class F, class T>
T or_claim_nothing(F&& read, T nothing) {
  try {
    return read();
  } catch (const std::exception&) {
    return nothing;
  }
}

// What one rule's compiled tests do with the packet's ports (PortCuts):
// every port expression compiled (leaves) must be one a test against
// constants consumed, whose constants cut the port space; anything else
// makes the rule's chain opaque.
struct PortReads {
  unsigned leaves = 0, consumed = 0;
  bool opaque = false;
  std::vector<unsigned> cuts;
  // Ports lo..hi fare alike: cuts at lo and past hi.
  void range(uint64_t lo, uint64_t hi) {
    cuts.push_back(static_cast<unsigned>(std::min<uint64_t>(lo, 65536)));
    cuts.push_back(static_cast<unsigned>(std::min<uint64_t>(hi, 65535) + 1));
  }
};

// An nft expression's left side as nft prints it (rule_text.cpp).
std::string render_left(const Json& l);
// Whether an expression reads conntrack (rule_facts.cpp).
bool uses_conntrack(const Json& j);
// The chain indexes (rule_index.cpp): the single ports a constraint
// requires, what a rule's tests read of the ports, runs of single-address
// rules made one indexed rule.
std::vector<unsigned> single_ports(const std::optional<PortRanges>& c);
void note_port_reads(PortCuts& to, PortReads& r, const Rule& rule);
void index_runs(Chain& ch);

}  // namespace dfa::rule_detail
