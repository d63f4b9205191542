#include "remediate/guard.hpp"

#include "remediate/guard_chains.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <set>

#include "dfa/version.hpp"
#include "findings/findings.hpp"

namespace dfa {
namespace guard_detail {
Json match(const char* op, Json left, Json right) {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}
Json meta(const char* key) { return {{"meta", {{"key", key}}}}; }
Json payload(const char* proto, const char* field) { return {{"payload", {{"protocol", proto}, {"field", field}}}}; }
Json prefix_json(const Prefix& p) {
  if (p.len == p.addr.bytes() * 8) return p.addr.str();
  return {{"prefix", {{"addr", p.addr.str()}, {"len", p.len}}}};
}
}  // namespace guard_detail
using namespace guard_detail;
namespace {

constexpr const char* kTable = "dockfw_guard";

std::string quoted_set(const std::vector<std::string>& v) {
  if (v.size() == 1) return "\"" + v[0] + "\"";
  std::vector<std::string> q;
  for (const auto& s : v) q.push_back("\"" + s + "\"");
  return fmt::format("{{ {} }}", fmt::join(q, ", "));
}
Json string_set(const std::vector<std::string>& v) {
  if (v.size() == 1) return v[0];
  return {{"set", v}};
}

Expr iifname(const std::vector<std::string>& ifaces) {
  return {"iifname " + quoted_set(ifaces), match("==", meta("iifname"), string_set(ifaces)), Part::of(Part::iif, ifaces)};
}
Expr iifname_not(const std::string& iface) {
  return {"iifname != \"" + iface + "\"", match("!=", meta("iifname"), iface), Part::of(Part::iif_not, {iface})};
}
Expr iifname_not_set(const std::vector<std::string>& ifaces) {
  return {"iifname != " + quoted_set(ifaces), match("!=", meta("iifname"), string_set(ifaces))};
}
Expr nfproto(int family) {
  std::string f = family == 6 ? "ipv6" : "ipv4";
  return {"meta nfproto " + f, match("==", meta("nfproto"), f), Part::of(Part::nfproto, {}, {}, family)};
}
Expr addr_match(int family, const char* field, const std::vector<Prefix>& ps) {
  const char* proto = family == 6 ? "ip6" : "ip";
  std::vector<std::string> texts;
  Json elems = Json::array();
  for (const auto& p : ps) {
    texts.push_back(p.len == p.addr.bytes() * 8 ? p.addr.str() : p.str());
    elems.push_back(prefix_json(p));
  }
  std::string t = texts.size() == 1 ? texts[0] : fmt::format("{{ {} }}", fmt::join(texts, ", "));
  Json right = ps.size() == 1 ? elems[0] : Json{{"set", elems}};
  return {fmt::format("{} {} {}", proto, field, t), match("==", payload(proto, field), right),
          Part::of(std::string_view(field) == "saddr" ? Part::saddr : Part::daddr, {}, ps, family)};
}
Expr l4proto(const std::string& p) { return {"meta l4proto " + p, match("==", meta("l4proto"), p), Part::of(Part::l4proto, {p})}; }
Expr ct_original_dport(unsigned port) {
  return {fmt::format("ct original proto-dst {}", port),
          match("==", Json{{"ct", {{"key", "proto-dst"}, {"dir", "original"}}}}, port),
          Part::of(Part::ct_odport, {}, {}, 0, port)};
}
Expr ct_state_new() { return {"ct state new", match("in", Json{{"ct", {{"key", "state"}}}}, "new"), Part::of(Part::ct_new)}; }
Expr ct_status_dnat() {
  return {"ct status dnat", match("in", Json{{"ct", {{"key", "status"}}}}, "dnat"), Part::of(Part::ct_dnat)};
}
Expr verdict(const char* v) { return {v, Json{{v, nullptr}}, Part::of(Part::verdict, {v})}; }
Expr jump(const std::string& chain) { return {"jump " + chain, Json{{"jump", {{"target", chain}}}}, Part::of(Part::jump, {chain})}; }

Expr fib_local() {
  return {"fib daddr type local", match("==", Json{{"fib", {{"result", "type"}, {"flags", Json::array({"daddr"})}}}}, "local")};
}
Expr daddr_not_loopback() {
  return {"ip daddr != 127.0.0.0/8", match("!=", payload("ip", "daddr"), Json{{"prefix", {{"addr", "127.0.0.0"}, {"len", 8}}}})};
}
Expr dport(const std::string& proto, unsigned port) {
  return {fmt::format("{} dport {}", proto, port), match("==", payload(proto.c_str(), "dport"), port),
          Part::of(Part::dport, {proto}, {}, 0, port)};
}
Expr oifname(const std::vector<std::string>& ifaces, bool negate = false) {
  return {std::string("oifname ") + (negate ? "!= " : "") + quoted_set(ifaces),
          match(negate ? "!=" : "==", meta("oifname"), string_set(ifaces))};
}
Expr dnat_to(int family, const IpAddr& a, unsigned port) {
  std::string shown = bracketed(a);
  return {fmt::format("dnat {} to {}:{}", family == 6 ? "ip6" : "ip", shown, port),
          Json{{"dnat", {{"family", family == 6 ? "ip6" : "ip"}, {"addr", a.str()}, {"port", port}}}}};
}

// A source class of the partition: its interface, family and the most
// specific mentioned prefix it lies in (none: "any other address").
struct ClassKey {
  std::string iif;
  int family = 4;
  std::optional<Prefix> prefix;
  std::string label;
};

std::optional<Prefix> most_specific(const std::vector<Prefix>& ps, const IpAddr& a) {
  const Prefix* best = nullptr;
  for (const auto& p : ps)
    if (p.contains(a) && (!best || p.len > best->len)) best = &p;
  if (!best) return std::nullopt;
  return best->network();
}

// Published host ports: (port, proto) -> entries.
struct PortKey {
  unsigned port;
  std::string proto;
  bool operator<(const PortKey& o) const { return std::tie(port, proto) < std::tie(o.port, o.proto); }
};

// Dropped by a rule or policy of a filter hook (prerouting, input, forward):
// known without a trace (Outcome::dropped_in_filter).
bool filter_dropped(const Outcome& o) { return o.result == Outcome::Result::dropped && o.dropped_in_filter; }

// The rules of a port chain from the policy file: allowed prefixes return,
// everything else from outside is dropped. False (and no rules) when the
// policy leaves the port open to everyone.
bool policy_port_rules(const GuardPolicy& policy, const std::string& spec, const std::vector<std::string>& ext, GChain& pc,
                       std::string& intent_line, const std::vector<std::string>& names) {
  const GuardPolicy::Port* rule = nullptr;
  for (const auto& p : policy.ports)
    if (p.spec == spec) rule = &p;
  if (!rule)
    for (const auto& p : policy.ports)
      if (p.spec == "*") rule = &p;
  if (!rule || rule->any) {
    intent_line = fmt::format("{} ({}): open to every source (policy{})", spec, fmt::join(names, ", "), rule ? "" : ": no entry");
    return false;
  }
  for (int fam : {4, 6}) {
    std::vector<Prefix> allow;
    for (const auto& a : rule->allow)
      if (a.addr.family == fam) allow.push_back(a);
    if (!allow.empty()) pc.rules.push_back({{iifname(ext), addr_match(fam, "saddr", allow), verdict("return")}, ""});
  }
  pc.rules.push_back({{iifname(ext), verdict("drop")}, ""});
  std::vector<std::string> allowed;
  for (const auto& a : rule->allow) allowed.push_back(a.str());
  intent_line = fmt::format("{} ({}): open only to {} (policy)", spec, fmt::join(names, ", "),
                            allowed.empty() ? std::string("no outside source") : fmt::format("{}", fmt::join(allowed, ", ")));
  return true;
}

// The script (for nft -f) and the same table as libnftables lists it.
void render(Remediation& rem, const Snapshot& s, const std::string& style, const std::string& table,
            const std::string& intent_source, const std::vector<GChain>& chains) {
  rem.table = table;
  rem.style = style;
  std::string collected = s.doc.value("collected_at", "");
  std::string hostname = s.host ? s.host->hostname : "";
  std::string& t = rem.script;
  t += "#!/usr/sbin/nft -f\n";
  t += fmt::format("# dockfw-audit {} remediate --style {}, for {} (snapshot collected {}).\n", kVersion, style,
                   hostname.empty() ? "this host" : hostname, collected.empty() ? "?" : collected);
  t += fmt::format("# Load with: nft -f FILE. It replaces table inet {} atomically and\n"
                   "# nothing else: Docker's rules and the host's own tables stay as they are.\n"
                   "# Regenerate it when published ports or Docker networks change\n"
                   "# (dockfw-audit drift notices).\n#\n",
                   table);
  t += fmt::format("# Intent ({}):\n", intent_source);
  for (const auto& line : rem.intent) t += "#   " + line + "\n";
  t += fmt::format("\ntable inet {}\ndelete table inet {}\ntable inet {} {{\n", table, table, table);
  int handle = 1;
  rem.ruleset.push_back({{"table", {{"family", "inet"}, {"name", table}, {"handle", handle++}}}});
  for (const auto& c : chains) {
    Json cj = {{"family", "inet"}, {"table", table}, {"name", c.name}, {"handle", handle++}};
    t += fmt::format("\tchain {} {{\n", c.name);
    if (!c.hook.empty()) {
      cj["type"] = c.type;
      cj["hook"] = c.hook;
      cj["prio"] = c.prio;
      cj["policy"] = "accept";
      t += fmt::format("\t\ttype {} hook {} priority {}; policy accept;\n", c.type, c.hook, c.prio_text);
    }
    rem.ruleset.push_back({{"chain", std::move(cj)}});
    for (const auto& r : c.rules) {
      if (!r.comment.empty()) t += "\t\t# " + r.comment + "\n";
      std::vector<std::string> words;
      Json expr = Json::array();
      for (const auto& e : r.exprs) {
        words.push_back(e.text);
        expr.push_back(e.json);
      }
      t += fmt::format("\t\t{}\n", fmt::join(words, " "));
      rem.ruleset.push_back(
          {{"rule", {{"family", "inet"}, {"table", table}, {"chain", c.name}, {"handle", handle++}, {"expr", std::move(expr)}}}});
    }
    t += "\t}\n";
  }
  t += "}\n";
}

}  // namespace

Result<GuardPolicy> load_guard_policy(const std::string& path) {
  auto text = read_input_file(path, kMaxConfigBytes);
  if (!text) return text.error();
  return parse_guard_policy(*text, path);
}

Result<GuardPolicy> parse_guard_policy(std::string_view text, const std::string& path) {
  auto doc = parse_json_text(text, path);
  if (!doc) return doc.error();
  auto fail = [&](const std::string& ptr, const std::string& what) {
    return input_error(fmt::format("{}: {}: {}", path, ptr, what));
  };
  if (!doc->is_object()) return fail("", "expected an object");
  auto v = doc->find("schema_version");
  if (v == doc->end() || !v->is_number_integer()) return fail("/schema_version", "expected an integer (1)");
  if (v->get<int>() > kGuardPolicySchemaVersion)
    return fail("/schema_version", fmt::format("policy schema {} is newer than this dockfw-audit supports ({})",
                                               v->get<int>(), kGuardPolicySchemaVersion));
  GuardPolicy p;
  p.given = true;
  for (const auto& [k, val] : doc->items()) {
    if (k == "schema_version") continue;
    if (k == "direct_routing" || k == "remote_loopback") {
      if (!val.is_string() || (val != "deny" && val != "allow")) return fail("/" + k, "expected \"deny\" or \"allow\"");
      (k == "direct_routing" ? p.deny_direct_routing : p.deny_remote_loopback) = val == "deny";
      continue;
    }
    if (k != "published") return fail("/" + k, "unknown member (published, direct_routing, remote_loopback)");
    if (!val.is_array()) return fail("/published", "expected an array");
    for (std::size_t i = 0; i < val.size(); ++i) {
      std::string ptr = fmt::format("/published/{}", i);
      const Json& e = val[i];
      if (!e.is_object() || !e.contains("port") || !e["port"].is_string())
        return fail(ptr, "expected {\"port\": \"8080/tcp\" or \"*\", \"allow\": [prefixes or \"any\"]}");
      GuardPolicy::Port port;
      port.spec = e["port"];
      if (port.spec != "*") {
        auto slash = port.spec.find('/');
        std::string proto = slash == std::string::npos ? "" : port.spec.substr(slash + 1);
        bool digits = slash > 0 && slash != std::string::npos &&
                      port.spec.find_first_not_of("0123456789") == slash;
        if (!digits || (proto != "tcp" && proto != "udp"))
          return fail(ptr + "/port", fmt::format("expected PORT/tcp, PORT/udp or \"*\", found \"{}\"", port.spec));
      }
      if (!e.contains("allow") || !e["allow"].is_array()) return fail(ptr + "/allow", "expected an array");
      for (std::size_t k2 = 0; k2 < e["allow"].size(); ++k2) {
        const Json& a = e["allow"][k2];
        if (a == "any") {
          port.any = true;
          continue;
        }
        auto pr = a.is_string() ? Prefix::parse(a.get<std::string>()) : std::nullopt;
        if (!pr) return fail(fmt::format("{}/allow/{}", ptr, k2), "expected an address, a prefix or \"any\"");
        port.allow.push_back(pr->network());
      }
      p.ports.push_back(std::move(port));
    }
  }
  return p;
}

namespace {
// Container subnets of Docker's bridge networks, reached from outside without a published port.
// What Docker was told to open stays open (DFA014): a network whose
// gateway mode opens its containers' addresses (Docker 28: routed,
// nat-unprotected), the host interfaces a network trusts
// (trusted_host_interfaces), and with allow-direct-routing the published
// container ports. Subnets are grouped by the interfaces they are guarded on.
void direct_routing_rules(const Snapshot& s, const std::vector<std::string>& ext, const GuardPolicy& policy,
                          Remediation& rem, GChain& pre) {
  std::map<std::pair<int, std::vector<std::string>>, std::vector<Prefix>> subnets;  // (family, interfaces)
  if (s.docker)
    for (const DockerNetwork& n : s.docker->networks) {
      if (n.driver != "bridge") continue;
      std::vector<std::string> guarded_on;
      for (const auto& i : ext)
        if (!n.trusts(i)) guarded_on.push_back(i);
      for (const auto& sn : n.subnets)
        if (auto p = Prefix::parse(sn.subnet)) {
          const std::string& mode = n.gateway_mode(p->addr.family);
          if (mode == "routed" || mode == "nat-unprotected") {
            rem.intent.push_back(fmt::format("{} (network {}): left open to direct routing, as its gateway mode {} says",
                                             p->network().str(), n.name, mode));
            continue;
          }
          if (guarded_on.size() != ext.size())
            rem.intent.push_back(fmt::format("{} (network {}): left open to direct routing from {}, the interfaces it "
                                             "trusts (com.docker.network.bridge.trusted_host_interfaces)",
                                             p->network().str(), n.name, fmt::join(n.trusted_host_interfaces(), ", ")));
          if (!guarded_on.empty()) subnets[{p->addr.family, guarded_on}].push_back(p->network());
        }
    }
  Location direct_where;
  if (policy.deny_direct_routing && !ext.empty() && docker_flag(s, "allow-direct-routing", direct_where).value_or(false) &&
      s.docker) {
    // Published container ports, by their own address: Docker was told to
    // let routed packets reach them.
    for (const Container* c : s.docker->running())
      for (const ContainerNetwork& cn : c->networks) {
        const DockerNetwork* net = s.docker->network(cn.network);
        for (const std::string* k : {&cn.ipv4, &cn.ipv6}) {
          auto a = IpAddr::parse(*k);
          if (!a || !net || net->driver != "bridge" || net->gateway_mode(a->family) == "routed") continue;
          std::set<std::pair<unsigned, std::string>> done;
          for (const PortBinding& b : c->ports)
            if (done.insert({b.container_port, b.protocol}).second)
              pre.rules.push_back({{iifname(ext), addr_match(a->family, "daddr", {Prefix{*a, a->bytes() * 8}}),
                                    dport(b.protocol, b.container_port), verdict("return")},
                                   fmt::format("{} {}:{}/{}: published, and allow-direct-routing lets hosts that "
                                               "route to it reach it by its own address",
                                               c->name, a->str(), b.container_port, b.protocol)});
        }
      }
  }
  if (policy.deny_direct_routing && !ext.empty())
    for (auto& [key, ps] : subnets) {
      const auto& [fam, ifaces] = key;
      std::sort(ps.begin(), ps.end(), [](const Prefix& a, const Prefix& b) { return a.str() < b.str(); });
      ps.erase(std::unique(ps.begin(), ps.end(), [](const Prefix& a, const Prefix& b) { return a.str() == b.str(); }),
               ps.end());
      pre.rules.push_back({{iifname(ifaces), addr_match(fam, "daddr", ps), ct_state_new(), verdict("drop")},
                           fmt::format("new connections to container addresses (IPv{}) from outside: only published ports, "
                                       "through Docker's DNAT, may reach containers; replies to theirs pass",
                                       fam)});
    }
}

// The remote classes asked about, numbered once in label order (classes
// and members of address sets), with what every port asks of them: their
// key, their number in each family's classes, the network and interface
// that correspond across families, and the order of their rules per
// (interface, family). A port then works on numbers: 1,000 ports x 2,800
// classes made 6 million string-keyed lookups.
struct Asked {
  const std::string* label;
  const ClassKey* key;
  int kind;                // 1 a class, 2 a member of an address set
  std::string prefix;      // key->prefix as text, "" without one
  std::string family_free;  // "any|IIF" / "net HOSTIF|IIF", "" when none
};
struct AskedClasses {
  std::vector<Asked> asked;
  // Classes (not set members) per (interface, family), most specific prefix
  // first: a class is the region of its most specific mentioned prefix.
  std::map<std::pair<std::string, int>, std::vector<int>> rule_order;
  // Per family's classes: each class's number, or -1 when not asked.
  std::map<const std::vector<SourceClass>*, std::vector<int>> ids_of;
};
AskedClasses asked_classes(const Snapshot& s, const Exposure& x, const std::map<std::string, ClassKey>& classes,
                           const std::map<std::string, ClassKey>& set_classes) {
  std::vector<Asked> asked;
  {
    auto a = classes.begin(), b = set_classes.begin();
    while (a != classes.end() || b != set_classes.end()) {
      const bool from_a = b == set_classes.end() || (a != classes.end() && a->first < b->first);
      auto& it = from_a ? a : b;
      asked.push_back({&it->first, &it->second, from_a ? 1 : 2, it->second.prefix ? it->second.prefix->str() : "", ""});
      ++it;
    }
  }
  std::unordered_map<std::string_view, int> asked_id;
  for (std::size_t i = 0; i < asked.size(); ++i) asked_id.emplace(*asked[i].label, static_cast<int>(i));
  {
    // A port closed to a network in one family is meant closed to it in the
    // other: "any other address" on an interface, and the subnet of each
    // host interface (its IPv4 and its IPv6 network), correspond.
    std::map<std::string, std::string> net_iface;  // "prefix" -> host interface holding it
    if (s.host)
      for (const Interface& i : s.host->interfaces)
        for (const InterfaceAddress& a : i.addresses)
          if (a.scope == "global")
            if (auto p = Prefix::parse(fmt::format("{}/{}", a.address, a.prefix_len)))
              net_iface[p->network().str()] = i.name;
    for (Asked& a : asked) {
      if (!a.key->prefix) {
        a.family_free = "any|" + a.key->iif;
      } else if (auto it = net_iface.find(a.prefix); it != net_iface.end()) {
        a.family_free = "net " + it->second + "|" + a.key->iif;
      }
    }
  }
  std::map<std::pair<std::string, int>, std::vector<int>> rule_order;
  for (std::size_t i = 0; i < asked.size(); ++i)
    if (asked[i].kind == 1) rule_order[{asked[i].key->iif, asked[i].key->family}].push_back(static_cast<int>(i));
  for (auto& [where, ids] : rule_order)
    std::sort(ids.begin(), ids.end(), [&](int x, int y) {
      const ClassKey *a = asked[x].key, *b = asked[y].key;
      int la = a->prefix ? a->prefix->len : -1, lb = b->prefix ? b->prefix->len : -1;
      return la != lb ? la > lb : a->label < b->label;
    });
  std::map<const std::vector<SourceClass>*, std::vector<int>> ids_of;
  for (const auto& en : x.entries) {
    auto [it, fresh] = ids_of.try_emplace(en.classes.get());
    if (!fresh) continue;
    for (const auto& cls : *en.classes) {
      auto a = asked_id.find(cls.label);
      it->second.push_back(a == asked_id.end() ? -1 : a->second);
    }
  }
  return {std::move(asked), std::move(rule_order), std::move(ids_of)};
}

// Per asked class: 1 closed, 0 open, -1 undecided, kUnset not asked here.
constexpr int kUnset = 2;
struct PortVerdicts {
  std::vector<int> val;  // per asked class
  // Classes a forward rule of the admin's own opened: the other family's
  // closing does not carry over to them (inferred_port_rules).
  std::set<std::string> meant_open, meant_by;  // and the rules that opened them
};
// Intent per remote class: closed when the filters drop it on the path
// without Docker's NAT or on the real path; undecided when uncertain.
// Joined over the port's cells ("one value, else -1", which does not
// depend on order).
PortVerdicts port_verdicts(const Engine& engine, const AskedClasses& ac,
                           const std::vector<const ExposureEntry*>& entries) {
  PortVerdicts pv{std::vector<int>(ac.asked.size(), kUnset), {}, {}};
  std::vector<int>& val = pv.val;
  for (const auto* en : entries) {
    const std::vector<int>& ids = ac.ids_of.at(en->classes.get());
    // The real path when the filters dropped it there (the cell's own
    // outcome: exposure walked it, and an untraced walk knows whether a
    // filter hook dropped it) or when a forward rule of the admin's own
    // accepted it (Outcome::admin_accept), else the path without Docker's NAT
    // (shared with DFA001: ExposureEntry::bare_walk).
    const std::size_t nd = en->destinations.size();
    for (std::size_t ci = 0; ci < en->walk.size(); ++ci) {
      if (ids[ci] < 0) continue;
      for (std::size_t k = 0; k < nd; ++k) {
        const ExposureCell c = en->cell(ci, k);
        if (c.destination_addr.is_loopback()) continue;  // the raw rule's business
        int verdict_here;
        if (c.outcome->result == Outcome::Result::uncertain) {
          verdict_here = -1;
        } else if (filter_dropped(*c.outcome)) {
          verdict_here = 1;
        } else if (c.outcome->result == Outcome::Result::delivered && !c.outcome->admin_accept.empty()) {
          verdict_here = 0;  // a forward rule of the admin's own let it through (`ufw route allow`)
          pv.meant_open.insert(c.source_class.label);
          pv.meant_by.insert(c.outcome->admin_accept);
        } else {
          const ExposureEntry::Bare bare = en->bare_walk(engine, ci, k);
          verdict_here = bare.result == Outcome::Result::uncertain                                  ? -1
                         : bare.result == Outcome::Result::dropped && bare.dropped_in_filter ? 1
                                                                                               : 0;
        }
        // Every destination must agree; otherwise the class stays as it is.
        int& v = val[static_cast<std::size_t>(ids[ci])];
        v = v == kUnset ? verdict_here : v != verdict_here ? -1 : v;
      }
    }
  }
  return pv;
}

// The rules of one (interface, family) group of classes, most specific
// prefix first: drop the closed, return the open and the undecided (left to
// the rules after this table).
std::vector<GRule> group_rules(const std::vector<Asked>& asked, const std::vector<int>& group,
                               const std::vector<int>& val, const std::string& iif, int fam) {
  std::vector<GRule> rules;
  for (int g : group) {
    int v = val[g];
    const ClassKey* key = asked[g].key;
    std::vector<Expr> e = {iifname({iif})};
    e.push_back(key->prefix ? addr_match(fam, "saddr", {*key->prefix}) : nfproto(fam));
    // Undecided classes are left to the rules after this table.
    e.push_back(verdict(v == 1 ? "drop" : "return"));
    rules.push_back({std::move(e), ""});
  }
  // A rule matters only when the first later rule that covers its
  // addresses (a less specific prefix, or the rest of the family)
  // decides otherwise; with no later rule, only a drop matters.
  std::vector<GRule> kept;
  std::vector<const ClassKey*> kept_keys;
  for (std::size_t i = rules.size(); i-- > 0;) {
    const ClassKey* gi = asked[group[i]].key;
    const std::string& mine = rules[i].exprs.back().text;
    std::string next = "return";  // what happens without this rule
    for (std::size_t j = kept_keys.size(); j-- > 0;) {
      const ClassKey* gj = kept_keys[j];
      if (!gj->prefix || (gi->prefix && gj->prefix->len <= gi->prefix->len && gj->prefix->contains(gi->prefix->addr))) {
        next = kept[j].exprs.back().text;
        break;
      }
    }
    if (mine == next) continue;
    kept.push_back(std::move(rules[i]));
    kept_keys.push_back(gi);
  }
  std::reverse(kept.begin(), kept.end());
  return kept;
}

// The rules of one published port's chain (pc) inferred from the host's own
// filter rules, and the line that says what they mean (intent_line). False
// when the port needs none: it is bound to loopback only.
bool inferred_port_rules(const Engine& engine, const AskedClasses& ac, const std::vector<const ExposureEntry*>& entries,
                         const std::vector<std::string>& ext, const std::string& spec,
                         const std::vector<std::string>& names, GChain& pc, std::string& intent_line) {
  const std::vector<Asked>& asked = ac.asked;
  const auto& rule_order = ac.rule_order;
  PortVerdicts pv = port_verdicts(engine, ac, entries);
  std::vector<int>& val = pv.val;
  const std::set<std::string>&meant_open = pv.meant_open, &meant_by = pv.meant_by;
  // The port's classes in label order (rows) and its set members.
  std::vector<int> rows, members;
  for (std::size_t i = 0; i < asked.size(); ++i)
    if (val[i] != kUnset) (asked[i].kind == 2 ? members : rows).push_back(static_cast<int>(i));
  // A region's drop would also close the members of a set inside it that
  // are open (an allowlist) or not known to be closed: such a region is
  // left to the rules after this table, as an undecided one.
  std::vector<std::string> left_to_host;
  for (int mi : members) {
    left_to_host.push_back(*asked[mi].label);
    if (val[mi] == 1) continue;
    const Asked& m = asked[mi];
    for (int ri : rows) {
      const Asked& r = asked[ri];
      if (val[ri] == 1 && r.key->iif == m.key->iif && r.key->family == m.key->family &&
          r.key->prefix.has_value() == m.key->prefix.has_value() && r.prefix == m.prefix)
        val[ri] = -1;
    }
  }
  // A port closed to a network in one family is meant closed to it in
  // the other (Asked::family_free). This is what closes the IPv6 path
  // through docker-proxy that DOCKER-USER and forward guards never see.
  // Not where a forward rule of the admin's own opened the class (`ufw
  // route allow` to the container, while ufw's input closes
  // docker-proxy's IPv6 port only because nobody opened it there).
  std::map<int, int> counterpart;  // class -> the class in the other family
  {
    std::map<std::pair<std::string_view, int>, int> by_key;
    for (int ri : rows)
      if (!asked[ri].family_free.empty()) by_key[{asked[ri].family_free, asked[ri].key->family}] = ri;
    for (const auto& [key, ri] : by_key)
      if (auto o = by_key.find({key.first, key.second == 4 ? 6 : 4}); o != by_key.end()) counterpart[ri] = o->second;
  }
  const std::vector<int> own = val;
  for (int ri : rows)
    if (val[ri] == 0 && !meant_open.count(*asked[ri].label))
      if (auto c = counterpart.find(ri); c != counterpart.end() && own[c->second] == 1) val[ri] = 1;
  // Rules per (interface, family), most specific prefix first: a class
  // is the region of its most specific mentioned prefix.
  std::vector<std::string> closed_to, open_to, undecided;
  for (const auto& iif : ext)
    for (int fam : {4, 6}) {
      std::vector<int> group;
      if (auto o = rule_order.find({iif, fam}); o != rule_order.end())
        for (int i : o->second)
          if (val[i] != kUnset) group.push_back(i);
      if (group.empty()) continue;
      bool uniform = std::all_of(group.begin(), group.end(), [&](int g) { return val[g] == 1; });
      for (int g : group) {
        int v = val[g];
        (v == 1 ? closed_to : v == 0 ? open_to : undecided).push_back(*asked[g].label);
      }
      if (uniform) {
        pc.rules.push_back({{iifname({iif}), nfproto(fam), verdict("drop")}, ""});
        continue;
      }
      for (auto& r : group_rules(asked, group, val, iif, fam)) pc.rules.push_back(std::move(r));
    }
  if (rows.empty()) {
    intent_line = fmt::format("{} ({}): bound to loopback only; the 127.0.0.0/8 rule keeps other hosts out", spec,
                              fmt::join(names, ", "));
    return false;
  }
  // Closed everywhere: one rule instead of one per interface and family.
  bool all_drop = !pc.rules.empty() && open_to.empty() && undecided.empty();
  if (all_drop) pc.rules = {{{iifname(ext), verdict("drop")}, ""}};
  if (all_drop)
    intent_line = fmt::format("{} ({}): closed to every outside source", spec, fmt::join(names, ", "));
  else if (closed_to.empty() && undecided.empty() && !meant_by.empty())
    intent_line = fmt::format("{} ({}): open to every outside source, as the host's own forward rule{} {} say{}", spec,
                              fmt::join(names, ", "), meant_by.size() == 1 ? "" : "s", fmt::join(meant_by, ", "),
                              meant_by.size() == 1 ? "s" : "");
  else if (closed_to.empty() && undecided.empty())
    intent_line = fmt::format("{} ({}): open to every outside source (no filter rule of the host closes it)", spec,
                              fmt::join(names, ", "));
  else
    intent_line = fmt::format("{} ({}): closed to {}; open to {}", spec, fmt::join(names, ", "),
                              closed_to.empty() ? std::string("none") : fmt::format("{}", fmt::join(closed_to, "; ")),
                              open_to.empty() ? std::string("none") : fmt::format("{}", fmt::join(open_to, "; ")));
  if (!undecided.empty())
    intent_line += fmt::format("; not enforced (the analysis is uncertain, destinations disagree, or a drop would "
                               "close members of a set that are open): {}",
                               fmt::join(undecided, "; "));
  if (!left_to_host.empty())
    intent_line += fmt::format("; left to the host's own rules (members of a set, not a prefix): {}",
                               fmt::join(left_to_host, "; "));
  return true;
}
}  // namespace

namespace guard_detail {
std::vector<GChain> guard_chains(const Engine& engine, const Exposure& x, const GuardPolicy& policy, Remediation& rem) {
  const Snapshot& s = engine.snapshot();
  const std::map<int, SourcePartition>& parts = x.partitions;
  // External interfaces: those the remote source classes arrive on.
  std::set<std::string> ext_set;
  std::map<std::string, ClassKey> classes;  // label -> key
  // Members of address sets: their addresses are no prefix, so no guard rule
  // of their own; the rule of their region (their most specific prefix)
  // applies to them as well.
  std::map<std::string, ClassKey> set_classes;
  for (const auto& c : x.classes) {
    if (c.source.kind != Source::Kind::remote || !c.source.addr) continue;
    ext_set.insert(c.source.iif);
    ClassKey k{c.source.iif, c.source.addr->family, most_specific(parts.at(c.source.addr->family).prefixes, *c.source.addr),
               c.label};
    (c.in_set ? set_classes : classes)[c.label] = k;
  }
  std::vector<std::string> ext(ext_set.begin(), ext_set.end());

  GChain raw{"raw_prerouting", "prerouting", -300, "raw", {}};
  // After conntrack (-200), before NAT (-100): a new connection is told from
  // the reply to a container's own connection, which on a network without
  // masquerade (IPv6 without ip6tables, routed mode) comes back addressed to
  // the container (the lab found a raw drop cutting that egress).
  GChain pre{"prerouting", "prerouting", -150, "mangle", {}};
  GChain fwd{"forward", "forward", -10, "filter - 10", {}};
  GChain in{"input", "input", -10, "filter - 10", {}};
  GChain published{"published", "", 0, "", {}};
  std::vector<GChain> port_chains;

  if (policy.deny_remote_loopback)
    raw.rules.push_back({{iifname_not("lo"), addr_match(4, "daddr", {*Prefix::parse("127.0.0.0/8")}), verdict("drop")},
                         "127.0.0.0/8 from another host (moby#45610, route_localnet): never legitimate"});
  direct_routing_rules(s, ext, policy, rem, pre);

  // The published host ports and their cells.
  std::map<PortKey, std::vector<const ExposureEntry*>> ports;
  for (const auto& en : x.entries)
    if (en.kind == EntryKind::published && !en.cells().empty()) ports[PortKey{en.port, en.proto}].push_back(&en);

  const AskedClasses ac = asked_classes(s, x, classes, set_classes);

  for (const auto& [pk, entries] : ports) {
    std::string spec = fmt::format("{}/{}", pk.port, pk.proto);
    std::string chain_name = fmt::format("port_{}_{}", pk.proto, pk.port);
    std::vector<std::string> names;
    for (const auto* en : entries) names.push_back(en->what);
    GChain pc{chain_name, "", 0, "", {}};
    std::string intent_line;
    if (policy.given) {
      if (!policy_port_rules(policy, spec, ext, pc, intent_line, names)) {
        rem.intent.push_back(intent_line);
        continue;
      }
    } else if (!inferred_port_rules(engine, ac, entries, ext, spec, names, pc, intent_line)) {
      rem.intent.push_back(intent_line);  // bound to loopback only
      continue;
    }
    rem.intent.push_back(intent_line);
    if (pc.rules.empty()) continue;
    published.rules.push_back({{l4proto(pk.proto), ct_original_dport(pk.port), jump(chain_name)}, fmt::format("{}", fmt::join(names, ", "))});
    port_chains.push_back(std::move(pc));
  }
  if (!published.rules.empty()) {
    fwd.rules.push_back({{ct_state_new(), ct_status_dnat(), jump("published")},
                         "new connections Docker's DNAT forwards: judged by the port the client asked for"});
    in.rules.push_back({{ct_state_new(), jump("published")},
                        "new connections to docker-proxy (IPv6 without ip6tables, hosts without DNAT)"});
  }

  std::vector<GChain> chains;
  for (GChain* c : {&raw, &pre, &fwd, &in})
    if (!c->rules.empty()) chains.push_back(*c);
  if (!published.rules.empty()) chains.push_back(published);
  for (auto& c : port_chains) chains.push_back(std::move(c));
  return chains;
}
}  // namespace guard_detail

Remediation make_guard(const Engine& engine, const Exposure& x, const GuardPolicy& policy) {
  Remediation rem;
  std::vector<GChain> chains = guard_chains(engine, x, policy, rem);
  render(rem, engine.snapshot(), "guard", kTable,
         policy.given ? "from the policy file" : "inferred from the host's own filter rules", chains);
  return rem;
}

namespace {

// A bridge network of Docker's, as the owner style writes rules for it.
struct OwnerNet {
  std::string name, bridge;
  std::map<int, std::vector<Prefix>> subnets;
  bool icc = true, masquerade = true, internal = false;
};

// Docker's bridge networks, in the order of their bridges.
std::vector<OwnerNet> owner_networks(const DockerState& docker) {
  std::vector<OwnerNet> nets;
  for (const DockerNetwork& n : docker.networks) {
    if (n.driver != "bridge" || n.bridge.empty()) continue;
    // With "iptables": false dockerd also turns ip-masq off and records that
    // on the default bridge; restoring egress is the point of this style, so
    // only a user-defined network's own masquerade=false is honoured.
    bool masq = n.name == "bridge" || n.enable_ip_masquerade.value_or(true);
    OwnerNet net{n.name, n.bridge, {}, n.enable_icc.value_or(true), masq, n.internal};
    for (const auto& sn : n.subnets)
      if (auto p = Prefix::parse(sn.subnet)) net.subnets[p->addr.family].push_back(p->network());
    nets.push_back(std::move(net));
  }
  std::sort(nets.begin(), nets.end(), [](const OwnerNet& a, const OwnerNet& b) { return a.bridge < b.bridge; });
  return nets;
}

// Published bindings, DNATed to the container's address on its first
// network (rules of chain `published`), each with what it does in `rem`.
void owner_published(const DockerState& docker, bool proxy, GChain& published, Remediation& rem) {
  for (const Container* c : docker.running()) {
    std::map<int, std::optional<IpAddr>> addr;
    for (const ContainerNetwork& n : c->networks) {
      if (!addr[4]) addr[4] = IpAddr::parse(n.ipv4);
      if (!addr[6]) addr[6] = IpAddr::parse(n.ipv6);
    }
    for (const PortBinding& b : c->ports) {
      const std::string& hip = b.host_ip;
      std::string proto = b.protocol.empty() ? "tcp" : b.protocol;
      int fam = hip.find(':') != std::string::npos ? 6 : 4;
      unsigned hp = b.host_port, cp = b.container_port;
      std::string what = fmt::format("{} {}:{}->{}/{}", c->name, bracketed(hip), hp, cp, proto);
      if (!addr[fam]) {
        rem.intent.push_back(fmt::format("{}: the container has no IPv{} address; {}", what, fam,
                                         proxy ? "docker-proxy serves it" : "it cannot be served"));
        continue;
      }
      std::vector<Expr> e = {nfproto(fam)};
      bool any = hip.empty() || hip == "0.0.0.0" || hip == "::";
      if (!any) {
        auto h = IpAddr::parse(hip);
        if (!h) continue;
        if (h->is_loopback()) {
          rem.intent.push_back(fmt::format("{}: bound to loopback; {}", what,
                                           proxy ? "docker-proxy serves it, other hosts are kept out by the raw rule"
                                                 : "not DNATed (it would need route_localnet)"));
          continue;
        }
        e.push_back(addr_match(fam, "daddr", {Prefix{*h, h->bytes() * 8}}));
      }
      e.push_back(dport(proto, hp));
      e.push_back(dnat_to(fam, *addr[fam], cp));
      published.rules.push_back({std::move(e), what});
      rem.intent.push_back(fmt::format("{}: DNAT to {}:{}", what, addr[fam]->str(), cp));
    }
  }
}

// Each network's masquerade and hairpin (srcnat), isolation, icc and
// internal (forward) rules.
void owner_network_rules(std::vector<OwnerNet>& nets, const std::vector<std::string>& bridges, GChain& srcnat,
                         GChain& fwd) {
  for (auto& n : nets) {
    // IPv6 as Docker does it with ip6tables: masqueraded too, unless the
    // network turned masquerading off.
    for (int fam : {4, 6})
      for (const auto& p : n.subnets[fam]) {
        if (n.masquerade && !n.internal)
          srcnat.rules.push_back({{addr_match(fam, "saddr", {p}), oifname({n.bridge}, true), verdict("masquerade")},
                                  fmt::format("network {}: containers reach the outside world (IPv{})", n.name, fam)});
        srcnat.rules.push_back({{oifname({n.bridge}), ct_status_dnat(), addr_match(fam, "saddr", {p}), verdict("masquerade")},
                                fmt::format("network {}: hairpin, IPv{} (a container to a published port of its own network)",
                                            n.name, fam)});
      }
    std::vector<std::string> others;
    for (const auto& o : bridges)
      if (o != n.bridge) others.push_back(o);
    if (!others.empty())
      fwd.rules.push_back({{iifname({n.bridge}), oifname(others), verdict("drop")},
                           fmt::format("network {}: isolated from the other Docker networks", n.name)});
    if (!n.icc)
      fwd.rules.push_back({{iifname({n.bridge}), oifname({n.bridge}), verdict("drop")},
                           fmt::format("network {}: icc=false (needs bridge-nf-call-iptables=1 to see bridged traffic)", n.name)});
    if (n.internal) {
      fwd.rules.push_back({{iifname({n.bridge}), oifname({n.bridge}, true), verdict("drop")},
                           fmt::format("network {}: internal, no way out", n.name)});
      fwd.rules.push_back({{oifname({n.bridge}), iifname_not(n.bridge), verdict("drop")},
                           fmt::format("network {}: internal, no way in", n.name)});
    }
  }
}

// With a policy file: a chain per published port, jumped from `filtered`
// by the original destination port, and the rules that send new
// connections there at forward and input.
void owner_policy_rules(const DockerState& docker, const GuardPolicy& policy, const std::vector<std::string>& ext,
                        GChain& guard_fwd, GChain& guard_in, GChain& filtered, std::vector<GChain>& port_chains,
                        Remediation& rem) {
  std::map<std::pair<unsigned, std::string>, std::vector<std::string>> ports;
  for (const Container* c : docker.running())
    for (const PortBinding& b : c->ports)
      ports[{b.host_port, b.protocol.empty() ? "tcp" : b.protocol}].push_back(c->name);
  for (auto& [pk, names] : ports) {
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string spec = fmt::format("{}/{}", pk.first, pk.second);
    GChain pc{fmt::format("port_{}_{}", pk.second, pk.first), "", 0, "", {}};
    std::string line;
    bool filter = policy_port_rules(policy, spec, ext, pc, line, names);
    rem.intent.push_back(line);
    if (!filter) continue;
    filtered.rules.push_back({{l4proto(pk.second), ct_original_dport(pk.first), jump(pc.name)}, ""});
    port_chains.push_back(std::move(pc));
  }
  if (!filtered.rules.empty()) {
    guard_fwd.rules.push_back({{ct_state_new(), ct_status_dnat(), jump("filtered")}, "published ports, per the policy"});
    guard_in.rules.push_back({{ct_state_new(), jump("filtered")}, "docker-proxy, per the policy"});
  }
}

}  // namespace

Result<Remediation> make_owner(const Engine& engine, const Exposure& x, const GuardPolicy& policy) {
  const Snapshot& s = engine.snapshot();
  Location where;
  auto iptables = docker_flag(s, "iptables", where);
  if (!iptables || *iptables)
    return input_error(
        "--style owner is for hosts that run Docker with \"iptables\": false (Docker writes no rules, the host "
        "firewall owns NAT); this dockerd writes its own rules: use --style guard");
  if (!s.docker) return input_error("--style owner needs Docker's state (the docker_api collector read nothing)");
  const DockerState& docker = *s.docker;
  Location w2;
  bool proxy = docker_flag(s, "userland-proxy", w2).value_or(true);
  Remediation rem;
  std::set<std::string> ext_set;
  for (const auto& c : x.classes)
    if (c.source.kind == Source::Kind::remote) ext_set.insert(c.source.iif);
  std::vector<std::string> ext(ext_set.begin(), ext_set.end());

  std::vector<OwnerNet> nets = owner_networks(docker);
  std::vector<std::string> bridges;
  for (const auto& n : nets) bridges.push_back(n.bridge);

  GChain raw{"raw_prerouting", "prerouting", -300, "raw", {}};
  GChain dstnat{"nat_prerouting", "prerouting", -100, "dstnat", {}, "nat"};
  GChain outnat{"nat_output", "output", -100, "-100", {}, "nat"};  // "dstnat" names prerouting only
  GChain srcnat{"nat_postrouting", "postrouting", 100, "srcnat", {}, "nat"};
  GChain fwd{"forward", "forward", 0, "filter", {}};
  GChain published{"published", "", 0, "", {}};

  if (policy.deny_remote_loopback)
    raw.rules.push_back({{iifname_not("lo"), addr_match(4, "daddr", {*Prefix::parse("127.0.0.0/8")}), verdict("drop")},
                         "127.0.0.0/8 from another host (moby#45610): never legitimate"});
  if (policy.deny_direct_routing && !ext.empty())
    for (int fam : {4, 6}) {
      std::vector<Prefix> ps;
      for (auto& n : nets)
        for (const auto& p : n.subnets[fam]) ps.push_back(p);
      if (!ps.empty())
        raw.rules.push_back({{iifname(ext), addr_match(fam, "daddr", ps), verdict("drop")},
                             fmt::format("container addresses (IPv{}) from outside: only published ports reach containers", fam)});
    }

  owner_published(docker, proxy, published, rem);
  if (!published.rules.empty()) {
    if (proxy && !bridges.empty())
      // As Docker does with the userland proxy: a container reaching a
      // published port goes through docker-proxy, not back through NAT
      // (which would need hairpin mode on its bridge port).
      dstnat.rules.push_back({{iifname_not_set(bridges), fib_local(), jump("published")},
                              "connections to one of the host's addresses, except from containers (docker-proxy serves them)"});
    else
      dstnat.rules.push_back({{fib_local(), jump("published")}, "connections to one of the host's addresses"});
    outnat.rules.push_back({{daddr_not_loopback(), fib_local(), jump("published")},
                            "the host's own connections to its addresses (127.0.0.1 is docker-proxy's)"});
  }
  owner_network_rules(nets, bridges, srcnat, fwd);
  // With a policy file, published ports are also filtered, as in the guard
  // style: by the original destination port, at forward and input.
  GChain guard_fwd{"filter_forward", "forward", -10, "filter - 10", {}};
  GChain guard_in{"filter_input", "input", -10, "filter - 10", {}};
  GChain filtered{"filtered", "", 0, "", {}};
  std::vector<GChain> port_chains;
  if (policy.given) owner_policy_rules(docker, policy, ext, guard_fwd, guard_in, filtered, port_chains, rem);
  std::vector<GChain> chains;
  for (GChain* c : {&raw, &dstnat, &outnat, &srcnat, &guard_fwd, &guard_in, &fwd})
    if (!c->rules.empty()) chains.push_back(*c);
  if (!published.rules.empty()) chains.push_back(published);
  if (!filtered.rules.empty()) chains.push_back(filtered);
  for (auto& c : port_chains) chains.push_back(std::move(c));
  render(rem, s, "owner", "dockfw_owner", "Docker's own state: every published binding and bridge network", chains);
  return rem;
}

Snapshot with_remediation(const Snapshot& s, const Remediation& r) {
  if (!r.iptables.empty()) {
    Json doc = s.doc;
    with_iptables_rules(doc, r);
    return Snapshot{std::move(doc)};
  }
  Snapshot out{s.doc};
  Json& nft = out.doc["nftables"];
  if (!nft.is_object()) return out;  // no nftables collected: nothing to model the table in
  Json kept = Json::array();
  for (const auto& o : nft["ruleset"]) {
    const Json* inner = nullptr;
    for (const char* k : {"table", "chain", "rule", "set", "map"})
      if (o.contains(k)) inner = &o[k];
    bool ours = inner && inner->value("family", "") == "inet" &&
                (inner->value("table", "") == r.table || (o.contains("table") && inner->value("name", "") == r.table));
    if (!ours) kept.push_back(o);
  }
  for (const auto& o : r.ruleset) kept.push_back(o);
  nft["ruleset"] = std::move(kept);
  return out;
}

bool is_hole(const Finding& f, const std::string& style) {
  // The owner style publishes what Docker's state says is published: a port
  // open over IPv4 past an input drop is its intent (restrict it with
  // --policy), so only direct container access and remote loopback count.
  if (style == "owner") return f.rule_id == "DFA005" || f.rule_id == "DFA006";
  return f.rule_id == "DFA001" || f.rule_id == "DFA004" || f.rule_id == "DFA005" || f.rule_id == "DFA006";
}

namespace {
// Outside source classes each published entry is open to, and those for
// which the analysis is uncertain (never counted as closed).
struct OutsideCount {
  std::size_t open = 0, uncertain = 0;
};
std::map<std::string, OutsideCount> open_outside(const Exposure& x) {
  std::map<std::string, OutsideCount> m;
  for (const auto& en : x.entries) {
    if (en.kind != EntryKind::published) continue;
    // Per walk (its classes share every outcome): delivered to some
    // destination, uncertain for some; then counted per class, a class
    // open anywhere counting as open only.
    const std::size_t nd = en.destinations.size(), walks = nd ? en.outcomes.size() / nd : 0;
    std::vector<char> open(walks), uncertain(walks);
    for (std::size_t w = 0; w < walks; ++w)
      for (std::size_t k = 0; k < nd; ++k) {
        const Outcome& o = *en.outcomes[w * nd + k];
        open[w] |= o.result == Outcome::Result::delivered;
        uncertain[w] |= o.result == Outcome::Result::uncertain;
      }
    OutsideCount& n = m[en.what];
    n = {};
    for (std::size_t ci = 0; ci < en.walk.size(); ++ci) {
      const std::uint32_t w = en.walk[ci];
      if (!(*en.classes)[ci].remote() || w >= walks) continue;  // an entry without destinations has no cells
      n.open += open[w];
      n.uncertain += !open[w] && uncertain[w];
    }
  }
  return m;
}

std::string outside_text(const OutsideCount& c) {
  return c.uncertain ? fmt::format("{}, uncertain for {}", c.open, c.uncertain) : std::to_string(c.open);
}
}  // namespace

Verification verify_guard(const Engine& without, const ScanResult& before, const Remediation& r) {
  Verification v;
  const Snapshot& s = without.snapshot();
  Snapshot guarded = with_remediation(s, r);
  Engine engine(guarded);
  v.after = run_scan(engine);
  auto open_before = open_outside(before.exposure), open_after = open_outside(v.after.exposure);
  v.report = r.style == "ufw"         ? "\n# Verified on the snapshot with these rules loaded, as `ufw reload` leaves DOCKER-USER (dockfw-audit scan on it):\n"
             : r.style == "firewalld" ? "\n# Verified on the snapshot with these rules loaded, jumped first from DOCKER-USER (dockfw-audit scan on it):\n"
                                      : "\n# Verified on the snapshot with this table loaded (dockfw-audit scan on it):\n";
  for (const auto& [what, n] : open_before)
    v.report += fmt::format("#   {}: open to {} outside sources, {} after\n", what, outside_text(n),
                            outside_text(open_after[what]));
  for (const auto& [what, n] : open_after)
    if (n.uncertain) {
      ++v.uncertain_after;
      v.report += fmt::format("#   not proven closed: {} (the analysis is uncertain for {} outside sources)\n",
                              what, n.uncertain);
    }
  // Container egress: every running container's own connection to an
  // outside host (one per arrival interface and family, TCP 443 and UDP 53)
  // that works without the table must work with it.
  {
    std::set<std::pair<std::string, int>> seen;
    std::vector<IpAddr> outside;
    for (const auto& c : before.exposure.classes)
      if (c.remote() && c.source.addr && seen.insert({c.source.iif, c.source.addr->family}).second)
        outside.push_back(*c.source.addr);
    if (s.docker)
      for (const Container* c : s.docker->running())
        for (const IpAddr& a : outside)
          for (const auto& [proto, port] : {std::pair{"tcp", 443u}, std::pair{"udp", 53u}}) {
            Source src;
            src.kind = Source::Kind::container;
            src.container = c->name;
            if (without.run(src, a, port, proto, false).result != Outcome::Result::delivered) continue;
            Outcome o = engine.run(src, a, port, proto, false);
            if (o.result == Outcome::Result::delivered) continue;
            ++v.egress_cut;
            v.report += fmt::format("#   cuts container egress: {} to {}:{}/{} ({})\n", c->name,
                                    bracketed(a), port, proto,
                                    o.result == Outcome::Result::uncertain ? "uncertain" : o.decided_by);
          }
  }
  for (const auto& f : before.findings) v.holes_before += is_hole(f, r.style);
  for (const auto& f : v.after.findings)
    if (is_hole(f, r.style)) {
      ++v.holes_after;
      v.report += fmt::format("#   still open: {} {}\n", f.rule_id, f.message);
    } else if (is_hole(f, "guard")) {
      v.report += fmt::format("#   by intent: {} {}\n", f.rule_id, f.message);
    }
  v.report += fmt::format("#   holes ({}): {} before, {} after{}\n",
                          r.style == "owner" ? "DFA005, DFA006" : "DFA001, DFA004, DFA005, DFA006", v.holes_before,
                          v.holes_after,
                          v.uncertain_after ? fmt::format("; {} published port(s) not proven closed", v.uncertain_after) : "");
  // What no table fixes: settings and configuration files (dockfw-audit never
  // changes them; the admin does).
  std::set<std::string> told;
  for (const auto& f : v.after.findings) {
    if (is_hole(f, "guard") || f.rule_id == "DFA003" || f.rule_id == "DFA011" || !told.insert(f.rule_id).second) continue;
    const RuleDef* def = find_rule(f.rule_id);
    if (!def) continue;
    if (told.size() == 1)
      v.report += fmt::format("# Not a matter for {} (dockfw-audit scan has the details):\n",
                              r.iptables.empty() ? "this table" : "these rules");
    v.report += fmt::format("#   {} {}: {}\n", def->id, def->title, def->fix);
  }
  return v;
}

}  // namespace dfa
