// What every check is given, the helpers they share, and the registry
// (checks.cpp) that runs one function per catalogue rule, each in its own
// file under checks/. Internal to the findings layer.
#pragma once
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "findings/findings.hpp"

namespace dfa {

struct CheckContext {
  const Engine& engine;
  const Exposure& exposure;
  const Snapshot& snapshot;
  // Whether Docker writes its rules (iptables), and where that is set.
  std::optional<bool> iptables;
  Location iptables_where;
  // Which firewall Docker writes its rules with.
  FirewallBackend backend;
};

namespace checks {

// A source class named in an example, with the destination it reached
// ("" when the example is the class alone).
struct Example {
  const SourceClass* cls;
  std::string_view destination;  // an entry's (lives as long as the exposure), or ""
  std::string text() const {
    return destination.empty() ? cls->label : fmt::format("{} to {}", cls->label, destination);
  }
};

// At most this many examples in a finding's evidence; the total is given
// beside them (a port open to thousands of classes is not a 1 MB finding:
// the exposure in the same report has every source).
inline constexpr std::size_t kMaxExamples = 20;
// ev[key] = the first kMaxExamples of v, then ev[key + "_total"] = how many
// there were (`total`, when v is already a cut of a longer list; else
// v.size()) when that is more than ev[key] holds.
void put_examples(Evidence& ev, const std::string& key, std::vector<std::string> v, std::size_t total = 0);

bool via_proxy(const Outcome& o);

// The cells of en in order (class by class, each destination) whose class
// `cls` keeps and whose outcome `keep` keeps, given to f(cell, ci, k).
// keep(cell) may read the outcome and the destination, never the class: it
// is asked once per walk and destination, since classes on one walk share
// every outcome (a port of a host with 1,400 classes on 20 walks asks 20
// times, not 1,400).
template <class ClassPred, class Keep, class F>
void for_cells(const ExposureEntry& en, ClassPred cls, Keep keep, F&& f) {
  const std::size_t nd = en.destinations.size();
  std::vector<signed char> memo(en.outcomes.size(), -1);  // per walk and destination
  for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
    if (!cls((*en.classes)[ci])) continue;
    const std::size_t base = en.walk[ci] * nd;
    for (std::size_t k = 0; k < nd; ++k) {
      signed char& m = memo[base + k];
      if (m == 0) continue;
      const ExposureCell c = en.cell(ci, k);
      if (m < 0) m = keep(c) ? 1 : 0;
      if (m) f(c, ci, k);
    }
  }
}
inline bool any_class(const SourceClass&) { return true; }
// Examples in the order a reader should see them: anyone first, then named
// prefixes, addresses inside Docker's own subnets last; the first `limit`.
std::vector<Example> ordered(std::vector<Example> v, const Snapshot& s, std::size_t limit = SIZE_MAX);

// The rank `ordered` sorts by: 0 anyone (an unnamed class), 1 a named
// prefix, 2 an address inside one of Docker's subnets.
class ExampleRank {
 public:
  explicit ExampleRank(const Snapshot& s);
  int operator()(const SourceClass& c) const;

 private:
  std::vector<Prefix> docker_subnets_;
};

// What `ordered(all examples added, s, kMaxExamples)` returns, without
// holding them all: the first kMaxExamples of each rank in the order added,
// and how many were added. A published port met by millions of cells keeps
// 60 examples, not millions.
class ExampleSample {
 public:
  void add(int rank, const Example& e) {
    ++total_;
    auto& v = by_rank_[static_cast<std::size_t>(rank)];
    if (v.size() < kMaxExamples) v.push_back(e);
  }
  std::size_t total() const { return total_; }
  // The examples of these samples taken one after another (as if added to
  // one), ordered, the first kMaxExamples.
  static std::vector<Example> first(const std::vector<const ExampleSample*>& in_order);

 private:
  std::array<std::vector<Example>, 3> by_rank_;
  std::size_t total_ = 0;
};
std::vector<std::string> texts(const std::vector<Example>& v);
// "nft inet filter input #1 (handle 2)" -> "nft:inet/filter/input"
std::string logical_of(const std::string& origin);
// A rule origin without its handle (stable across reloads).
std::string stable_origin(const std::string& origin);
// A daemon.json setting and where it is set; null when not set.
const Json* daemon_setting(const Snapshot& s, const char* key, int& line, std::string& file);
// The filter tables iptables writes (iptables-nft's "nft:ip/filter",
// "nft:ip6/filter"; "iptables-legacy:ipv4/filter", ...): per chain, how many
// rules it holds and which chains it jumps or goes to.
struct XtChain {
  std::size_t rules = 0;
  std::size_t bare_returns = 0;  // rules that only return (Docker's own in DOCKER-USER)
  std::vector<std::string> targets;
};
using XtFilterTables = std::map<std::string, std::map<std::string, XtChain>>;
XtFilterTables xt_filter_tables(const Snapshot& s);
void add(std::vector<Finding>& out, std::string id, std::string message, Location loc, std::string identity,
         Evidence evidence = {}, std::vector<Step> flow = {});

// One function per catalogue rule (checks/dfaNNN_*.cpp).
using CheckFn = void (*)(const CheckContext&, std::vector<Finding>&);
void dfa001(const CheckContext& cx, std::vector<Finding>& out);
void dfa002(const CheckContext& cx, std::vector<Finding>& out);
void dfa003(const CheckContext& cx, std::vector<Finding>& out);
void dfa004(const CheckContext& cx, std::vector<Finding>& out);
void dfa005(const CheckContext& cx, std::vector<Finding>& out);
void dfa006(const CheckContext& cx, std::vector<Finding>& out);
void dfa007(const CheckContext& cx, std::vector<Finding>& out);
void dfa008(const CheckContext& cx, std::vector<Finding>& out);
void dfa009(const CheckContext& cx, std::vector<Finding>& out);
void dfa010(const CheckContext& cx, std::vector<Finding>& out);
void dfa011(const CheckContext& cx, std::vector<Finding>& out);
void dfa012(const CheckContext& cx, std::vector<Finding>& out);
void dfa013(const CheckContext& cx, std::vector<Finding>& out);
void dfa015(const CheckContext& cx, std::vector<Finding>& out);
void dfa016(const CheckContext& cx, std::vector<Finding>& out);
void dfa018(const CheckContext& cx, std::vector<Finding>& out);

}  // namespace checks
}  // namespace dfa
