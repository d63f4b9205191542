#include "analyze/exposure.hpp"

#include "analyze/audience.hpp"
#include "analyze/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <climits>
#include <cstdint>
#include <iterator>
#include <mutex>

namespace dfa {
namespace {

// The prefixes that cover lo..hi exactly (at most two per bit): a range
// splits sources at its edges, not only at its two end addresses.
void range_prefixes(const IpAddr& lo, const IpAddr& hi, std::vector<Prefix>& out) {
  if (lo.family != hi.family || hi < lo) return;
  const int bits = lo.bytes() * 8;
  IpAddr a = lo;
  for (int guard = 0; guard < 2 * bits + 2; ++guard) {
    // The largest prefix starting at a that ends at or before hi.
    int len = bits;
    while (len > 0) {
      Prefix p{a, len - 1};
      if (!(p.network().addr == a) || hi < p.last()) break;
      --len;
    }
    Prefix p{a, len};
    out.push_back(p);
    IpAddr end = p.last();
    if (end == hi) return;
    // a = end + 1
    a = end;
    for (int i = a.bytes() - 1; i >= 0; --i)
      if (++a.b[static_cast<size_t>(i)] != 0) break;
  }
}

// Every address or prefix string anywhere in the rules (nft JSON right-hand
// sides, set elements, legacy -s/-d, iprange bounds) and the host's subnets.
void mentioned(const Json& j, std::vector<Prefix>& out) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.find('.') != std::string::npos || s.find(':') != std::string::npos) {
      if (auto p = Prefix::parse(s)) out.push_back(*p);
      auto dash = s.find('-');
      if (dash != std::string::npos) {
        auto lo = IpAddr::parse(s.substr(0, dash)), hi = IpAddr::parse(s.substr(dash + 1));
        if (lo && hi) range_prefixes(*lo, *hi, out);
      }
    }
    return;
  }
  if (j.is_object()) {
    if (auto rg = j.find("range"); rg != j.end() && rg->is_array() && rg->size() == 2 && (*rg)[0].is_string() &&
                                   (*rg)[1].is_string()) {
      auto lo = IpAddr::parse((*rg)[0].get<std::string>()), hi = IpAddr::parse((*rg)[1].get<std::string>());
      if (lo && hi) {
        range_prefixes(*lo, *hi, out);
        return;
      }
    }
    if (auto pf = j.find("prefix"); pf != j.end() && pf->is_object()) {
      // A prefix this cannot read splits nothing here; the compiler makes
      // its rule unreadable, and walks through it uncertain.
      auto addr = pf->find("addr");
      auto len = pf->find("len");
      if (addr != pf->end() && addr->is_string() && len != pf->end() && len->is_number_integer() &&
          len->get<std::int64_t>() >= 0)
        if (auto p = Prefix::parse(fmt::format("{}/{}", addr->get<std::string>(), len->get<std::int64_t>())))
          out.push_back(*p);
      return;
    }
    for (const auto& [k, v] : j.items())
      if (k != "raw" && k != "text") mentioned(v, out);
    return;
  }
  if (j.is_array())
    for (const auto& v : j) mentioned(v, out);
}

// The same prefixes as mentioned(), split by where the rule tests them:
// as_dst those it tests only as the destination address (nft ip/ip6 daddr
// matches, legacy -d), `out` all others (source addresses, sets, ranges in
// matches, anything else: counted as if they could test the source).
void mentioned_by_position(const Json& r, bool legacy, std::vector<Prefix>& out, std::vector<Prefix>& as_dst) {
  if (!r.is_object()) {
    mentioned(r, out);
    return;
  }
  for (auto it = r.begin(); it != r.end(); ++it) {
    const std::string& k = it.key();
    if (k == "raw" || k == "text") continue;
    if (legacy) {
      mentioned(it.value(), k == "dst" ? as_dst : out);
      continue;
    }
    if (k != "expr" || !it.value().is_array()) {
      mentioned(it.value(), out);
      continue;
    }
    for (const auto& e : it.value()) {
      auto m = e.is_object() && e.size() == 1 ? e.find("match") : e.end();
      bool daddr = false;
      if (m != e.end() && m->is_object())
        if (auto left = m->find("left"); left != m->end() && left->is_object())
          if (auto pl = left->find("payload"); pl != left->end() && pl->is_object()) {
            auto proto = pl->find("protocol"), field = pl->find("field");
            daddr = proto != pl->end() && field != pl->end() && (*proto == "ip" || *proto == "ip6") && *field == "daddr";
          }
      if (!daddr) {
        mentioned(e, out);
        continue;
      }
      for (auto mm = m->begin(); mm != m->end(); ++mm) mentioned(mm.value(), mm.key() == "right" ? as_dst : out);
    }
  }
}

IpAddr nth(const Prefix& p, unsigned n) {
  IpAddr a = p.addr;
  // Zero the host part, then add n to the low bytes.
  int full = p.len / 8, rem = p.len % 8;
  for (int i = full + (rem ? 1 : 0); i < a.bytes(); ++i) a.b[static_cast<size_t>(i)] = 0;
  if (rem) a.b[static_cast<size_t>(full)] &= static_cast<uint8_t>(0xff << (8 - rem));
  int host_bits = a.bytes() * 8 - p.len;
  if (host_bits < 2) return p.addr;
  unsigned carry = n;
  for (int i = a.bytes() - 1; i >= 0 && carry; --i) {
    unsigned v = a.b[static_cast<size_t>(i)] + (carry & 0xff);
    a.b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
    carry = (carry >> 8) + (v >> 8);
  }
  return a;
}

