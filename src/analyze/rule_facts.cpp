// What readers besides the compiler (exposure, checks, drift, the guard)
// ask of a rule as the snapshot has it: its port and address constraints,
// whether it reads the destination, whether it names sources.
#include "analyze/ruleset.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "analyze/rule_detail.hpp"

namespace dfa {

using namespace rule_detail;

std::optional<std::pair<unsigned, unsigned>> port_range(const Json& v) {
  if (v.is_number_unsigned()) return std::pair{v.get<unsigned>(), v.get<unsigned>()};
  if (v.is_object() && v.contains("range") && v["range"].is_array() && v["range"].size() == 2 &&
      v["range"][0].is_number_unsigned() && v["range"][1].is_number_unsigned())
    return std::pair{v["range"][0].get<unsigned>(), v["range"][1].get<unsigned>()};
  if (v.is_string()) {  // iptables "8080" or "7000:7002"
    return parse_port_range(v.get_ref<const std::string&>(), ':');
  }
  return std::nullopt;
}

// The destination ports a rule can match, when it tests them against
// constants (nft tcp/udp/th dport ==, iptables -p tcp --dport); nullopt: any.
namespace rule_detail {
// One nft expression, when it is a match `==`/`in` whose left side left_is
// accepts: the constant ports on its right (a port, a range, a set of
// them), or an empty value where the right is a set holding anything else
// (no constraint can be read from the rule); nullopt for any other
// expression. A malformed match throws: no constraint (or_claim_nothing).
template <class LeftIs>
std::optional<std::optional<PortRanges>> constant_port_match(const Json& e, LeftIs left_is) {
  auto mi = e.find("match");
  if (mi == e.end()) return std::nullopt;
  const Json& m = *mi;
  const std::string op = m.value("op", "");
  if (op != "==" && op != "in") return std::nullopt;
  const Json& left = m.at("left");
  if (!left.is_object() || !left_is(left)) return std::nullopt;
  const Json& right = m.at("right");
  if (right.is_object() && right.contains("set") && right["set"].is_array()) {
    PortRanges out;
    for (const auto& v : right["set"]) {
      auto rg = port_range(v);
      if (!rg) return std::optional<PortRanges>();
      out.push_back(*rg);
    }
    return out;
  }
  if (auto rg = port_range(right)) return std::optional<PortRanges>(PortRanges{*rg});
  return std::nullopt;
}

std::optional<PortRanges> dport_constraint_of(const Json& r, bool legacy) {
  auto from_xt = [](const Json& m) -> std::optional<PortRanges> {
    std::string n = m.value("name", "");
    if ((n != "tcp" && n != "udp") || !m.value("decoded", true) || !m.contains("params")) return std::nullopt;
    const Json& p = m["params"];
    if (!p.contains("dport") || p.value("dport_invert", false)) return std::nullopt;
    auto rg = port_range(p["dport"]);
    if (!rg) return std::nullopt;
    return PortRanges{*rg};
  };
  if (legacy) {
    for (const auto& m : array_member(r, "matches"))
      if (auto c = from_xt(m)) return c;
    return std::nullopt;
  }
  auto dport = [](const Json& left) {
    auto pl = left.find("payload");
    if (pl == left.end()) return false;
    const std::string proto = pl->value("protocol", "");
    return pl->value("field", "") == "dport" && (proto == "tcp" || proto == "udp" || proto == "th" || proto == "sctp");
  };
  for (const auto& e : array_member(r, "expr")) {
    if (e.contains("xt") && e["xt"].value("type", "") == "match")
      if (auto c = from_xt(e["xt"])) return c;
    if (auto c = constant_port_match(e, dport)) return *c;
  }
  return std::nullopt;
}

// `ct original proto-dst` against constants: the port the connection's
// first packet was sent to (the published port, before DNAT).
std::optional<PortRanges> ct_dport_constraint_of(const Json& r) {
  auto ct_original_dport = [](const Json& left) {
    auto ct = left.find("ct");
    return ct != left.end() && ct->value("key", "") == "proto-dst" && ct->value("dir", "") != "reply";
  };
  for (const auto& e : array_member(r, "expr"))
    if (auto c = constant_port_match(e, ct_original_dport)) return *c;
  return std::nullopt;
}
}  // namespace rule_detail

// On a rule it cannot read: no constraint: it may match any packet.
std::optional<PortRanges> dport_constraint(const Json& r, bool legacy) {
  return or_claim_nothing([&] { return dport_constraint_of(r, legacy); }, std::optional<PortRanges>());
}
std::optional<PortRanges> ct_dport_constraint(const Json& r) {
  return or_claim_nothing([&] { return ct_dport_constraint_of(r); }, std::optional<PortRanges>());
}

namespace rule_detail {
// Whether an nft rule object uses conntrack: a ct expression, a NAT
// statement, or an xt conntrack/state match or NAT target. Walks the JSON
// without printing it (large rulesets have 100,000 rules).
bool uses_conntrack(const Json& j) {
  static const std::set<std::string> keys = {"ct", "dnat", "snat", "masquerade", "redirect"};
  static const std::set<std::string> names = {"conntrack", "state", "DNAT", "SNAT", "MASQUERADE", "REDIRECT"};
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (keys.count(k)) return true;
      if (k == "name" && v.is_string() && names.count(v.get_ref<const std::string&>())) return true;
      if (uses_conntrack(v)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (uses_conntrack(v)) return true;
  } else if (j.is_string() && names.count(j.get_ref<const std::string&>())) {
    return true;
  }
  return false;
}
}  // namespace rule_detail

namespace rule_detail {
std::optional<AddrTest> single_address_test_of(const Json& r, bool legacy, int legacy_family) {
  if (legacy) {
    if (!array_member(r, "matches").empty() || !r.value("dst", "").empty() == !r.value("src", "").empty()) return std::nullopt;
    for (const char* k : {"in_iface", "out_iface", "protocol", "fragment"})
      if (!r.value(k, "").empty()) return std::nullopt;
    bool src = !r.value("src", "").empty();
    if (r.value(src ? "src_invert" : "dst_invert", false)) return std::nullopt;
    auto p = Prefix::parse(r.value(src ? "src" : "dst", ""));
    if (!p || p->len != p->addr.bytes() * 8 || p->addr.family != legacy_family) return std::nullopt;
    return AddrTest{src, legacy_family, p->addr};
  }
  std::optional<AddrTest> test;
  for (const auto& e : array_member(r, "expr")) {
    if (!e.is_object() || e.size() != 1) return std::nullopt;
    const std::string& k = e.begin().key();
    if (k == "counter" || k == "log" || k == "accept" || k == "drop" || k == "reject" || k == "return" || k == "jump" ||
        k == "goto")
      continue;
    if (k != "match" || test) return std::nullopt;
    // Read without copies: this runs for every rule of a large ruleset.
    const Json& m = e.begin().value();
    static const std::string none;
    auto str = [](const Json& o, const char* key) -> const std::string& {
      auto it = o.find(key);
      return it != o.end() && it->is_string() ? it->get_ref<const std::string&>() : none;
    };
    auto left = m.find("left"), right = m.find("right");
    if (str(m, "op") != "==" || left == m.end() || right == m.end() || !right->is_string()) return std::nullopt;
    auto pl = left->find("payload");
    if (pl == left->end()) return std::nullopt;
    const std::string &proto = str(*pl, "protocol"), &field = str(*pl, "field");
    if ((proto != "ip" && proto != "ip6") || (field != "saddr" && field != "daddr")) return std::nullopt;
    auto a = IpAddr::parse(right->get_ref<const std::string&>());
    int fam = proto == "ip6" ? 6 : 4;
    if (!a || a->family != fam) return std::nullopt;
    test = AddrTest{field == "saddr", fam, *a};
  }
  return test;
}
}  // namespace rule_detail

// On a rule it cannot read: no constraint: it may match any packet.
std::optional<TestReads> plain_test(const Json& m) {
  if (!m.is_object()) return std::nullopt;
  auto l = m.find("left"), r = m.find("right");
  if (l == m.end() || r == m.end() || !l->is_object() || l->size() != 1) return std::nullopt;
  std::string op = m.value("op", "==");
  if (op != "==" && op != "!=" && op != "in") return std::nullopt;
  // The right side: constants of one kind, alone or in an anonymous set.
  auto constants = [&](auto&& one) {
    if (r->is_object() && r->size() == 1 && r->contains("set")) {
      const Json& set = (*r)["set"];
      return set.is_array() && std::all_of(set.begin(), set.end(), one);
    }
    return one(*r);
  };
  auto name = [](const Json& x) { return x.is_string() && x.get_ref<const std::string&>().rfind('@', 0) != 0; };
  auto number = [](const Json& x) {
    if (x.is_number_unsigned()) return true;
    if (!x.is_object() || x.size() != 1 || !x.contains("range") || !x["range"].is_array()) return false;
    const Json& rg = x["range"];
    return rg.size() == 2 && rg[0].is_number_unsigned() && rg[1].is_number_unsigned();
  };
  auto ip = [](const Json& x) { return x.is_string() && IpAddr::parse(x.get_ref<const std::string&>()).has_value(); };
  auto address = [&](const Json& x) {
    if (ip(x)) return true;
    if (!x.is_object() || x.size() != 1) return false;
    if (auto p = x.find("prefix"); p != x.end())
      return p->is_object() && ip(p->value("addr", Json())) && p->value("len", Json()).is_number_unsigned();
    if (auto rg = x.find("range"); rg != x.end()) return rg->is_array() && rg->size() == 2 && ip((*rg)[0]) && ip((*rg)[1]);
    return false;
  };
  auto field = [](const Json& o, const char* k) {
    auto f = o.find(k);
    return f != o.end() && f->is_string() ? f->get<std::string>() : std::string();
  };
  if (auto meta = l->find("meta"); meta != l->end() && meta->is_object()) {
    std::string key = field(*meta, "key");
    if (key == "iifname" || key == "oifname" || key == "iif" || key == "oif" || key == "l4proto")
      if (constants(name)) return TestReads::path;
    return std::nullopt;
  }
  if (auto pl = l->find("payload"); pl != l->end() && pl->is_object()) {
    std::string proto = field(*pl, "protocol"), f = field(*pl, "field");
    if ((proto == "tcp" || proto == "udp" || proto == "th") && (f == "dport" || f == "sport") && constants(number))
      return TestReads::path;
    if ((proto == "ip" || proto == "ip6") && (f == "saddr" || f == "daddr") && constants(address))
      return f == "saddr" ? TestReads::saddr : TestReads::daddr;
  }
  return std::nullopt;
}

namespace rule_detail {
// A constant: what the right side of a match, a map's data or a statement's
// parameters hold (names, numbers, @set references, prefixes, ranges,
// anonymous sets, verdicts). Nothing here reads the packet.
bool constant_json(const Json& v, int depth = 0) {
  if (depth > 32) return false;
  if (v.is_primitive()) return true;
  if (v.is_array()) return std::all_of(v.begin(), v.end(), [&](const Json& x) { return constant_json(x, depth + 1); });
  static const std::set<std::string, std::less<>> keys = {
      "set",    "prefix", "range",  "concat",   "elem", "val",  "addr", "len",   "timeout", "expires", "comment",
      "|",      "accept", "drop",   "continue", "return", "jump", "goto", "target", "type",  "expr",   "prefix_len",
      "level",  "rate",   "per",    "burst",    "unit", "burst_unit", "inv", "flags", "packets", "bytes", "group",
      "snaplen", "queue-threshold", "used", "over", "val_unit", "used_unit"};
  for (const auto& [k, x] : v.items())
    if (!keys.count(k) || !constant_json(x, depth + 1)) return false;
  return true;
}

// An expression whose value no request's destination address changes.
bool destination_blind(const Json& e, int depth = 0) {
  if (depth > 32 || !e.is_object() || e.size() != 1) return false;
  const std::string& k = e.begin().key();
  const Json& v = e.begin().value();
  auto str = [&](const char* f) {
    auto it = v.find(f);
    return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!v.is_object() && k != "&" && k != "concat") return false;
  if (k == "meta") {
    static const std::set<std::string, std::less<>> ok = {"iifname", "iif", "l4proto", "nfproto", "mark", "protocol"};
    return ok.count(str("key")) > 0;
  }
  if (k == "payload") {
    std::string proto = str("protocol"), field = str("field");
    if ((proto == "ip" || proto == "ip6") && field == "saddr") return true;
    if ((proto == "ip" && field == "protocol") || (proto == "ip6" && field == "nexthdr")) return true;
    if ((proto == "tcp" || proto == "udp" || proto == "th" || proto == "sctp") && (field == "dport" || field == "sport"))
      return true;
    if (proto == "tcp" && field == "flags") return true;
    return proto == "icmp" || proto == "icmpv6";
  }
  if (k == "ct") {
    std::string key = str("key"), dir = str("dir");
    if (key == "state" || key == "status" || key == "direction" || key == "mark") return true;
    return (key == "proto-dst" || key == "proto-src") && dir != "reply";
  }
  if (k == "&")
    return v.is_array() && v.size() == 2 && destination_blind(v[0], depth + 1) && constant_json(v[1], depth + 1);
  if (k == "concat")
    return v.is_array() && std::all_of(v.begin(), v.end(), [&](const Json& x) { return destination_blind(x, depth + 1); });
  return false;
}

bool legacy_reads_destination(const Json& r) {
  if (!r.value("dst", std::string()).empty() || !r.value("out_iface", std::string()).empty()) return true;
  for (const auto& m : array_member(r, "matches")) {
    if (!m.value("decoded", false)) return true;
    std::string name = m.value("name", "");
    static const std::set<std::string, std::less<>> ok = {"tcp",  "udp",   "multiport", "comment", "mark",
                                                           "limit", "icmp", "icmp6",     "state"};
    if (ok.count(name)) continue;
    if (name != "conntrack") return true;
    static const std::set<std::string, std::less<>> ct_ok = {"ctstate",     "ctstate_invert", "ctstatus",
                                                              "ctstatus_invert", "origdstport", "origdstport_invert",
                                                              "ctdir"};
    const Json params = m.value("params", Json::object());
    if (!params.is_object()) return true;
    for (const auto& [k, x] : params.items())
      if (!ct_ok.count(k)) return true;
  }
  auto t = r.find("target");
  if (t == r.end() || !t->is_object()) return true;
  std::string kind = t->value("kind", ""), name = t->value("name", "");
  if (kind == "verdict" || kind == "jump" || kind == "goto") return false;
  return !(kind == "extension" && (name == "REJECT" || name == "LOG"));
}
}  // namespace rule_detail

bool rule_reads_destination(const Json& rule, bool legacy) {
  return or_claim_nothing(
      [&] {
        if (!rule.is_object()) return true;
        if (legacy) return legacy_reads_destination(rule);
        auto ex = rule.find("expr");
        if (ex == rule.end() || !ex->is_array()) return true;
        for (const auto& st : *ex) {
          if (!st.is_object() || st.size() != 1) return true;
          const std::string& k = st.begin().key();
          const Json& v = st.begin().value();
          if (k == "match") {
            if (!v.is_object() || !v.contains("left") || !v.contains("right")) return true;
            if (!destination_blind(v["left"]) || !constant_json(v["right"])) return true;
          } else if (k == "vmap") {
            if (!v.is_object() || !v.contains("key") || !v.contains("data")) return true;
            if (!destination_blind(v["key"]) || !constant_json(v["data"])) return true;
          } else if (k == "mangle") {
            // meta mark set / ct mark set to a constant.
            if (!v.is_object() || !v.contains("key") || !v.contains("value") || !constant_json(v["value"])) return true;
            const Json& key = v["key"];
            bool mark = (key.contains("meta") && key["meta"].is_object() && key["meta"].value("key", "") == "mark") ||
                        (key.contains("ct") && key["ct"].is_object() && key["ct"].value("key", "") == "mark");
            if (!mark) return true;
          } else {
            static const std::set<std::string, std::less<>> ok = {"counter", "log",  "limit",    "quota",  "accept",
                                                                   "drop",    "reject", "continue", "return", "jump",
                                                                   "goto",    "notrack"};
            if (!ok.count(k) || !constant_json(v)) return true;
          }
        }
        return false;
      },
      true);
}

bool opens_with_plain_test(const Json& rule, bool legacy) {
  if (!rule.is_object()) return false;
  if (legacy) {
    auto named = [&](const char* k) {
      auto v = rule.find(k);
      return v != rule.end() && v->is_string() && !v->get_ref<const std::string&>().empty();
    };
    return named("in_iface") || named("out_iface") || named("src") || named("dst") || named("protocol");
  }
  auto ex = rule.find("expr");
  if (ex == rule.end() || !ex->is_array() || ex->empty()) return false;
  const Json& first = (*ex)[0];
  return first.is_object() && first.size() == 1 && first.contains("match") && plain_test(first["match"]);
}

std::optional<AddrTest> single_address_test(const Json& r, bool legacy, int legacy_family) {
  return or_claim_nothing([&] { return single_address_test_of(r, legacy, legacy_family); }, std::optional<AddrTest>());
}


namespace rule_detail {
// The family whose `field` address (saddr, daddr) a match's left side reads
// (ip: 4, ip6: 6), or 0 when it reads something else.
int addr_payload_family(const Json& left, std::string_view field) {
  auto pl = left.find("payload");
  if (pl == left.end() || pl->value("field", "") != field) return 0;
  const std::string proto = pl->value("protocol", "");
  return proto == "ip" ? 4 : proto == "ip6" ? 6 : 0;
}

std::optional<IpAddr> daddr_constraint_of(const Json& r, bool legacy) {
  if (legacy) {
    std::string d = r.value("dst", "");
    if (d.empty() || r.value("dst_invert", false)) return std::nullopt;
    auto p = Prefix::parse(d);
    if (!p || p->len != p->addr.bytes() * 8) return std::nullopt;
    return p->addr;
  }
  for (const auto& e : array_member(r, "expr")) {
    if (!e.contains("match")) continue;
    const Json& m = e["match"];
    if (m.value("op", "") != "==" || !m["right"].is_string()) continue;
    const int fam = addr_payload_family(m["left"], "daddr");
    if (!fam) continue;
    auto a = IpAddr::parse(m["right"].get<std::string>());
    if (a && a->family == fam) return a;
  }
  return std::nullopt;
}
}  // namespace rule_detail

// On a rule it cannot read: no constraint: it may match any packet.
std::optional<IpAddr> daddr_constraint(const Json& r, bool legacy) {
  return or_claim_nothing([&] { return daddr_constraint_of(r, legacy); }, std::optional<IpAddr>());
}

namespace rule_detail {
bool names_sources_of(const Json& r, bool legacy) {
  if (legacy) {
    auto p = Prefix::parse(r.value("src", ""));
    return p && p->len > 0 && !r.value("src_invert", false);
  }
  for (const auto& e : array_member(r, "expr")) {
    if (!e.contains("match")) continue;
    const Json& m = e["match"];
    const std::string op = m.value("op", "==");
    if ((op != "==" && op != "in") || !addr_payload_family(m["left"], "saddr")) continue;
    const Json& right = m["right"];
    // "0.0.0.0/0" names everyone, which is no one in particular.
    if (right.is_object() && right.contains("prefix") && right["prefix"].value("len", 1) == 0) continue;
    return true;
  }
  return false;
}
}  // namespace rule_detail

// On a rule it cannot read: it names no one.
bool names_sources(const Json& r, bool legacy) {
  return or_claim_nothing([&] { return names_sources_of(r, legacy); }, false);
}

bool same_nft_chain(const Json& a, const Json& b) {
  for (const char* k : {"chain", "table", "family"}) {
    auto x = a.find(k), y = b.find(k);
    if ((x == a.end()) != (y == b.end()) || (x != a.end() && *x != *y)) return false;
  }
  return true;
}

}  // namespace dfa
