// Chain indexes built with the rules: runs of single-address rules made one
// indexed rule, and the port index that skips rules a packet cannot match.
#include "analyze/ruleset.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/rule_detail.hpp"

namespace dfa {

using namespace rule_detail;

namespace rule_detail {

// Replaces runs of at least kMinRun consecutive single-address rules (same
// field and family, no effects) with one indexed rule.
constexpr std::size_t kMinRun = kAddrRunMin;

// The single ports a rule requires, from its constraint (empty: none, or a
// range too wide to list).
std::vector<unsigned> single_ports(const std::optional<PortRanges>& c) {
  std::vector<unsigned> v;
  if (!c) return v;
  for (const auto& [lo, hi] : *c) {
    if (hi < lo || hi - lo > 64) return {};
    for (unsigned q = lo; q <= hi; ++q) v.push_back(q);
  }
  return v;
}

// The plain tests of an nft rule (Rule::lead, the first matches of its
// expressions) that do not read the destination address, as text; "" when
// the rule is not an nft rule's (no two such rules are said alike).
std::string lead_but_daddr(const Rule& r) {
  if (!r.json || !r.json->is_object() || !r.json->contains("expr")) return "";
  std::string s = "nft";
  std::size_t k = 0;
  for (const auto& e : array_member(*r.json, "expr")) {
    if (k == r.lead.size()) break;
    if (!e.is_object() || !e.contains("match")) continue;
    if (r.lead[k++] != TestReads::daddr) s += e["match"].dump();
  }
  return s;
}

constexpr std::size_t kIndexMin = 16;  // shorter chains are scanned
void index_ports(Chain& ch) {
  if (ch.rules.size() < kIndexMin) return;
  auto idx = std::make_shared<PortIndex>();
  std::map<std::string, std::uint32_t> groups;
  for (std::size_t i = 0; i < ch.rules.size(); ++i) {
    if (ch.rules[i].run) idx->any.push_back(i);
    else if (ch.rules[i].daddr) {
      idx->by_daddr[*ch.rules[i].daddr].push_back(i);
      idx->with_daddr.push_back(i);
      std::string lead = lead_but_daddr(ch.rules[i]);
      auto g = static_cast<std::uint32_t>(idx->lead_group.size());
      if (!lead.empty()) g = groups.try_emplace(std::move(lead), g).first->second;
      idx->lead_group.push_back(g);
    }
    else if (!ch.rules[i].dports.empty())
      for (unsigned q : ch.rules[i].dports) idx->by_port[q].push_back(i);
    else if (!ch.rules[i].ct_dports.empty()) {
      for (unsigned q : ch.rules[i].ct_dports) idx->by_ct_port[q].push_back(i);
      idx->with_ct_port.push_back(i);
    }
    else idx->any.push_back(i);
  }
  ch.index = std::move(idx);
}

// A rule's port tests into its chain's cuts (PortCuts). A rule that read a
// port without a test against constants, or maps a port range by offset
// (a DNAT or redirect to a range), makes the chain opaque.
void note_port_reads(PortCuts& to, PortReads& r, const Rule& rule) {
  if (to.opaque) return;
  if (r.opaque || r.leaves != r.consumed || rule.action.port_range) {
    to.opaque = true;
    to.cuts.clear();
    return;
  }
  std::vector<unsigned> merged;
  std::sort(r.cuts.begin(), r.cuts.end());
  merged.reserve(to.cuts.size() + r.cuts.size());
  std::set_union(to.cuts.begin(), to.cuts.end(), r.cuts.begin(), r.cuts.end(), std::back_inserter(merged));
  merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
  to.cuts = std::move(merged);
}

void index_runs(Chain& ch) {
  std::vector<Rule> out;
  out.reserve(ch.rules.size());
  std::size_t i = 0;
  auto same = [](const Rule& a, const Rule& b) {
    return a.addr_test && b.addr_test && a.addr_test->src == b.addr_test->src && a.addr_test->family == b.addr_test->family;
  };
  while (i < ch.rules.size()) {
    std::size_t j = i;
    while (j < ch.rules.size() && ch.rules[j].addr_test && ch.rules[j].effects.empty() && ch.rules[j].taint.empty() && same(ch.rules[i], ch.rules[j])) ++j;
    if (j - i < kMinRun) {
      out.push_back(std::move(ch.rules[i]));
      ++i;
      continue;
    }
    auto run = std::make_shared<RuleRun>();
    run->src = ch.rules[i].addr_test->src;
    run->family = ch.rules[i].addr_test->family;
    run->rules.reserve(j - i);
    for (std::size_t k = i; k < j; ++k) {
      run->first.emplace(ch.rules[k].addr_test->addr, k - i);
      run->rules.push_back(std::move(ch.rules[k]));
    }
    Rule r;
    r.text = fmt::format("{} .. {} ({} rules looked up by address)", run->rules.front().text, run->rules.back().text,
                         run->rules.size());
    r.origin = run->rules.front().origin;
    r.run = std::move(run);
    out.push_back(std::move(r));
    i = j;
  }
  ch.rules = std::move(out);
  index_ports(ch);
}

}  // namespace rule_detail

std::pair<unsigned, unsigned> PortCuts::cell(unsigned port) const {
  auto it = std::upper_bound(cuts.begin(), cuts.end(), port);
  unsigned hi = it == cuts.end() ? 65535 : *it - 1;
  unsigned lo = it == cuts.begin() ? 0 : *(it - 1);
  return {lo, hi};
}

std::size_t PortIndex::next(const IpAddr& daddr, unsigned dport, CtPort ct, std::size_t i, std::size_t end) const {
  std::size_t best = end;
  auto first_from = [&](const std::vector<std::size_t>& v) {
    auto b = std::lower_bound(v.begin(), v.end(), i);
    if (b != v.end() && *b < best) best = *b;
  };
  first_from(any);
  if (auto it = by_port.find(dport); it != by_port.end()) first_from(it->second);
  if (auto it = by_daddr.find(daddr); it != by_daddr.end()) first_from(it->second);
  if (ct.known == CtPort::unknown) first_from(with_ct_port);
  else if (ct.known == CtPort::yes)
    if (auto it = by_ct_port.find(ct.port); it != by_ct_port.end()) first_from(it->second);
  return best;
}

}  // namespace dfa