// The prefixes of a list that contain an address, by index, ascending: one
// lookup per distinct prefix length instead of a test of every prefix (a
// large ruleset mentions thousands).
class PrefixIndex {
 public:
  explicit PrefixIndex(const std::vector<Prefix>& ps) {
    for (std::size_t i = 0; i < ps.size(); ++i) {
      Prefix n = ps[i].network();
      by_len_[{n.addr.family, n.len}][n.addr].push_back(static_cast<std::uint32_t>(i));
    }
  }
  std::vector<std::uint32_t> containing(const IpAddr& a) const {
    std::vector<std::uint32_t> out;
    for (const auto& [fl, nets] : by_len_) {
      if (fl.first != a.family) continue;
      auto it = nets.find(Prefix{a, fl.second}.network().addr);
      if (it != nets.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::map<std::pair<int, int>, std::map<IpAddr, std::vector<std::uint32_t>>> by_len_;
};

std::string signature(const IpAddr& a, const PrefixIndex& ps, const std::vector<AddrSet>& sets) {
  std::string sig;
  for (auto i : ps.containing(a)) sig += std::to_string(i) + ",";
  for (std::size_t i = 0; i < sets.size(); ++i)
    if (sets[i].contains(a)) sig += "s" + std::to_string(i) + ",";
  return sig;
}

// What the rules mention, with runs of single-address rules that share their
// verdict (kAddrRunMin or more in a row) collected as one set each.
struct Mentions {
  int family;  // of the address sets to keep (0: every family)
  std::vector<Prefix>& prefixes;
  std::vector<AddrSet>& sets;
  std::map<std::string, SourcePartition::Ports>& ports;  // prefix text -> ports of its rules
  // The current run: its chain, field and family, and the verdict (every
  // statement but matches and counters) all its rules share.
  const std::string* chain = nullptr;
  std::optional<AddrTest> field;
  std::vector<const Json*> verdict;
  std::vector<const Json*> rules;  // the run so far
  std::vector<IpAddr> addrs;
  bool legacy_run = false;

  // chain: the chain of the rule r, which only a walk entering that chain
  // can test; nullptr for anything else (a set read element by element, a
  // table), which counts for every walk.
  void mention(const Json& r, bool legacy, const std::string* chain) {
    std::vector<Prefix> here, as_dst;
    mentioned_by_position(r, legacy, here, as_dst);
    if (here.empty() && as_dst.empty()) return;
    auto c = dport_constraint(r, legacy);
    auto where = [&](SourcePartition::Ports& pp, bool dst) {
      if (!chain) {
        pp.unattributed = true;
        return;
      }
      if (!pp.chains.empty()) {
        const auto& b = pp.chains.back();
        if (b.rule == &r && b.dst == dst) return;
      }
      pp.chains.push_back({*chain, &r, dst});
    };
    for (const auto& p : here) {
      auto& pp = ports[p.network().str()];
      if (!c) pp.any = true;
      else pp.ranges.insert(pp.ranges.end(), c->begin(), c->end());
      where(pp, false);
      prefixes.push_back(p);
    }
    for (const auto& p : as_dst) {
      auto& pp = ports[p.network().str()];
      if (!c) pp.reply_any = true;
      else pp.reply_ranges.insert(pp.reply_ranges.end(), c->begin(), c->end());
      where(pp, true);
      prefixes.push_back(p);
    }
  }
  void flush() {
    if (rules.size() >= kAddrRunMin) {
      if (!addrs.empty() && (family == 0 || addrs.front().family == family)) {
        AddrSet st;
        st.label = fmt::format("an address of the {} rules in {}", field->src ? "source-address" : "destination-address",
                               *chain);
        st.family = addrs.front().family;
        for (const auto& a : addrs) st.addrs.add(AddrRange{a, a});
        st.addrs.normalize();
        st.representatives.push_back(*std::min_element(addrs.begin(), addrs.end()));
        sets.push_back(std::move(st));
      }
    } else {
      for (const Json* r : rules) mention(*r, legacy_run, chain);
    }
    rules.clear();
    addrs.clear();
    chain = nullptr;
  }
  static std::vector<const Json*> verdict_of(const Json& r, bool legacy) {
    std::vector<const Json*> v;
    if (legacy) {
      if (auto t = r.find("target"); t != r.end()) v.push_back(&*t);
    } else {
      for (const auto& e : array_member(r, "expr"))
        if (!e.contains("match") && !e.contains("counter")) v.push_back(&e);
    }
    return v;
  }
  static bool same(const std::vector<const Json*>& a, const std::vector<const Json*>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (*a[i] != *b[i]) return false;
    return true;
  }
  // rule: an nft rule object or a legacy rule; chain_label: where it is
  // (the same string object for every rule of a chain).
  void rule(const Json& r, bool legacy, int legacy_family, const std::string& chain_label) {
    auto t = single_address_test(r, legacy, legacy_family);
    if (!t) {
      flush();
      mention(r, legacy, &chain_label);
      return;
    }
    auto v = verdict_of(r, legacy);
    bool continues = chain && *chain == chain_label && field->src == t->src && field->family == t->family && same(v, verdict);
    if (!continues) flush();
    legacy_run = legacy;
    if (rules.empty()) {
      chain = &chain_label;
      field = t;
      verdict = std::move(v);
    }
    rules.push_back(&r);
    addrs.push_back(t->addr);
  }
};

}  // namespace

namespace {
// The label of the class of addr on iface, given the prefixes that contain it.
std::string class_label(const SourcePartition& part, const IpAddr& addr, const std::string& iface,
                        const std::vector<std::uint32_t>& containing) {
  const Prefix* most = nullptr;
  for (auto i : containing)
    if (!most || part.prefixes[i].len > most->len) most = &part.prefixes[i];
  const AddrSet* in = nullptr;
  std::string also;
  for (const auto& st : part.sets)
    if (st.contains(addr)) {
      if (!in) in = &st;
      else also += " and " + st.label;
    }
  if (in && !(most && most->len == addr.bytes() * 8))
    return most ? fmt::format("{}{} within {} on {}", in->label, also, most->str(), iface)
                : fmt::format("{}{} on {}", in->label, also, iface);
  return most ? fmt::format("{} on {}", most->str(), iface)
              : fmt::format("any other IPv{} address on {}", addr.family, iface);
}
}  // namespace

std::string SourcePartition::label_of(const IpAddr& addr, const std::string& iface) const {
  std::vector<std::uint32_t> containing;
  for (std::size_t i = 0; i < prefixes.size(); ++i)
    if (prefixes[i].contains(addr)) containing.push_back(static_cast<std::uint32_t>(i));
  return class_label(*this, addr, iface, containing);
}

namespace {
// What the nftables rules mention, every family at once (the ruleset is read
// once for both partitions).
struct Mentioned {
  std::vector<Prefix> prefixes;
  std::vector<AddrSet> sets;
  std::map<std::string, SourcePartition::Ports> ports;
  // A reachable rule tests the route back to the source (fib saddr ... oif):
  // its answer for a link-local source differs from any other's.
  bool fib_saddr = false;
};

// Whether a rule tests a fib lookup of the source address.
bool tests_fib_saddr(const Json& rule) {
  for (const auto& e : array_member(rule, "expr"))
    if (auto m = e.find("match"); m != e.end() && m->is_object())
      if (auto l = m->find("left"); l != m->end() && l->is_object())
        if (auto f = l->find("fib"); f != l->end() && f->is_object())
          if (auto fl = f->find("flags"); fl != f->end())
            for (const Json& x : fl->is_array() ? *fl : Json::array({*fl}))
              if (x.is_string() && x.get<std::string>() == "saddr") return true;
  return false;
}

// What a packet can meet in nftables: the chains reachable from a base chain
// through jump and goto (in rules, inline verdict maps and named maps), and
// the named sets and maps their rules refer to. A chain nothing reaches, or
// a set no reachable rule looks up, tells no sources apart.
struct NftReach {
  std::set<std::string> chains;  // "family table chain"
  std::set<std::string> sets;    // "family table name"
};

struct ReachScan {
  std::map<std::string, std::vector<const Json*>> rules_of, maps;  // "family table name"
  std::vector<std::string> todo;
  NftReach r;
  static std::string key(std::string_view f, std::string_view t, std::string_view n) {
    std::string k;
    k.reserve(f.size() + t.size() + n.size() + 2);
    k.append(f).append(1, ' ').append(t).append(1, ' ').append(n);
    return k;
  }
  // Jump and goto targets and "@name" references anywhere in j (a rule of
  // family f, table t): every place a verdict or a set can hide.
  void scan(const Json& j, std::string_view f, std::string_view t) {
    if (j.is_string()) {
      const std::string& v = j.get_ref<const std::string&>();
      if (v.size() > 1 && v[0] == '@') {
        std::string k = key(f, t, std::string_view(v).substr(1));
        if (r.sets.insert(k).second)
          if (auto m = maps.find(k); m != maps.end())
            for (const Json* mj : m->second)
              if (auto el = mj->find("elem"); el != mj->end()) scan(*el, f, t);
      }
      return;
    }
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        // Lengths first: this runs on every member of every rule.
        const std::string_view k = it.key();
        if (k.size() == 4 && (k == "jump" || k == "goto") && it.value().is_object())
          if (auto tg = it.value().find("target"); tg != it.value().end() && tg->is_string())
            todo.push_back(key(f, t, tg->get_ref<const std::string&>()));
        if ((k.size() == 3 && k == "raw") || (k.size() == 4 && k == "text")) continue;
        if (it.value().is_structured() || it.value().is_string()) scan(it.value(), f, t);
      }
    } else if (j.is_array()) {
      for (const auto& v : j)
        if (v.is_structured() || v.is_string()) scan(v, f, t);
    }
  }
};

NftReach nft_reach(const Json& ruleset) {
  static const std::string none;
  auto text = [](const Json& o, const char* k) -> const std::string& {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get_ref<const std::string&>() : none;
  };
  ReachScan rs;
  std::vector<const Json*>* chain_rules = nullptr;  // the chain of the previous rule
  const Json* prev = nullptr;
  for (const auto& o : ruleset) {
    if (auto c = o.find("chain"); c != o.end() && c->is_object()) {
      if (c->contains("hook")) rs.todo.push_back(ReachScan::key(text(*c, "family"), text(*c, "table"), text(*c, "name")));
    } else if (auto ru = o.find("rule"); ru != o.end() && ru->is_object()) {
      // A ruleset lists each chain's rules together: one key per chain.
      if (!prev || !same_nft_chain(*prev, *ru))
        chain_rules = &rs.rules_of[ReachScan::key(text(*ru, "family"), text(*ru, "table"), text(*ru, "chain"))];
      prev = &*ru;
      chain_rules->push_back(&*ru);
    } else if (auto m = o.find("map"); m != o.end() && m->is_object()) {
      rs.maps[ReachScan::key(text(*m, "family"), text(*m, "table"), text(*m, "name"))].push_back(&*m);
    }
  }
  while (!rs.todo.empty()) {
    std::string c = std::move(rs.todo.back());
    rs.todo.pop_back();
    if (!rs.r.chains.insert(c).second) continue;
    if (auto it = rs.rules_of.find(c); it != rs.rules_of.end())
      for (const Json* ru : it->second) rs.scan(*ru, text(*ru, "family"), text(*ru, "table"));
  }
  return std::move(rs.r);
}

// A map's value for people: "accept", "jump tenant3", or its JSON.
std::string verdict_text(const Json& v) {
  if (v.is_object() && v.size() == 1) {
    auto it = v.begin();
    const std::string& k = it.key();
    const Json& arg = it.value();
    if (arg.is_null()) return k;
    if (arg.is_object())
      if (auto t = arg.find("target"); t != arg.end() && t->is_string()) return k + " " + t->get<std::string>();
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A named set or map of single addresses, prefixes and ranges (no
// concatenation): its elements, grouped by the value a map gives them (a
// set: one group). nullopt: another kind of set, read element by element.
std::optional<std::vector<AddrSet>> address_sets(const Json& o, const char* kind) {
  const Json& st = o.at(kind);
  auto type = st.find("type");
  if (type == st.end() || !type->is_string()) return std::nullopt;
  int family = *type == "ipv4_addr" ? 4 : *type == "ipv6_addr" ? 6 : 0;
  if (!family) return std::nullopt;
  std::string name = fmt::format("{} {} {} {}", kind, st.value("family", ""), st.value("table", ""), st.value("name", ""));
  std::map<std::string, AddrSet> groups;  // by the map's value, as text
  auto el = st.find("elem");
  if (el == st.end() || !el->is_array()) return std::vector<AddrSet>{};
  for (const auto& e : *el) {
    const Json* k = &e;
    std::string value;
    if (std::string_view(kind) == "map") {
      if (!e.is_array() || e.size() != 2) return std::nullopt;
      k = &e[0];
      value = verdict_text(e[1]);
    }
    if (k->is_object())
      if (auto inner = k->find("elem"); inner != k->end() && inner->is_object() && inner->contains("val")) k = &inner->at("val");
    AddrRange r;
    IpAddr rep;
    if (k->is_string()) {
      auto p = Prefix::parse(k->get<std::string>());
      if (!p) return std::nullopt;
      r = {p->network().addr, p->last()};
      rep = p->len == p->addr.bytes() * 8 ? p->addr : nth(*p, 1);
    } else if (k->is_object() && k->contains("prefix")) {
      const Json& pf = k->at("prefix");
      auto addr = pf.find("addr");
      auto len = pf.find("len");
      if (addr == pf.end() || !addr->is_string() || len == pf.end() || !len->is_number_integer() || len->get<std::int64_t>() < 0)
        return std::nullopt;
      auto p = Prefix::parse(fmt::format("{}/{}", addr->get<std::string>(), len->get<std::int64_t>()));
      if (!p) return std::nullopt;
      r = {p->network().addr, p->last()};
      rep = nth(*p, 1);
    } else if (k->is_object() && k->contains("range")) {
      const Json& rg = k->at("range");
      if (!rg.is_array() || rg.size() != 2 || !rg[0].is_string() || !rg[1].is_string()) return std::nullopt;
      auto lo = IpAddr::parse(rg[0].get<std::string>()), hi = IpAddr::parse(rg[1].get<std::string>());
      if (!lo || !hi) return std::nullopt;
      r = {*lo, *hi};
      rep = *lo;
    } else {
      return std::nullopt;
    }
    if (r.lo.family != family || r.hi.family != family) return std::nullopt;
    AddrSet& g = groups[value];
    if (g.label.empty()) {
      g.label = value.empty() ? fmt::format("an address of {}", name) : fmt::format("an address of {} ({})", name, value);
      g.family = family;
    }
    g.addrs.add(r);
    g.representatives.push_back(rep);
  }
  std::vector<AddrSet> out;
  for (auto& [v, g] : groups) {
    g.addrs.normalize();
    out.push_back(std::move(g));
  }
  return out;
}

Mentioned nft_mentions(const Snapshot& s) {
  Mentioned out;
  Mentions m{0, out.prefixes, out.sets, out.ports, nullptr, std::nullopt, {}, {}, {}, false};
  if (const Json* nft = s.section("nftables")) {
    const Json& ruleset = nft->at("ruleset");
    const NftReach reach = nft_reach(ruleset);
    // Chain labels, made once per chain: runs compare them by address.
    std::map<std::tuple<std::string, std::string, std::string>, std::string> labels;
    auto text = [](const Json& r, const char* k) -> std::string {
      auto it = r.find(k);
      return it != r.end() && it->is_string() ? it->get<std::string>() : "";
    };
    const std::string* label = nullptr;
    const Json* prev = nullptr;
    bool reached = false;
    for (const auto& o : ruleset) {
      if (auto r = o.find("rule"); r != o.end()) {
        if (!prev || !same_nft_chain(*prev, *r)) {
          std::string f = text(*r, "family"), t = text(*r, "table"), c = text(*r, "chain");
          auto [it, fresh] = labels.try_emplace({f, t, c});
          if (fresh) it->second = fmt::format("nft {} {} {}", f, t, c);
          label = &it->second;
          reached = reach.chains.count(f + ' ' + t + ' ' + c) > 0;
        }
        prev = &*r;
        if (reached) {
          m.rule(*r, false, 0, *label);
          if (!out.fib_saddr) out.fib_saddr = tests_fib_saddr(*r);
        }
      } else {
        m.flush();
        const char* kind = o.contains("set") ? "set" : o.contains("map") ? "map" : nullptr;
        auto st = kind ? o.find(kind) : o.end();
        if (st == o.end() || !st->is_object()) {
          m.mention(o, false, nullptr);  // tables, chains, flowtables: no port of their own
        } else {
          if (!reach.sets.count(text(*st, "family") + ' ' + text(*st, "table") + ' ' + text(*st, "name"))) continue;
          if (auto groups = address_sets(o, kind)) {
            for (auto& g : *groups)
              if (!g.addrs.empty()) out.sets.push_back(std::move(g));
          } else {
            m.mention(o, false, nullptr);  // element by element; no port of its own
          }
        }
      }
    }
    m.flush();  // while the labels live
  }
  return out;
}

// The partition of one family, given what the nftables rules mention.
SourcePartition partition_of(const Engine& e, int family, const Mentioned& nft) {
  const Snapshot& s = e.snapshot();
  std::vector<Prefix> ps = nft.prefixes;
  std::vector<AddrSet> sets;
  for (const auto& st : nft.sets)
    if (st.family == family) sets.push_back(st);
  std::map<std::string, SourcePartition::Ports> port_of = nft.ports;
  Mentions m{family, ps, sets, port_of, nullptr, std::nullopt, {}, {}, {}, false};
  if (s.doc.contains("iptables_legacy") && s.doc["iptables_legacy"].is_object()) {
    const char* fk = family == 6 ? "ipv6" : "ipv4";
    const Json& lf = s.doc["iptables_legacy"][fk];
    if (lf.is_object())
      for (const auto& t : array_member(lf, "tables")) {
        // The chains a packet can meet: builtin ones and those their rules
        // jump or go to, transitively (a chain nothing reaches splits nothing).
        std::map<std::string, const Json*> by_name;
        std::vector<std::string> todo;
        for (const auto& c : array_member(t, "chains")) {
          by_name[c.value("name", "")] = &c;
          if (c.value("builtin", false)) todo.push_back(c.value("name", ""));
        }
        std::set<std::string> reached;
        while (!todo.empty()) {
          std::string n = std::move(todo.back());
          todo.pop_back();
          auto it = by_name.find(n);
          if (it == by_name.end() || !reached.insert(n).second) continue;
          for (const auto& r : array_member(*it->second, "rules"))
            if (auto tg = r.find("target"); tg != r.end() && tg->is_object())
              if (auto nm = tg->find("name"); nm != tg->end() && nm->is_string()) todo.push_back(nm->get<std::string>());
        }
        for (const auto& c : array_member(t, "chains")) {
          if (!reached.count(c.value("name", ""))) continue;
          std::string label = fmt::format("iptables-legacy {} {} {}", fk, t.value("name", ""), c.value("name", ""));
          for (const auto& r : array_member(c, "rules")) m.rule(r, true, family, label);
          m.flush();
        }
      }
  }
  std::vector<std::string> ifaces;
  std::set<std::string> bridges;
  if (s.docker)
    for (const DockerNetwork& n : s.docker->networks)
      if (!n.bridge.empty()) bridges.insert(n.bridge);
  HostView hv = build_host_view(s);
  // A prefix that matters for every port and every walk, whatever chains the
  // walk enters (the host's networks, routes, policy rules).
  auto for_every_walk = [&](const Prefix& p) {
    ps.push_back(p.network());
    auto& pp = port_of[p.network().str()];
    pp.any = true;
    pp.unattributed = true;
  };
  if (s.host) {
    for (const Interface& i : s.host->interfaces) {
      const std::string& name = i.name;
      bool external = !i.loopback && i.up && i.master.empty() && !bridges.count(name) && i.kind != "bridge";
      for (const InterfaceAddress& a : i.addresses)
        if (a.family == family && a.scope == "global")
          if (auto p = Prefix::parse(fmt::format("{}/{}", a.address, a.prefix_len)))
            for_every_walk(*p);  // routing, martians, replies
      if (external) ifaces.push_back(name);
    }
    // Routes (but the local table's) and policy rules: the way back to a
    // source (replies, the reverse path filter) and the table a packet is
    // routed by depend on which of their prefixes holds it, for every port
    // and every walk. Link-local prefixes (fe80::/10, 169.254.0.0/16) are
    // not split yet (docs/analyzer.md, "Not modeled yet").
    auto routed = [&](const std::optional<Prefix>& p) {
      if (!p || p->len == 0 || p->addr.family != family) return;
      static const Prefix ll6 = *Prefix::parse("fe80::/10"), ll4 = *Prefix::parse("169.254.0.0/16");
      if (!(family == 6 ? ll6 : ll4).contains(p->addr)) for_every_walk(*p);
    };
    for (const Route& r : s.host->routes)
      if (r.family == family && r.table != "local") routed(r.dst_prefix);
    // The reverse path test looks a link-local source up on its input
    // device only (HostView::fib6_saddr_iif).
    if (family == 6 && nft.fib_saddr) for_every_walk(*Prefix::parse("fe80::/10"));
    for (const PolicyRule& r : s.host->policy_rules)
      if (r.family == family) {
        routed(r.src_prefix);
        routed(r.dst_prefix);
      }
  }
  ps.erase(std::remove_if(ps.begin(), ps.end(), [&](const Prefix& p) { return p.addr.family != family; }), ps.end());
  std::sort(ps.begin(), ps.end(), [](const Prefix& a, const Prefix& b) { return std::tie(a.addr, a.len) < std::tie(b.addr, b.len); });
  ps.erase(std::unique(ps.begin(), ps.end(), [](const Prefix& a, const Prefix& b) { return a.addr == b.addr && a.len == b.len; }), ps.end());

  // Candidates: addresses inside each mentioned prefix, and outside all of them.
  std::vector<IpAddr> cands;
  for (const auto& p : ps)
    for (unsigned n : {1u, 2u, 77u, 200u, 254u}) cands.push_back(p.len == p.addr.bytes() * 8 ? p.addr : nth(p, n));
  // Addresses no rule mentions stand for "everyone else" (they are only
  // analyzed, never sent to).
  static const char* const others4[] = {"192.0.2.77", "100.64.0.77", "10.222.0.77"};
  static const char* const others6[] = {"2001:db8:ffff::77", "fd12:3456::77", "2a00:1450::77"};
  for (const char* other : family == 6 ? others6 : others4) cands.push_back(*IpAddr::parse(other));
  for (const auto& st : sets) cands.insert(cands.end(), st.representatives.begin(), st.representatives.end());
  std::map<std::string, IpAddr> by_sig;
  PrefixIndex index(ps);
  for (const auto& c : cands) {
    if (hv.is_local(c) || c.is_loopback()) continue;
    by_sig.emplace(signature(c, index, sets), c);
  }
  SourcePartition part;
  part.prefixes = ps;
  part.sets = std::move(sets);
  for (const auto& p : ps) {
    auto it = port_of.find(p.network().str());
    part.prefix_ports.push_back(it == port_of.end() ? SourcePartition::Ports{true, {}, false, {}, {}, true} : it->second);
  }
  std::vector<SourceClass>& out = part.classes;
  for (const auto& iface : ifaces)
    for (const auto& [sig, addr] : by_sig) {
      SourceClass c;
      auto containing = index.containing(addr);
      c.label = class_label(part, addr, iface, containing);
      c.in_set = std::any_of(part.sets.begin(), part.sets.end(), [&a = addr](const AddrSet& st) { return st.contains(a); });
      c.unnamed = containing.empty() && !c.in_set;
      c.source.kind = Source::Kind::remote;
      c.source.addr = addr;
      c.source.iif = iface;
      c.representative = addr.str();
      out.push_back(std::move(c));
    }
  SourceClass h;
  h.label = "the host itself";
  h.source.kind = Source::Kind::host;
  h.representative = "host";
  out.push_back(h);
  if (s.docker) {
    std::set<std::string> seen;
    for (const Container* c : s.docker->running())
      for (const ContainerNetwork& n : c->networks) {
        if ((family == 6 ? n.ipv6 : n.ipv4).empty() || !seen.insert(n.network).second) continue;
        SourceClass k;
        k.label = "containers on " + n.network;
        k.source.kind = Source::Kind::container;
        k.source.container = c->name;
        k.representative = "container:" + c->name;
        out.push_back(std::move(k));
      }
  }
  return part;
}
}  // namespace

std::string_view to_string(EntryKind k) { return k == EntryKind::published ? "published" : "socket"; }

SourcePartition source_classes(const Engine& e, int family) {
  return partition_of(e, family, nft_mentions(e.snapshot()));
}

namespace {

// Per family: the partition's classes appended to x.classes, and what walk
// sharing needs to know of them (ClassFacts, shared by the entries).
std::map<int, std::shared_ptr<ClassFacts>> class_facts(const Engine& e, Exposure& x,
                                                       std::map<int, SourcePartition>& parts) {
  std::map<int, std::shared_ptr<ClassFacts>> fams;
  const Mentioned nft = nft_mentions(e.snapshot());
  for (int fam : {4, 6}) {
    parts[fam] = partition_of(e, fam, nft);
    number_networks(parts[fam].classes);
    const SourcePartition& part = parts[fam];
    x.class_base[fam] = static_cast<std::uint32_t>(x.classes.size());
    for (const auto& c : part.classes) x.classes.push_back(c);
    auto fp = std::make_shared<ClassFacts>();
    fams[fam] = fp;
    ClassFacts& f = *fp;
    f.classes = std::make_shared<const std::vector<SourceClass>>(part.classes);
    for (const auto& pp : part.prefix_ports) {
      const auto prefix = static_cast<std::uint32_t>(f.unattributed.size());
      f.unattributed.push_back(pp.unattributed);
      for (const auto& w : pp.chains) {
        auto [it, fresh] = f.chain_id.try_emplace(w.chain, static_cast<std::uint32_t>(f.chain_id.size()));
        if (fresh) f.chain_prefixes.emplace_back();
        f.chain_prefixes[it->second].push_back({prefix, w.dst});
        f.rule_prefixes[w.rule].push_back({prefix, w.dst});
      }
    }
    PrefixIndex index(part.prefixes);
    for (const auto& c : part.classes) {
      f.prefixes.emplace_back();
      f.sets.emplace_back();
      if (c.source.kind != Source::Kind::remote || !c.source.addr) continue;
      f.prefixes.back() = index.containing(*c.source.addr);
      for (std::size_t i = 0; i < part.sets.size(); ++i)
        if (part.sets[i].contains(*c.source.addr)) f.sets.back().push_back(static_cast<std::uint32_t>(i));
    }
  }
  return fams;
}

// Ports a packet can have on its way: the published ones, every port a
// DNAT or redirect translates to, and the client port the replies go to.
std::set<unsigned> translated_ports(const Snapshot& s, unsigned client_port) {
  std::set<unsigned> translated{client_port};
  auto add_range = [&](const std::optional<std::pair<unsigned, unsigned>>& ports) {
    if (ports)
      for (unsigned q = ports->first; q <= ports->second && q - ports->first < 4096; ++q) translated.insert(q);
  };
  // One pass over every member of every object (the ruleset of a large host
  // is millions of them).
  std::function<void(const Json&)> find_ports = [&](const Json& j) {
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& k = it.key();
        const Json& v = it.value();
        // Matches (nft "match", legacy "matches") test packets; translations
        // are statements and targets, never inside them.
        if (k == "raw" || k == "text" || k == "match" || k == "matches") continue;
        if ((k == "dnat" || k == "redirect") && v.is_object())
          if (auto p = v.find("port"); p != v.end() && p->is_number_unsigned()) translated.insert(p->get<unsigned>());
        if (k == "to_destination" && v.is_string()) add_range(split_nat_dest(v.get_ref<const std::string&>()).ports);
        if (k == "to_ports" && v.is_string()) add_range(parse_port_range(v.get_ref<const std::string&>(), '-'));
        if (v.is_structured()) find_ports(v);
      }
    } else if (j.is_array()) {
      for (const auto& v : j)
        if (v.is_structured()) find_ports(v);
    }
  };
  if (const Json* nft = s.section("nftables")) find_ports(nft->at("ruleset"));
  if (s.doc.contains("iptables_legacy")) find_ports(s.doc["iptables_legacy"]);
  if (s.docker)
    for (const Container& c : s.docker->containers)
      for (const PortBinding& b : c.ports) translated.insert(b.container_port);
  return translated;
}

// The host's addresses of a family that a packet from elsewhere can be sent to.
std::vector<IpAddr> host_addrs(const Snapshot& s, int fam) {
  std::vector<IpAddr> v;
  if (s.host)
    for (const Interface& i : s.host->interfaces)
      for (const InterfaceAddress& a : i.addresses)
        if (a.family == fam && a.scope != "link")
          if (auto ip = IpAddr::parse(a.address)) v.push_back(*ip);
  return v;
}

// One entry to walk: what is published or listening, and where to.
struct Job {
  ExposureEntry en;
  std::vector<IpAddr> dsts;
  unsigned port;
  std::string proto;
};

// The published ports of running containers, then the host's listening
// sockets (docker-proxy's are the published ports).
std::vector<Job> exposure_jobs(const Snapshot& s) {
  auto host_addrs = [&](int fam) { return dfa::host_addrs(s, fam); };
  std::vector<Job> jobs;
  if (s.docker)
    for (const Container* c : s.docker->running())
      for (const PortBinding& b : c->ports) {
        const std::string& hip = b.host_ip;
        int fam = hip.find(':') != std::string::npos ? 6 : 4;
        ExposureEntry en;
        en.kind = EntryKind::published;
        en.owner = c->name;
        en.bound = IpAddr::parse(hip);
        en.target_port = b.container_port;
        en.family = fam;
        std::string shown = bracketed(hip);
        en.what = fmt::format("{} {}:{}->{}/{}", c->name, shown, b.host_port, b.container_port, b.protocol);
        std::vector<IpAddr> dsts;
        if (hip == "0.0.0.0" || hip == "::" || hip.empty()) dsts = host_addrs(fam);
        else if (auto ip = IpAddr::parse(hip)) dsts.push_back(*ip);
        jobs.push_back({std::move(en), std::move(dsts), b.host_port, b.protocol.empty() ? "tcp" : b.protocol});
      }
  if (s.host)
    for (const ListeningSocket& so : s.host->listening_sockets) {
      std::string proc = so.process.value_or("");
      if (proc == "docker-proxy") continue;  // covered by the published ports
      int fam = so.family;
      const std::string& addr = so.address;
      ExposureEntry en;
      en.kind = EntryKind::socket;
      en.owner = proc;
      if (addr != "0.0.0.0" && addr != "::") en.bound = IpAddr::parse(addr);
      en.family = fam;
      en.what = fmt::format("{} {}:{}/{}", proc.empty() ? "unknown process" : proc, bracketed(addr),
                            so.port, so.protocol);
      std::vector<IpAddr> dsts;
      if (addr == "0.0.0.0" || addr == "::") dsts = host_addrs(fam);
      else if (auto ip = IpAddr::parse(addr)) dsts.push_back(*ip);
      // A [::] socket without IPV6_V6ONLY takes IPv4 too, where no IPv4
      // wildcard socket holds the port first (busybox, Go, Java and Node
      // servers bind so): its IPv4 side is an entry of its own. Not knowing
      // the flag makes that entry's cells uncertain (the engine's socket table).
      bool dual = fam == 6 && addr == "::" && so.v6only != true &&
                  std::none_of(s.host->listening_sockets.begin(), s.host->listening_sockets.end(),
                               [&](const ListeningSocket& o) {
                                 return o.family == 4 && o.address == "0.0.0.0" && o.port == so.port &&
                                        o.protocol == so.protocol;
                               });
      std::string proto = so.protocol.empty() ? "tcp" : so.protocol;
      if (dual) {
        ExposureEntry en4 = en;
        en4.family = 4;
        en4.what = fmt::format("{} [::]:{}/{} (dual-stack)", proc.empty() ? "unknown process" : proc, so.port,
                               so.protocol);
        jobs.push_back({std::move(en4), host_addrs(4), so.port, proto});
      }
      jobs.push_back({std::move(en), std::move(dsts), so.port, proto});
    }
  return jobs;
}

// What walks an entry needs that is fixed before any is walked: entries are
// walked on several threads (analysis_threads()), each entry by one thread
// with its own SharedWalks, reading only these (the class facts but their
// chain number cache, which has a lock), so every entry comes out the same
// as walked alone, whatever the number of threads.
struct WalkInputs {
  const Engine& e;
  const std::map<int, SourcePartition>& parts;
  const std::map<int, std::shared_ptr<ClassFacts>>& fams;
  const std::set<unsigned>& translated;
  unsigned client_port;
};

void walk_entry(const WalkInputs& in, ExposureEntry& en, const std::vector<IpAddr>& dsts, unsigned port,
                const std::string& proto) {
  const Engine& e = in.e;
  const auto& fixed_parts = in.parts;
  const auto& fixed_translated = in.translated;
  const auto& fams = in.fams;
  const unsigned client_port = in.client_port;
  const SourcePartition& part = fixed_parts.at(en.family);
  // The prefixes that can tell sources apart for this port: those some
  // rule mentions without a destination port, or with one the packet can
  // have. Remote classes alike in all of them (and in every address set)
  // take the same path, so one walk stands for all of them.
  std::vector<char> relevant(part.prefixes.size());
  for (std::size_t i = 0; i < part.prefixes.size(); ++i) {
    const auto& pp = part.prefix_ports[i];
    bool r = pp.any || pp.reply_any;
    for (const auto& [lo, hi] : pp.ranges) {
      if (r) break;
      if (lo <= port && port <= hi) r = true;
      auto it = fixed_translated.lower_bound(lo);
      if (it != fixed_translated.end() && *it <= hi) r = true;
    }
    for (const auto& [lo, hi] : pp.reply_ranges)
      if (lo <= client_port && client_port <= hi) r = true;
    relevant[i] = r;
  }
  en.facts = fams.at(en.family);
  en.classes = en.facts->classes;
  en.relevant = std::move(relevant);
  en.port = port;
  en.proto = proto;
  en.destination_addrs = dsts;
  for (const auto& d : dsts)
    // Remote sources include loopback destinations: a neighbour on the
    // link can address 127.0.0.1 to the host (moby#45610).
    en.destinations.push_back(fmt::format("{}:{}/{}", bracketed(d), port, proto));
  // A remote class takes an earlier walk's path where SharedWalks says so
  // (prefixes named only in chains that walk never entered, such as tenant
  // chains on input for a port whose packets are forwarded, split nothing);
  // the host and containers are walked each.
  SharedWalks shared(en);
  std::unordered_map<std::string, std::uint32_t> other_walk;
  en.walk.reserve(part.classes.size());
  std::uint32_t walks = 0;
  VisitedChains visited;
  for (std::size_t ci = 0; ci < part.classes.size(); ++ci) {
    const SourceClass& c = part.classes[ci];
    std::optional<std::uint32_t> w = shared.find(ci);
    if (!w && c.source.kind != Source::Kind::remote)
      if (auto it = other_walk.find(c.label); it != other_walk.end()) w = it->second;
    if (!w) {
      visited.clear();
      for (const auto& d : dsts)
        en.outcomes.push_back(std::make_shared<const Outcome>(
            e.run(c.source, d, port, proto, false, false, &visited)));  // explain shows the path
      w = walks++;
      if (c.source.kind == Source::Kind::remote) shared.add(ci, *w, visited);
      else other_walk.emplace(c.label, *w);
    }
    en.walk.push_back(*w);
  }
}

}  // namespace

Exposure compute_exposure(const Engine& e, unsigned threads) {
  Exposure x;
  const Snapshot& s = e.snapshot();
  std::map<int, SourcePartition> parts;
  const std::map<int, std::shared_ptr<ClassFacts>> fams = class_facts(e, x, parts);
  const unsigned client_port = Packet{}.sport;  // the port replies go to
  const std::set<unsigned> translated = translated_ports(s, client_port);
  std::vector<Job> jobs = exposure_jobs(s);
  const WalkInputs in{e, parts, fams, translated, client_port};
  parallel_for(jobs.size(), threads ? threads : analysis_threads(),
               [&](std::size_t i) { walk_entry(in, jobs[i].en, jobs[i].dsts, jobs[i].port, jobs[i].proto); });
  x.entries.reserve(jobs.size());
  for (auto& j : jobs) x.entries.push_back(std::move(j.en));
  x.partitions = std::move(parts);
  return x;
}

const std::string& SharedWalks::key(std::size_t ci, const std::string* allowed) const {
  const ClassFacts& f = *en_.facts;
  const SourceClass& c = (*f.classes)[ci];
  std::string& key = key_;  // reused: a key is looked up or copied before the next is made
  auto put = [&](std::uint32_t v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  key = c.source.iif;
  key += '\0';
  for (auto i : f.prefixes[ci])
    if (en_.relevant[i] && (!allowed || (*allowed)[i])) put(i);
  put(UINT32_MAX);
  for (auto i : f.sets[ci]) put(i);
  return key;
}

std::optional<std::uint32_t> SharedWalks::find(std::size_t ci) const {
  const SourceClass& c = (*en_.facts->classes)[ci];
  if (c.source.kind != Source::Kind::remote || !c.source.addr) return std::nullopt;
  if (auto it = exact_.find(key(ci, nullptr)); it != exact_.end()) return it->second;
  constexpr std::size_t kTried = 8;
  for (std::size_t n = 0; n < order_.size() && n < kTried; ++n) {
    const Scope& sc = scopes_[order_[n]];
    if (auto it = sc.walks.find(key(ci, &sc.allowed)); it != sc.walks.end()) {
      std::rotate(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(n), order_.begin() + static_cast<std::ptrdiff_t>(n) + 1);
      return it->second;
    }
  }
  return std::nullopt;
}

void SharedWalks::add(std::size_t ci, std::uint32_t id, const VisitedChains& v) {
  const ClassFacts& f = *en_.facts;
  const SourceClass& c = (*f.classes)[ci];
  if (c.source.kind != Source::Kind::remote || !c.source.addr) return;
  exact_.emplace(key(ci, nullptr), id);
  // The prefixes the walk could test, of those that matter for this port:
  // the unattributed ones, those of every rule of a chain it read whole,
  // and those named by a rule it met and did not close (VisitedChains). A
  // request's destination is the cell's, so a prefix a rule tests only as
  // a destination counts where a reply met the rule.
  if (base_.empty()) {
    base_.assign(f.unattributed.size(), '\0');
    for (std::size_t i = 0; i < base_.size(); ++i) base_[i] = en_.relevant[i] && f.unattributed[i];
  }
  std::string allowed = base_;
  auto count = [&](const ClassFacts::Named& n, bool reply) {
    if (en_.relevant[n.prefix] && (reply || !n.dst)) allowed[n.prefix] = 1;
  };
  std::vector<std::uint32_t> whole;  // chain number * 2 + (a reply)
  for (const auto& bc : v.chains) {
    if (!bc.whole) continue;
    std::lock_guard lock(f.chain_id_lock);  // entries walk on several threads
    auto [it, fresh] = f.chain_id_of.try_emplace({bc.base, bc.chain}, UINT32_MAX);
    if (fresh)
      if (auto l = f.chain_id.find(chain_label(*bc.base, *bc.chain)); l != f.chain_id.end()) it->second = l->second;
    if (it->second != UINT32_MAX) whole.push_back(it->second * 2 + bc.reply);
  }
  std::sort(whole.begin(), whole.end());
  whole.erase(std::unique(whole.begin(), whole.end()), whole.end());
  for (auto w : whole)
    for (const auto& n : f.chain_prefixes[w / 2]) count(n, w & 1);
  const Json* last = nullptr;
  bool last_reply = false;
  for (const auto& m : v.rules) {
    if (m.closed || (m.rule == last && m.reply == last_reply)) continue;
    last = m.rule;
    last_reply = m.reply;
    if (auto it = f.rule_prefixes.find(m.rule); it != f.rule_prefixes.end())
      for (const auto& n : it->second) count(n, m.reply);
  }
  // A few scopes cover the walks of most hosts; past that, a walk is kept
  // under its exact key only (less sharing, never a wrong one).
  constexpr std::size_t kMaxScopes = 64;
  auto it = scope_of_.find(allowed);
  if (it == scope_of_.end()) {
    if (scopes_.size() >= kMaxScopes) return;
    it = scope_of_.emplace(allowed, scopes_.size()).first;
    scopes_.push_back({std::move(allowed), {}});
    order_.insert(order_.begin(), it->second);
  }
  Scope& sc = scopes_[it->second];
  sc.walks.emplace(key(ci, &sc.allowed), id);
}

// Walks without NAT of one family's remote classes, shared between entries:
// per (protocol, destination address) and class, the walks held with the
// ports they hold for. decided_by is interned here for every entry, so it
// outlives an entry's own walks (ExposureEntry::forget_bare_walks).
struct ClassFacts::PortWalks {
  struct Held {
    unsigned lo = 0, hi = 0;  // the ports this walk stands for
    ExposureEntry::Bare bare;
  };
  std::map<std::pair<std::string, IpAddr>, std::vector<std::vector<Held>>> by_destination;
  std::set<std::string> deciders;
  std::vector<std::vector<Held>>& of(const std::string& proto, const IpAddr& dst, std::size_t classes) {
    auto& v = by_destination[{proto, dst}];
    v.resize(classes);
    return v;
  }
  static void hold(std::vector<Held>& held, std::pair<unsigned, unsigned> cell, const ExposureEntry::Bare& b) {
    for (const auto& h : held)
      if (h.lo <= cell.first && cell.second <= h.hi) return;
    held.push_back({cell.first, cell.second, b});
  }
};

namespace {
// The ports every chain a walk entered treats as `port` (PortCuts): a walk
// of the same class to any of them takes the same path, test by test, as
// long as nothing besides the rules looked at the port, which holds until a
// socket lookup. nullopt: a chain reads ports in a way not cut.
std::optional<std::pair<unsigned, unsigned>> port_cell(const VisitedChains& v, unsigned port) {
  unsigned lo = 0, hi = 65535;
  const Chain* last = nullptr;
  for (const auto& bc : v.chains) {
    const Chain* c = bc.chain;
    if (c == last) continue;
    last = c;
    if (c->ports.opaque) return std::nullopt;
    auto [l, h] = c->ports.cell(port);
    lo = std::max(lo, l);
    hi = std::min(hi, h);
  }
  return std::pair{lo, hi};
}
}  // namespace

struct ExposureEntry::BareWalks {
  std::vector<SharedWalks> shared;                 // per destination
  std::vector<std::vector<Bare>> outcomes;         // per destination: per walk
  // per destination: per walk, the ports it stands for (nullopt: this one only)
  std::vector<std::vector<std::optional<std::pair<unsigned, unsigned>>>> cells;
  // per destination: the family's walks of other entries (ClassFacts::PortWalks), per class
  std::vector<std::vector<std::vector<ClassFacts::PortWalks::Held>>*> across;
  // per destination: per walk, whether it is the same walk to every
  // destination Engine::plain_local says so of (it met no socket, and no
  // rule of a chain it entered reads the destination)
  std::vector<std::vector<char>> blind;
  std::vector<char> plain;  // per destination: Engine::plain_local
  // per class: 1 + the destination and the walk of such a walk it takes, or 0
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blind_of;
  std::map<std::pair<std::size_t, std::size_t>, Bare> others;  // the host, containers: (class, destination)
  std::set<std::string>* deciders = nullptr;       // decided_by, interned (the family's)
  Bare keep(const Outcome& o) {
    return {o.result, o.dropped_at_input, o.dropped_in_filter, &*deciders->insert(o.decided_by).first};
  }
};

ExposureEntry::Bare ExposureEntry::bare_walk(const Engine& e, std::size_t ci, std::size_t k, PortRange* holds) const {
  using PortWalks = ClassFacts::PortWalks;
  if (!bare_) {
    if (!facts->port_walks) facts->port_walks = std::make_shared<PortWalks>();
    bare_ = std::make_shared<BareWalks>();
    bare_->shared.reserve(destinations.size());
    for (std::size_t d = 0; d < destinations.size(); ++d) {
      bare_->shared.emplace_back(*this);
      bare_->across.push_back(&facts->port_walks->of(proto, destination_addrs[d], classes->size()));
    }
    bare_->outcomes.resize(destinations.size());
    bare_->cells.resize(destinations.size());
    bare_->blind.resize(destinations.size());
    for (const IpAddr& a : destination_addrs) bare_->plain.push_back(e.plain_local(a));
    bare_->blind_of.assign(classes->size(), {0, 0});
    bare_->deciders = &facts->port_walks->deciders;
  }
  BareWalks& b = *bare_;
  auto held_for = [&](const std::optional<PortRange>& cell) {
    if (holds) *holds = cell.value_or(PortRange{port, port});
  };
  const Source& src = (*classes)[ci].source;
  if (src.kind != Source::Kind::remote || !src.addr) {
    auto it = b.others.find({ci, k});
    if (it == b.others.end())
      it = b.others.emplace(std::pair{ci, k}, b.keep(e.run(src, destination_addrs[k], port, proto, false, true))).first;
    held_for(std::nullopt);
    return it->second;
  }
  // The class's own walk to another port of this cell first: a look at a
  // few cells, where SharedWalks makes a key.
  std::vector<PortWalks::Held>& held = (*b.across[k])[ci];
  for (const auto& h : held)
    if (h.lo <= port && port <= h.hi) {
      held_for(PortRange{h.lo, h.hi});
      return h.bare;
    }
  // A walk ci takes to another destination that is the same walk to this
  // one (BareWalks::blind), or one of this destination's it takes the path of.
  auto reuse = [&](std::size_t at, std::uint32_t w) {
    const auto& cell = b.cells[at][w];
    if (cell) PortWalks::hold(held, *cell, b.outcomes[at][w]);
    held_for(cell);
    return b.outcomes[at][w];
  };
  if (auto [at, w] = b.blind_of[ci]; at && b.plain[k]) return reuse(at - 1, w);
  if (auto w = b.shared[k].find(ci)) {
    // ci takes walk w's path to this port, so to w's other ports as well.
    if (b.plain[k] && b.blind[k][*w]) b.blind_of[ci] = {static_cast<std::uint32_t>(k + 1), *w};
    return reuse(k, *w);
  }
  VisitedChains visited;
  Outcome o = e.run(src, destination_addrs[k], port, proto, false, true, &visited);
  Bare r = b.keep(o);
  std::optional<PortRange> cell;
  if (!o.met_socket) cell = port_cell(visited, port);
  const auto id = static_cast<std::uint32_t>(b.outcomes[k].size());
  b.shared[k].add(ci, id, visited);
  b.outcomes[k].push_back(r);
  b.cells[k].push_back(cell);
  // The same walk to every plain local destination: nothing on its way read
  // where it was going. A chain entered by a reply reads the destination as
  // the reply's source, so a walk with a reply counts as reading it.
  const bool blind = !o.met_socket && std::none_of(visited.chains.begin(), visited.chains.end(),
                                                    [](const VisitedChains::Entered& c) {
                                                      return c.reply || !c.chain || c.chain->reads_destination;
                                                    });
  b.blind[k].push_back(blind);
  if (blind && b.plain[k]) b.blind_of[ci] = {static_cast<std::uint32_t>(k + 1), id};
  if (cell) PortWalks::hold(held, *cell, r);
  held_for(cell);
  return r;
}

namespace {
// What makes two cells of an entry one group: the destination and the
// outcome as reports show it.
struct GroupKey {
  std::string_view destination, target, decided_by;
  Outcome::Result result;
  const std::vector<std::string>* uncertain;
  bool operator==(const GroupKey& o) const {
    return destination == o.destination && result == o.result && target == o.target && decided_by == o.decided_by &&
           *uncertain == *o.uncertain;
  }
};
struct GroupKeyHash {
  std::size_t operator()(const GroupKey& g) const {
    std::hash<std::string_view> h;
    std::size_t x = h(g.destination) ^ (h(g.target) * 31) ^ (h(g.decided_by) * 131) ^ static_cast<std::size_t>(g.result);
    for (const auto& u : *g.uncertain) x = x * 1099511628211u ^ h(u);
    return x;
  }
};
}  // namespace

std::vector<CellGroup> group_cells(const ExposureEntry& en) {
  std::vector<CellGroup> groups;
  std::unordered_map<GroupKey, std::size_t, GroupKeyHash> index;
  const std::size_t nd = en.destinations.size(), none = SIZE_MAX;
  std::vector<std::size_t> of_outcome(en.outcomes.size(), none);  // walk's outcome -> group
  for (std::size_t ci = 0; ci < en.walk.size(); ++ci)
    for (std::size_t k = 0; k < nd; ++k) {
      std::size_t slot = en.walk[ci] * nd + k;
      if (of_outcome[slot] == none) {
        const Outcome& o = *en.outcomes[slot];
        auto [it, fresh] =
            index.emplace(GroupKey{en.destinations[k], o.target, o.decided_by, o.result, &o.uncertain}, groups.size());
        if (fresh) groups.push_back({k, &o, {}});
        of_outcome[slot] = it->second;
      }
      groups[of_outcome[slot]].sources.push_back(static_cast<std::uint32_t>(ci));
    }
  return groups;
}

namespace {

// An entry's audience summary (analyze/audience.hpp): what text and HTML
// show first, with the same counts.
Json summary_json(const ExposureEntry& en) {
  EntrySummary sum = summarize(en);
  Json audiences = Json::array();
  for (const auto& row : sum.rows)
    audiences.push_back({{"audience", to_string(row.who)},
                         {"state", to_string(row.state())},
                         {"open", row.of(Reach::open).size()},
                         {"uncertain", row.of(Reach::uncertain).size()},
                         {"closed", row.of(Reach::closed).size()},
                         {"text", describe(en, row)}});
  return {{"sources", sum.sources}, {"open", sum.open}, {"uncertain", sum.uncertain},
          {"headline", sum.headline()}, {"audiences", std::move(audiences)}};
}

// The distinct sets of source classes cell groups name, numbered in the
// order they are first met (indexes into Exposure::classes).
class SourceSets {
 public:
  explicit SourceSets(const Exposure& x) : x_(x) {}
  std::uint32_t of(const ExposureEntry& en, const CellGroup& g) {
    std::uint32_t base = x_.class_base.at(en.family);
    std::vector<std::uint32_t> v(g.sources);
    for (auto& ci : v) ci += base;
    auto [it, fresh] = id_.try_emplace(std::move(v), static_cast<std::uint32_t>(order_.size()));
    if (fresh) order_.push_back(&it->first);
    return it->second;
  }
  const std::vector<const std::vector<std::uint32_t>*>& sets() const { return order_; }

 private:
  const Exposure& x_;
  std::map<std::vector<std::uint32_t>, std::uint32_t> id_;
  std::vector<const std::vector<std::uint32_t>*> order_;
};

}  // namespace

namespace {

// The cells of an entry as its JSON has them (schema 3): one per outcome
// and set of sources, naming every destination that gets it, in the order
// first met. Set numbers are taken in group_cells' order.
struct JsonCell {
  std::vector<std::size_t> destinations;
  const Outcome* outcome;
  std::uint32_t source_set;
};
std::vector<JsonCell> json_cells(const ExposureEntry& en, SourceSets& sets) {
  std::vector<JsonCell> cells;
  std::unordered_map<std::string, std::size_t> index;
  for (const CellGroup& g : group_cells(en)) {
    const Outcome& o = *g.outcome;
    std::uint32_t set = sets.of(en, g);
    std::string key = fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", to_string(o.result), o.target, o.decided_by,
                                  fmt::join(o.uncertain, "\x1f"), set);
    auto [it, fresh] = index.emplace(std::move(key), cells.size());
    if (fresh) cells.push_back({{}, &o, set});
    cells[it->second].destinations.push_back(g.destination);
  }
  return cells;
}

}  // namespace

Json to_json(const Exposure& x) {
  Json j;
  j["schema_version"] = kExposureSchemaVersion;
  Json classes = Json::array();
  for (const auto& c : x.classes) classes.push_back({{"label", c.label}, {"representative", c.representative}});
  j["source_classes"] = std::move(classes);
  SourceSets sets(x);
  Json entries = Json::array();
  for (const auto& en : x.entries) {
    Json cells = Json::array();
    for (const auto& c : json_cells(en, sets)) {
      Json dsts = Json::array();
      for (std::size_t d : c.destinations) dsts.push_back(en.destinations[d]);
      cells.push_back({{"destinations", std::move(dsts)}, {"outcome", to_string(c.outcome->result)},
                       {"target", c.outcome->target}, {"decided_by", c.outcome->decided_by},
                       {"uncertain", c.outcome->uncertain}, {"source_set", c.source_set}});
    }
    entries.push_back({{"kind", to_string(en.kind)},
                       {"what", en.what},
                       {"family", en.family},
                       {"summary", summary_json(en)},
                       {"cells", std::move(cells)}});
  }
  j["entries"] = std::move(entries);
  Json all = Json::array();
  for (const auto* v : sets.sets()) all.push_back(*v);
  j["source_sets"] = std::move(all);
  return j;
}

void write_json(const Exposure& x, const std::function<void(std::string_view)>& out, bool pretty, const Json& head,
                int depth) {
  // The same text as dump_json(to_json(x)), written as it is made: the
  // document of a large host is millions of source labels.
  std::string b;
  auto flush = [&](bool force) {
    if (force || b.size() > (1u << 20)) {
      out(b);
      b.clear();
    }
  };
  JsonWriter w(b, pretty, depth);
  auto strings = [&](const std::vector<std::string>& v) {
    w.begin_array();
    for (const auto& e : v) w.string(e);
    w.end_array();
  };
  w.begin_object();
  w.key("schema_version");
  w.number(kExposureSchemaVersion);
  for (const auto& [k, v] : head.items()) {
    w.key(k);
    w.value(v);
  }
  w.key("source_classes");
  w.begin_array();
  for (const auto& c : x.classes) {
    w.begin_object();
    w.key("label");
    w.string(c.label);
    w.key("representative");
    w.string(c.representative);
    w.end_object();
  }
  w.end_array();
  w.key("entries");
  SourceSets sets(x);
  w.begin_array();
  for (const auto& en : x.entries) {
    w.begin_object();
    w.key("kind");
    w.string(to_string(en.kind));
    w.key("what");
    w.string(en.what);
    w.key("family");
    w.number(en.family);
    w.key("summary");
    w.value(summary_json(en));
    w.key("cells");
    w.begin_array();
    for (const auto& c : json_cells(en, sets)) {
      w.begin_object();
      w.key("destinations");
      w.begin_array();
      for (std::size_t d : c.destinations) w.string(en.destinations[d]);
      w.end_array();
      w.key("outcome");
      w.string(to_string(c.outcome->result));
      w.key("target");
      w.string(c.outcome->target);
      w.key("decided_by");
      w.string(c.outcome->decided_by);
      w.key("uncertain");
      strings(c.outcome->uncertain);
      w.key("source_set");
      w.number(c.source_set);
      w.end_object();
    }
    w.end_array();
    w.end_object();
    flush(false);
  }
  w.end_array();
  w.key("source_sets");
  w.begin_array();
  for (const auto* v : sets.sets()) {
    w.begin_array();
    for (std::uint32_t ci : *v) w.number(ci);
    w.end_array();
    flush(false);
  }
  w.end_array();
  w.end_object();
  if (depth == 0) b += '\n';
  flush(true);
}

namespace {
std::string entry_heading(const ExposureEntry& en) {
  return fmt::format("{} {} (IPv{})", en.kind == EntryKind::published ? "published" : "host socket", en.what, en.family);
}

// The audience rows of an entry, one per line under its heading; an entry
// closed to every source is its heading alone.
void audience_lines(std::string& s, const ExposureEntry& en, const EntrySummary& sum, std::string_view indent) {
  if (!sum.open && !sum.uncertain) return;
  for (const auto& row : sum.rows)
    s += fmt::format("{}{:<13} {}\n", indent, to_string(row.who), describe(en, row));
}
}  // namespace

std::string render_text(const Exposure& x) {
  std::string s;
  for (const auto& en : x.entries) {
    EntrySummary sum = summarize(en);
    s += fmt::format("{}: {}\n", entry_heading(en), sum.headline());
    audience_lines(s, en, sum, "    ");
    s += "  by destination:\n";
    for (const auto& g : group_cells(en)) {
      const Outcome& o = *g.outcome;
      std::string mark = o.result == Outcome::Result::delivered ? "OPEN"
                         : o.result == Outcome::Result::dropped ? "closed" : "UNCERTAIN";
      std::string why = o.result == Outcome::Result::delivered
                            ? o.target + (o.decided_by.empty() ? "" : "  [" + o.decided_by + "]")
                            : o.decided_by;
      s += fmt::format("    {:<9} {:<28} {}\n", mark, en.destinations[g.destination], why);
      s += "              from ";
      for (std::size_t i = 0; i < g.sources.size(); ++i) {
        if (i) s += "; ";
        s += (*en.classes)[g.sources[i]].label;
      }
      s += "\n";
    }
  }
  return s;
}

std::string render_open_table(const Exposure& x) {
  std::string s;
  for (const auto& en : x.entries) {
    EntrySummary sum = summarize(en);
    s += fmt::format("  {}: {}\n", entry_heading(en), sum.headline());
    audience_lines(s, en, sum, "      ");
  }
  return s;
}

}  // namespace dfa
