// iptables-legacy through libiptc, IPv4 and IPv6, every table the kernel has
// instantiated. Reading a table that does not exist would make the kernel
// instantiate it (and possibly load a module), changing what we audit, so only
// tables listed in /proc/net/ip{,6}_tables_names are opened.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "collect/collect.hpp"
#include "collect/iptc_proxy.h"
#include "collect/proc_parse.hpp"
#include "collect/xt.hpp"

namespace dfa {
namespace {

struct Walk {
  int family;
  Json chains = Json::array();
  Json pending_matches = Json::array();
  SetNameResolver sets;
};

void on_chain(void* c, const char* name, int builtin, const char* policy, uint64_t pk, uint64_t by) {
  auto* w = static_cast<Walk*>(c);
  Json ch;
  ch["name"] = name;
  ch["builtin"] = builtin != 0;
  ch["policy"] = builtin ? Json(policy) : Json(nullptr);
  ch["counters"] = {{"packets", pk}, {"bytes", by}};
  ch["rules"] = Json::array();
  w->chains.push_back(std::move(ch));
}

void on_match(void* c, const char* name, unsigned rev, const void* data, size_t len) {
  auto* w = static_cast<Walk*>(c);
  w->pending_matches.push_back(decode_xt(w->family, XtKind::match, name, rev, data, len, w->sets));
}

void on_rule(void* c, const dfa_ipt_rule* r) {
  auto* w = static_cast<Walk*>(c);
  Json& chain = w->chains.back();
  Json j;
  j["index"] = chain["rules"].size() + 1;  // iptables rule numbers are 1-based
  j["src"] = r->src;
  j["src_invert"] = r->src_inv != 0;
  j["dst"] = r->dst;
  j["dst_invert"] = r->dst_inv != 0;
  j["in_iface"] = r->in_iface;
  j["in_invert"] = r->in_inv != 0;
  j["out_iface"] = r->out_iface;
  j["out_invert"] = r->out_inv != 0;
  j["protocol"] = r->proto ? proto_name(r->proto) : "";
  j["protocol_number"] = r->proto;
  j["protocol_invert"] = r->proto_inv != 0;
  j["fragment"] = r->frag ? (r->frag_inv ? "not" : "only") : "";
  j["matches"] = std::move(w->pending_matches);
  w->pending_matches = Json::array();

  std::string verdict = r->verdict ? r->verdict : "";
  Json t;
  if (r->target_name[0] == 0) {
    // Standard target: a verdict, a jump or goto to a user chain, or none.
    bool builtin = verdict == "ACCEPT" || verdict == "DROP" || verdict == "RETURN" || verdict == "QUEUE";
    t["kind"] = verdict.empty() ? "none" : builtin ? "verdict" : r->is_goto ? "goto" : "jump";
    t["name"] = verdict;
    t["decoded"] = true;
    t["params"] = Json::object();
    t["text"] = "";
  } else {
    t = decode_xt(w->family, XtKind::target, r->target_name, r->target_rev, r->target_data,
                  r->target_len, w->sets);
    t["kind"] = "extension";
  }
  j["target"] = std::move(t);
  j["counters"] = {{"packets", r->packets}, {"bytes", r->bytes}};
  j["text"] = legacy_rule_text(chain["name"].get<std::string>(), j);
  chain["rules"].push_back(std::move(j));
}

// raw, mangle, nat, filter, security first, as iptables-save orders them
// by hook position; anything else after, by name.
int table_rank(const std::string& t) {
  static const char* order[] = {"raw", "mangle", "nat", "filter", "security"};
  for (int i = 0; i < 5; ++i)
    if (t == order[i]) return i;
  return 5;
}

struct FamilyResult {
  CollectorStatus status;
  std::string reason;
  Json data;
};

FamilyResult read_family(int family) {
  const char* names_file = family == 4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names";
  FamilyResult fr{CollectorStatus::ok, "", Json::object()};
  fr.data["tables"] = Json::array();
  auto names = read_lines(names_file);
  if (!names) {
    // No x_tables core for this family: there are no legacy tables at all.
    fr.status = CollectorStatus::absent;
    fr.reason = fmt::format("{} does not exist: no iptables-legacy support in this kernel", names_file);
    fr.data["status"] = "absent";
    return fr;
  }
  std::vector<std::string> tables = *names;
  tables.erase(std::remove(tables.begin(), tables.end(), std::string()), tables.end());
  std::sort(tables.begin(), tables.end(), [](const std::string& a, const std::string& b) {
    return std::pair(table_rank(a), a) < std::pair(table_rank(b), b);
  });
  if (tables.empty()) {
    fr.status = CollectorStatus::absent;
    fr.reason = fmt::format("no iptables-legacy tables are in use ({} is empty)", names_file);
  }
  for (const auto& name : tables) {
    Walk w{family, Json::array(), Json::array(), [](unsigned idx, std::string& out) {
             char buf[64];
             if (!dfa_ipset_name(idx, buf, sizeof buf)) return false;
             out = buf;
             return true;
           }};
    dfa_ipt_visitor v{&w, on_chain, on_match, on_rule};
    char err[256];
    if (dfa_iptc_read_table(family, name.c_str(), &v, err, sizeof err) != 0) {
      int e = errno;
      fr.status = (e == EPERM || e == EACCES) ? CollectorStatus::denied : CollectorStatus::error;
      fr.reason = err;
      continue;
    }
    fr.data["tables"].push_back({{"name", name}, {"chains", std::move(w.chains)}});
  }
  fr.data["status"] = to_string(fr.status);
  if (!fr.reason.empty()) fr.data["reason"] = fr.reason;
  return fr;
}

}  // namespace

Collected collect_iptables_legacy(const CollectOptions&) {
  if (!has_cap_net_admin())
    return {{CollectorStatus::denied, denied_reason("reading iptables-legacy tables")}, nullptr};
  FamilyResult v4 = read_family(4), v6 = read_family(6);
  Json data;
  data["ipv4"] = std::move(v4.data);
  data["ipv6"] = std::move(v6.data);
  CollectorReport rep;
  auto worst = [](CollectorStatus a, CollectorStatus b) {
    auto rank = [](CollectorStatus s) {
      switch (s) {
        case CollectorStatus::error: return 3;
        case CollectorStatus::denied: return 2;
        case CollectorStatus::ok: return 1;
        default: return 0;
      }
    };
    return rank(a) >= rank(b) ? a : b;
  };
  rep.status = worst(v4.status, v6.status);
  std::vector<std::string> reasons;
  if (v4.status != CollectorStatus::ok && !v4.reason.empty()) reasons.push_back("IPv4: " + v4.reason);
  if (v6.status != CollectorStatus::ok && !v6.reason.empty()) reasons.push_back("IPv6: " + v6.reason);
  rep.reason = fmt::format("{}", fmt::join(reasons, "; "));
  return {rep, std::move(data)};
}

}  // namespace dfa
